"""Money arithmetic under random orders: staged billing always adds up to the cent."""

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from invoicing.services import _allocate, _split_gross
from oms import money

D = Decimal

cents = st.integers(min_value=1, max_value=10_000_000).map(lambda n: D(n) / 100)
rates = st.sampled_from([D("0"), D("5"), D("12.5"), D("17.5"), D("20")])


@given(gross=cents, rate=rates)
def test_split_gross_adds_up_exactly(gross, rate):
    net, tax = _split_gross(gross, rate)
    assert net + tax == gross
    assert tax >= 0 and net >= 0
    # Within a cent of what tax on the net would be: an accounting system agrees or is
    # told the line's tax.
    assert abs(tax - money.line_tax(net, rate)) <= D("0.01")


@given(
    total=cents,
    weights=st.dictionaries(rates, cents, min_size=1, max_size=4),
)
def test_allocate_sums_to_the_total_in_proportion(total, weights):
    shares = _allocate(total, weights)
    assert sum(shares.values()) == total
    whole = sum(weights.values())
    for key, share in shares.items():
        assert abs(share - total * weights[key] / whole) < D("0.01") * len(weights)


@pytest.mark.django_db
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    lines=st.lists(
        st.fixed_dictionaries(
            {
                "description": st.just("Item"),
                "quantity": st.sampled_from([D("1"), D("3"), D("0.5"), D("2.333")]),
                "unit_price": st.decimals(min_value=D("0.01"), max_value=D("999"), places=2),
                "discount_percent": st.sampled_from([D("0"), D("7.5")]),
                "tax_rate": rates,
            }
        ),
        min_size=1,
        max_size=4,
    ),
    percent=st.integers(min_value=1, max_value=90),
)
def test_deposit_and_final_equal_the_order_total(order_at, finance, lines, percent):
    from invoicing import services
    from orders.services import deliver_order

    order = order_at("in_progress", lines=lines)
    assume(money.to_money(order.net_total * percent / 100) > 0)  # else refused: nothing to bill
    deposit = services.approve_invoice(
        services.create_deposit_invoice(order, by=finance, percent=D(percent)), by=finance
    )
    order = deliver_order(order, by=None)
    final = services.draft_invoice_for_order(order)
    assert final.gross_total >= 0
    assert deposit.gross_total + final.gross_total == order.gross_total
    assert deposit.tax_total + final.tax_total == order.tax_total
    for line in deposit.lines.all():
        assert line.tax_amount == money.line_tax(line.net_amount, line.tax_rate)
