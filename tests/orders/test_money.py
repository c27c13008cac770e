"""Money is Decimal, rounded half up to the penny, tax per line as Xero does; order totals
are the sums of their lines to the cent."""

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oms import money
from orders.services import set_order_lines
from tests.factories import place_order

quantities = st.decimals(
    min_value=Decimal("0.001"), max_value=Decimal("100000"), places=3, allow_nan=False
)
prices = st.decimals(min_value=Decimal("0"), max_value=Decimal("99999.99"), places=2)
discounts = st.decimals(min_value=Decimal("0"), max_value=Decimal("100"), places=2)
tax_rates = st.one_of(
    st.sampled_from([Decimal("0"), Decimal("5"), Decimal("12.5"), Decimal("20")]),
    st.decimals(min_value=Decimal("0"), max_value=Decimal("50"), places=2),
)


def half_up(value: Fraction) -> Decimal:
    """Exact rational arithmetic, then half up to the penny: the reference for Xero."""
    cents = value * 100
    whole, rest = divmod(abs(cents.numerator), cents.denominator)
    if 2 * rest >= cents.denominator:
        whole += 1
    sign = -1 if cents < 0 else 1
    return (Decimal(sign * whole) / 100).quantize(Decimal("0.01"))


@settings(deadline=None)
@given(st.decimals(min_value=Decimal("-1e9"), max_value=Decimal("1e9"), places=6))
def test_to_money_rounds_half_up_to_the_penny(value):
    rounded = money.to_money(value)
    assert isinstance(rounded, Decimal)
    assert rounded.as_tuple().exponent == -2
    assert rounded == value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert abs(rounded - value) <= Decimal("0.005")


def test_halves_round_away_from_zero():
    assert money.to_money(Decimal("0.125")) == Decimal("0.13")
    assert money.to_money(Decimal("2.675")) == Decimal("2.68")
    assert money.to_money(Decimal("-0.125")) == Decimal("-0.13")


@settings(deadline=None, max_examples=300)
@given(quantities, prices, discounts, tax_rates)
def test_line_amounts_match_exact_arithmetic_rounded_half_up(quantity, price, discount, rate):
    net = money.line_net(quantity, price, discount)
    exact_net = Fraction(quantity) * Fraction(price) * (100 - Fraction(discount)) / 100
    assert net == half_up(exact_net)
    tax = money.line_tax(net, rate)
    assert tax == half_up(Fraction(net) * Fraction(rate) / 100)
    assert net >= 0
    assert tax >= 0


@pytest.mark.django_db
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.lists(
        st.tuples(
            st.decimals(min_value=Decimal("0.001"), max_value=Decimal("999"), places=3),
            st.decimals(min_value=Decimal("0"), max_value=Decimal("9999.99"), places=2),
            discounts,
            tax_rates,
        ),
        min_size=1,
        max_size=8,
    )
)
def test_order_totals_are_the_sums_of_rounded_lines(sales, lines):
    order = place_order(sales, lines=[])
    order = set_order_lines(
        order,
        [
            {
                "description": f"Line {i}",
                "quantity": quantity,
                "unit_price": price,
                "discount_percent": discount,
                "tax_rate": rate,
            }
            for i, (quantity, price, discount, rate) in enumerate(lines)
        ],
        by=sales,
    )
    order.refresh_from_db()
    stored = list(order.lines.all())
    for line, (quantity, price, discount, rate) in zip(stored, lines, strict=True):
        assert line.net_amount == money.line_net(quantity, price, discount)
        assert line.tax_amount == money.line_tax(line.net_amount, rate)
    assert all(isinstance(v, Decimal) for v in (order.net_total, order.tax_total))
    assert order.net_total == sum(line.net_amount for line in stored)
    # Tax per line, then summed (as Xero does), not tax on the total.
    assert order.tax_total == sum(line.tax_amount for line in stored)
    assert order.gross_total == order.net_total + order.tax_total
    assert order.gross_total.as_tuple().exponent == -2


@pytest.mark.django_db
def test_tax_per_line_can_differ_from_tax_on_the_total(sales):
    # Three lines of 0.05 at 10%: 0.005 each rounds up to 0.01 per line, so 0.03 in all,
    # where tax on the 0.15 total would be 0.02. Xero rounds per line; so do we.
    order = place_order(
        sales,
        lines=[
            {"description": "x", "quantity": 1, "unit_price": "0.05", "tax_rate": 10}
            for _ in range(3)
        ],
    )
    assert order.net_total == Decimal("0.15")
    assert order.tax_total == Decimal("0.03")
    assert order.gross_total == Decimal("0.18")
