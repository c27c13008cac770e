"""Money arithmetic: Decimal only, rounded half up to the minor unit, tax per line (as Xero)."""

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal("100")


def to_money(value: Decimal | int | str) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def line_net(quantity: Decimal, unit_price: Decimal, discount_percent: Decimal) -> Decimal:
    gross_before_discount = Decimal(quantity) * Decimal(unit_price)
    return to_money(gross_before_discount * (HUNDRED - Decimal(discount_percent)) / HUNDRED)


def line_tax(net: Decimal, tax_rate_percent: Decimal) -> Decimal:
    return to_money(Decimal(net) * Decimal(tax_rate_percent) / HUNDRED)
