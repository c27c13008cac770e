"""Order-to-cash metrics against hand-computed values on a small fixed data set.

Every order is moved through the services at fixed moments (time-machine), so stage
timestamps, the timeline, quotes, invoices and payments are what the OMS really writes.
T is Monday 5 January 2026, 10:00 in London (GMT); D(n) is n days later.

    A  trade, Sally     enquiry D0, quote D1, accepted D3, started D4, delivered D8,
                        invoice issued D9 (14 Jan, 120.00), sent D10, paid D40 (14 Feb)
    B  retail, Sally    enquiry D0, quote D1, declined D2 (lost), reopened D5
    C  trade, Simon     enquiry D10, quote D11 (6,000.00), accepted D12, started D13, held
       (service)        D14, resumed D17, delivered D25, invoice issued D26 (31 Jan), sent
                        D30 (4 Feb), disputed D31
    D  trade, Sally     enquiry D0, quote D1 valid to D10, expired unanswered D20
    E  retail, Sally    before the period: enquiry 20 Dec, quote 21 Dec, accepted 22 Dec,
                        started 23 Dec; delivered 2 Jan 2026 (inside)
    F  trade, Sally     enquiry D2, confirmed without a quote D3, cancelled D6
    H  trade, Sally     enquiry 31 Mar 2026 23:30 London (BST): the period's last minutes
    G  trade, Sally     enquiry 1 Apr 2026 00:30 London: just after the period
"""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.cache import cache
from django.urls import reverse

from customers.models import Customer
from orders import metrics
from orders.metrics import MetricFilters
from orders.models import Order
from tests.factories import CustomerFactory, advance_order, line_data, place_order, send_new_quote

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
T = datetime(2026, 1, 5, 10, 0, tzinfo=LONDON)
PERIOD = MetricFilters(date_from=date(2026, 1, 1), date_to=date(2026, 3, 31))


@pytest.fixture(autouse=True)
def _figures_computed_each_time(settings):
    # Each test builds its own business; the cache has its own tests below.
    settings.METRICS_CACHE_SECONDS = 0


def D(days: float) -> datetime:
    return T + timedelta(days=days)


def _at(moment):
    return time_machine.travel(moment, tick=False)


def _fresh(order: Order) -> Order:
    order.refresh_from_db()
    return order


@pytest.fixture
def dataset(sales, other_sales, manager, finance):
    from invoicing.services import (
        approve_invoice,
        dispute_invoice,
        draft_invoice_for_order,
        record_payment,
        send_invoice,
    )
    from orders import services
    from quotes.services import accept_quote, decline_quote, expire_quote

    trade = CustomerFactory(name="Trade Co", segment=Customer.Segment.TRADE)
    retail = CustomerFactory(name="Retail Co", segment=Customer.Segment.RETAIL)
    big = [line_data(quantity=Decimal("1"), unit_price=Decimal("5000.00"))]
    orders, invoices = {}, {}

    def step(moment, action):
        with _at(moment):
            return action()

    # Before the period: E up to starting work.
    e = step(datetime(2025, 12, 20, 10, tzinfo=LONDON), lambda: place_order(sales, customer=retail))
    e_quote = step(datetime(2025, 12, 21, 10, tzinfo=LONDON), lambda: send_new_quote(e, sales))
    step(datetime(2025, 12, 22, 10, tzinfo=LONDON), lambda: accept_quote(e_quote, name="Eve"))
    step(
        datetime(2025, 12, 23, 10, tzinfo=LONDON),
        lambda: services.start_work(_fresh(e), by=manager),
    )
    step(
        datetime(2026, 1, 2, 10, tzinfo=LONDON),
        lambda: services.deliver_order(_fresh(e), by=manager, received_by="Eve"),
    )
    orders["E"] = e

    a = step(D(0), lambda: place_order(sales, customer=trade, title="A"))
    b = step(D(0), lambda: place_order(sales, customer=retail, title="B"))
    d = step(D(0), lambda: place_order(sales, customer=trade, title="D"))
    a_quote = step(D(1), lambda: send_new_quote(a, sales))
    b_quote = step(D(1), lambda: send_new_quote(b, sales))
    d_quote = step(D(1), lambda: send_new_quote(d, sales, valid_until=date(2026, 1, 15)))
    f = step(D(2), lambda: place_order(sales, customer=trade, title="F"))
    step(D(2), lambda: decline_quote(b_quote, reason="Too dear"))
    step(D(3), lambda: accept_quote(a_quote, name="Ann"))
    step(D(3), lambda: services.confirm_order(_fresh(f), by=sales))
    step(D(4), lambda: services.start_work(_fresh(a), by=manager))
    step(D(5), lambda: services.reopen_order(_fresh(b), by=sales))
    step(D(6), lambda: services.cancel_order(_fresh(f), by=manager, reason="Withdrawn"))
    step(D(8), lambda: services.deliver_order(_fresh(a), by=manager, received_by="Ann"))

    def issue(order):
        invoice = draft_invoice_for_order(_fresh(order), by=finance)
        return approve_invoice(invoice, by=finance)

    invoices["A"] = step(D(9), lambda: issue(a))
    invoices["A"] = step(D(10), lambda: send_invoice(invoices["A"], by=finance))
    c = step(
        D(10),
        lambda: place_order(
            other_sales, customer=trade, title="C", lines=big, kind=Order.Kind.SERVICE
        ),
    )
    c_quote = step(D(11), lambda: send_new_quote(c, other_sales))
    step(D(12), lambda: accept_quote(c_quote, name="Cat"))
    step(D(13), lambda: services.start_work(_fresh(c), by=manager))
    step(D(14), lambda: services.hold_order(_fresh(c), by=manager, reason="Parts"))
    step(D(17), lambda: services.resume_order(_fresh(c), by=manager))
    step(D(20), lambda: expire_quote(d_quote))
    step(D(25), lambda: services.deliver_order(_fresh(c), by=manager, received_by="Cat"))
    invoices["C"] = step(D(26), lambda: issue(c))
    invoices["C"] = step(D(30), lambda: send_invoice(invoices["C"], by=finance))
    step(D(31), lambda: dispute_invoice(invoices["C"], by=finance, reason="Wrong rate"))
    step(
        D(40),
        lambda: record_payment(
            invoices["A"], by=finance, amount=Decimal("120.00"), date=date(2026, 2, 14)
        ),
    )
    orders["H"] = step(
        datetime(2026, 3, 31, 23, 30, tzinfo=LONDON), lambda: place_order(sales, customer=trade)
    )
    orders["G"] = step(
        datetime(2026, 4, 1, 0, 30, tzinfo=LONDON), lambda: place_order(sales, customer=trade)
    )
    orders.update(A=_fresh(a), B=_fresh(b), C=_fresh(c), D=_fresh(d), E=_fresh(e), F=_fresh(f))
    return orders


def test_the_data_set_is_what_the_docstring_says(dataset):
    states = {name: order.status for name, order in dataset.items()}
    assert states == {
        "A": "paid",
        "B": "enquiry",
        "C": "invoiced",
        "D": "quoted",
        "E": "delivered",
        "F": "cancelled",
        "G": "enquiry",
        "H": "enquiry",
    }


# --- quote conversion ----------------------------------------------------------------------------


def test_quote_conversion_overall_and_by_segment_band_and_salesperson(dataset):
    result = metrics.quote_conversion(PERIOD)
    overall = result["overall"]
    # Decided in the period: A accepted, B declined, C accepted; D expired; E decided in Dec.
    assert (overall["decided"], overall["accepted"], overall["expired"]) == (3, 2, 1)
    assert overall["rate"] == Decimal("66.7")
    assert overall["accepted_value"] == Decimal("6120.00")

    def table(rows):
        return {
            row["label"]: (row["decided"], row["accepted"], row["rate"], row["expired"])
            for row in rows
        }

    assert table(result["by_segment"]) == {
        "Retail": (1, 0, Decimal("0.0"), 0),
        "Trade": (2, 2, Decimal("100.0"), 1),
    }
    assert table(result["by_band"]) == {
        "Under 1,000": (2, 1, Decimal("50.0"), 1),
        "5,000 to 20,000": (1, 1, Decimal("100.0"), 0),
    }
    assert table(result["by_owner"]) == {
        "Sally": (2, 1, Decimal("50.0"), 1),
        "Simon": (1, 1, Decimal("100.0"), 0),
    }


def test_value_bands_come_from_the_setting(dataset, settings):
    settings.METRICS_VALUE_BANDS = ["100", "10000"]
    bands = {row["label"]: row["decided"] for row in metrics.quote_conversion(PERIOD)["by_band"]}
    assert bands == {"100 to 10,000": 3}
    assert metrics.band_labels(metrics.value_bands()) == [
        "Under 100",
        "100 to 10,000",
        "10,000 and over",
    ]


def test_quote_decided_just_outside_the_range_is_left_out(dataset):
    # B was declined on 7 Jan (D2), A accepted on 8 Jan (D3).
    first_week = MetricFilters(date_from=date(2026, 1, 1), date_to=date(2026, 1, 7))
    overall = metrics.quote_conversion(first_week)["overall"]
    assert (overall["decided"], overall["accepted"], overall["rate"]) == (1, 0, Decimal("0.0"))


# --- cycle times ---------------------------------------------------------------------------------


def test_fulfilment_median_and_90th_percentile(dataset):
    fulfilment = metrics.cycle_times(PERIOD)["fulfilment"]
    # Delivered in the period: A 5 days, E 11 days (confirmed in December), C 13 days.
    # p90 of [5, 11, 13] = 11 + 0.8 x (13 - 11) = 12.6.
    assert fulfilment == {
        "count": 3,
        "median": Decimal("11.0"),
        "p90": Decimal("12.6"),
        "average": Decimal("9.7"),
    }


def test_order_to_cash_from_enquiry_and_from_confirmation(dataset):
    cycle = metrics.cycle_times(PERIOD)
    assert cycle["enquiry_to_paid"] == {
        "count": 1,
        "median": Decimal("40.0"),
        "p90": Decimal("40.0"),
        "average": Decimal("40.0"),
    }
    assert cycle["confirmed_to_paid"]["median"] == Decimal("37.0")


def test_invoicing_lag_from_delivery_to_invoice_sent(dataset):
    # A: delivered D8, sent D10 (2 days); C: delivered D25, sent D30 (5 days).
    assert metrics.invoicing_lag(PERIOD) == {
        "count": 2,
        "median": Decimal("3.5"),
        "p90": Decimal("4.7"),
        "average": Decimal("3.5"),
    }


def test_cycle_times_count_orders_by_the_date_the_cycle_ended(dataset):
    # 14 to 31 January: only C was delivered (30 Jan); only A's invoice was sent (15 Jan).
    middle = MetricFilters(date_from=date(2026, 1, 14), date_to=date(2026, 1, 31))
    assert metrics.cycle_times(middle)["fulfilment"]["count"] == 1
    assert metrics.cycle_times(middle)["fulfilment"]["median"] == Decimal("13.0")
    assert metrics.cycle_times(middle)["enquiry_to_paid"]["count"] == 0
    assert metrics.invoicing_lag(middle)["median"] == Decimal("2.0")


# --- time in stage -------------------------------------------------------------------------------


def test_time_in_each_stage_from_the_timeline(dataset):
    stays = {row["stage"]: row for row in metrics.time_in_stage(PERIOD)}
    summary = {
        stage: (row["count"], row["median"], row["p90"], row["average"], row["total_days"])
        for stage, row in stays.items()
    }
    assert summary == {
        # A, B, C, D, F left enquiry after a day each (E left it in December).
        "enquiry": (5, Decimal("1.0"), Decimal("1.0"), Decimal("1.0"), Decimal("5.0")),
        # A 2 days, B 1, C 1; D's quote is still open.
        "quoted": (3, Decimal("1.0"), Decimal("1.8"), Decimal("1.3"), Decimal("4.0")),
        # A 1, C 1, F 3 (confirmed until cancelled).
        "confirmed": (3, Decimal("1.0"), Decimal("2.6"), Decimal("1.7"), Decimal("5.0")),
        # A 4, C 1 before the hold and 8 after, E 10 (started in December, ended 2 Jan).
        "in_progress": (4, Decimal("6.0"), Decimal("9.4"), Decimal("5.8"), Decimal("23.0")),
        "on_hold": (1, Decimal("3.0"), Decimal("3.0"), Decimal("3.0"), Decimal("3.0")),
        "delivered": (2, Decimal("1.0"), Decimal("1.0"), Decimal("1.0"), Decimal("2.0")),
        "invoiced": (1, Decimal("31.0"), Decimal("31.0"), Decimal("31.0"), Decimal("31.0")),
        "lost": (1, Decimal("3.0"), Decimal("3.0"), Decimal("3.0"), Decimal("3.0")),
    }
    # In lifecycle order, for the bar chart.
    assert list(stays) == [
        "enquiry",
        "quoted",
        "confirmed",
        "in_progress",
        "on_hold",
        "delivered",
        "invoiced",
        "lost",
    ]


def test_a_stay_counts_in_the_period_it_ended(dataset):
    # Before 2026 only E's stays ended: enquiry, quoted and confirmed, a day each.
    december = MetricFilters(date_from=date(2025, 12, 1), date_to=date(2025, 12, 31))
    stays = {row["stage"]: row["count"] for row in metrics.time_in_stage(december)}
    assert stays == {"enquiry": 1, "quoted": 1, "confirmed": 1}


# --- receivables ---------------------------------------------------------------------------------


def test_dso_and_days_to_pay_by_month(dataset):
    trend = metrics.receivables_trend(PERIOD)
    months = {
        row["month"].month: (
            row["invoiced"],
            row["receivable"],
            row["dso"],
            row["settled"],
            row["average_days_to_pay"],
        )
        for row in trend["months"]
    }
    assert months == {
        # A (120.00) and C (6,000.00) issued in January, nothing paid: DSO 6120/6120 x 31.
        1: (Decimal("6120.00"), Decimal("6120.00"), Decimal("31.0"), 0, None),
        # A paid 14 Feb, 31 days after its 14 Jan issue; nothing invoiced, so no DSO.
        2: (Decimal("0.00"), Decimal("6000.00"), None, 1, Decimal("31.0")),
        3: (Decimal("0.00"), Decimal("6000.00"), None, 0, None),
    }
    total = trend["total"]
    # 6000 / 6120 x 90 days = 88.2.
    assert (total["invoiced"], total["receivable"], total["dso"]) == (
        Decimal("6120.00"),
        Decimal("6000.00"),
        Decimal("88.2"),
    )
    assert (total["settled"], total["average_days_to_pay"], total["days"]) == (
        1,
        Decimal("31.0"),
        90,
    )


def test_receivables_carry_the_balance_from_before_the_period(dataset):
    february = MetricFilters(date_from=date(2026, 2, 1), date_to=date(2026, 2, 28))
    total = metrics.receivables_trend(february)["total"]
    assert (total["invoiced"], total["receivable"], total["dso"]) == (
        Decimal("0.00"),
        Decimal("6000.00"),
        None,
    )
    assert total["average_days_to_pay"] == Decimal("31.0")


def test_a_partial_month_counts_only_its_days_in_the_range(dataset):
    part = MetricFilters(date_from=date(2026, 1, 20), date_to=date(2026, 2, 10))
    months = metrics.receivables_trend(part)["months"]
    assert [(row["first_day"], row["last_day"], row["invoiced"]) for row in months] == [
        (date(2026, 1, 20), date(2026, 1, 31), Decimal("6000.00")),
        (date(2026, 2, 1), date(2026, 2, 10), Decimal("0.00")),
    ]
    # 6120 owing at 31 Jan over 6000 invoiced in 12 days.
    assert months[0]["dso"] == Decimal("12.2")


def test_credit_notes_reduce_receivables_and_spoil_accuracy(dataset, finance):
    from invoicing.models import Invoice
    from invoicing.services import create_credit_note

    invoice = Invoice.objects.get(order=dataset["C"], kind="final")
    with _at(D(35)):  # 9 Feb
        create_credit_note(invoice, by=finance, reason="Rate", amount=Decimal("600.00"))
    trend = metrics.receivables_trend(PERIOD)
    assert [row["receivable"] for row in trend["months"]] == [
        Decimal("6120.00"),
        Decimal("5400.00"),
        Decimal("5400.00"),
    ]
    accuracy = metrics.invoice_accuracy(PERIOD)
    assert (accuracy["issued"], accuracy["credited"], accuracy["accurate"]) == (2, 1, 1)


# --- invoice accuracy ----------------------------------------------------------------------------


def test_invoice_accuracy_leaves_out_disputed_invoices(dataset):
    accuracy = metrics.invoice_accuracy(PERIOD)
    assert accuracy == {
        "issued": 2,
        "disputed": 1,
        "credited": 0,
        "accurate": 1,
        "rate": Decimal("50.0"),
    }


def test_a_resolved_dispute_still_counts_against_accuracy(dataset, finance):
    from invoicing.models import Invoice
    from invoicing.services import resolve_dispute

    with _at(D(33)):
        resolve_dispute(Invoice.objects.get(order=dataset["C"]), by=finance, resolution="Agreed")
    assert metrics.invoice_accuracy(PERIOD)["accurate"] == 1


# --- the enquiry cohort: funnel and exceptions ---------------------------------------------------


def test_funnel_of_the_enquiries_captured_in_the_period(dataset):
    cohort = metrics.enquiry_cohort(PERIOD)
    # A, B, C, D, F, H (H 23:30 on 31 Mar, BST); not E (December) nor G (1 Apr 00:30).
    assert cohort["orders"] == 6
    assert {row["key"]: row["count"] for row in cohort["funnel"]} == {
        "enquiries": 6,
        "quoted": 5,  # F was confirmed without a quote
        "confirmed": 3,
        "delivered": 2,
        "invoiced": 2,
        "paid": 1,
    }
    assert cohort["funnel"][-1]["share"] == Decimal("16.7")


def test_exception_frequency_by_kind(dataset):
    cohort = metrics.enquiry_cohort(PERIOD)
    assert {row["key"]: row["count"] for row in cohort["exceptions"]} == {
        "hold": 1,  # C
        "rework": 0,
        "change_request": 0,
        "cancel": 1,  # F
        "reopen": 1,  # B
        "correction": 0,
    }
    assert (cohort["with_exception"], cohort["exception_rate"]) == (3, Decimal("50.0"))


def test_rework_change_request_and_correction_are_exceptions(sales, manager, finance):
    from invoicing.services import approve_invoice, create_credit_note, draft_invoice_for_order
    from orders import services

    with _at(D(0)):
        reworked = advance_order(place_order(sales), "delivered", by=manager)
        services.rework_order(reworked, by=manager, reason="Scratched")
        changed = advance_order(place_order(sales), "confirmed", by=manager)
        services.create_change_request(
            changed, by=manager, reason="Extra widget", lines=[line_data(quantity=Decimal("3"))]
        )
        corrected = advance_order(place_order(sales), "delivered", by=manager)
        invoice = approve_invoice(draft_invoice_for_order(corrected, by=finance), by=finance)
        create_credit_note(invoice, by=finance, reason="Overcharged", amount=Decimal("10.00"))
        place_order(sales)  # plain enquiry: no exception
    cohort = metrics.enquiry_cohort(PERIOD)
    counts = {row["key"]: row["count"] for row in cohort["exceptions"]}
    assert (counts["rework"], counts["change_request"], counts["correction"]) == (1, 1, 1)
    assert (cohort["orders"], cohort["with_exception"]) == (4, 3)


def test_cohort_boundary_is_midnight_in_business_time(dataset):
    last_day = MetricFilters(date_from=date(2026, 3, 31), date_to=date(2026, 3, 31))
    first_day = MetricFilters(date_from=date(2026, 4, 1), date_to=date(2026, 4, 1))
    assert metrics.enquiry_cohort(last_day)["orders"] == 1  # H
    assert metrics.enquiry_cohort(first_day)["orders"] == 1  # G


# --- filters -------------------------------------------------------------------------------------


def test_filters_narrow_every_metric(dataset, other_sales):
    retail = MetricFilters(PERIOD.date_from, PERIOD.date_to, segment="retail")
    assert metrics.quote_conversion(retail)["overall"]["decided"] == 1  # B
    assert metrics.enquiry_cohort(retail)["orders"] == 1  # B
    assert metrics.cycle_times(retail)["fulfilment"]["count"] == 1  # E
    assert metrics.invoice_accuracy(retail)["issued"] == 0

    simon = MetricFilters(PERIOD.date_from, PERIOD.date_to, owner_id=other_sales.pk)
    assert metrics.invoicing_lag(simon)["median"] == Decimal("5.0")
    assert metrics.receivables_trend(simon)["total"]["invoiced"] == Decimal("6000.00")
    assert {row["stage"] for row in metrics.time_in_stage(simon)} == {
        "enquiry",
        "quoted",
        "confirmed",
        "in_progress",
        "on_hold",
        "delivered",
    }

    service = MetricFilters(PERIOD.date_from, PERIOD.date_to, kind="service")
    assert metrics.invoice_accuracy(service)["disputed"] == 1
    assert metrics.quote_conversion(service)["overall"]["accepted"] == 1


# --- working capital -----------------------------------------------------------------------------


def test_working_capital_freed_by_shorter_dso_and_lag(dataset):
    capital = metrics.working_capital(
        metrics.receivables_trend(PERIOD),
        metrics.invoicing_lag(PERIOD),
        dso_reduction=Decimal("5"),
        lag_reduction=Decimal("2"),
    )
    # Run-rate: 6,120.00 invoiced over 90 days = 68.00 a day.
    assert capital["run_rate"] == Decimal("68.00")
    assert capital["freed_by_dso"] == Decimal("340.00")
    assert capital["freed_by_lag"] == Decimal("136.00")
    assert capital["freed_total"] == Decimal("476.00")


# --- edge cases: no data, a single order ---------------------------------------------------------


def test_no_data_gives_empty_figures_not_errors(db):
    assert metrics.quote_conversion(PERIOD)["overall"]["rate"] is None
    assert metrics.quote_conversion(PERIOD)["by_segment"] == []
    assert metrics.cycle_times(PERIOD)["fulfilment"] == {
        "count": 0,
        "median": None,
        "p90": None,
        "average": None,
    }
    assert metrics.invoicing_lag(PERIOD)["count"] == 0
    assert metrics.time_in_stage(PERIOD) == []
    trend = metrics.receivables_trend(PERIOD)
    assert len(trend["months"]) == 3
    assert trend["total"]["dso"] is None and trend["total"]["receivable"] == Decimal("0.00")
    assert metrics.invoice_accuracy(PERIOD)["rate"] is None
    cohort = metrics.enquiry_cohort(PERIOD)
    assert cohort["orders"] == 0 and cohort["exception_rate"] is None
    capital = metrics.working_capital(
        trend, metrics.invoicing_lag(PERIOD), dso_reduction=Decimal("5"), lag_reduction=Decimal(0)
    )
    assert capital["run_rate"] == Decimal("0.00") and capital["freed_total"] == Decimal("0.00")


def test_a_single_order_through_to_payment(sales, manager, finance):
    from invoicing.services import (
        approve_invoice,
        draft_invoice_for_order,
        record_payment,
        send_invoice,
    )
    from orders import services

    with _at(D(0)):
        order = place_order(sales)
    with _at(D(1)):
        order = advance_order(order, "confirmed", by=manager)
    with _at(D(3)):
        services.start_work(order, by=manager)
    with _at(D(6)):
        services.deliver_order(_fresh(order), by=manager, received_by="Site")
    with _at(D(7)):
        invoice = approve_invoice(draft_invoice_for_order(_fresh(order), by=finance), by=finance)
        invoice = send_invoice(invoice, by=finance)
    with _at(D(17)):
        record_payment(invoice, by=finance, amount=Decimal("120.00"))
    cycle = metrics.cycle_times(PERIOD)
    assert cycle["fulfilment"]["median"] == cycle["fulfilment"]["p90"] == Decimal("5.0")
    assert cycle["enquiry_to_paid"]["median"] == Decimal("17.0")
    assert cycle["confirmed_to_paid"]["median"] == Decimal("16.0")
    assert metrics.invoicing_lag(PERIOD)["median"] == Decimal("1.0")
    trend = metrics.receivables_trend(PERIOD)["total"]
    assert (trend["receivable"], trend["dso"], trend["average_days_to_pay"]) == (
        Decimal("0.00"),
        Decimal("0.0"),
        Decimal("10.0"),
    )
    assert metrics.enquiry_cohort(PERIOD)["with_exception"] == 0


# --- the page ------------------------------------------------------------------------------------


def _url(**params) -> str:
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return reverse("orders:metrics") + (f"?{query}" if query else "")


PERIOD_PARAMS = {"date_from": "2026-01-01", "date_to": "2026-03-31"}


def test_page_shows_each_metric_with_its_definition(client, manager, dataset):
    client.force_login(manager)
    response = client.get(_url(**PERIOD_PARAMS))
    assert response.status_code == 200
    html = response.content.decode()
    for section in (
        "conversion",
        "funnel",
        "cycle-times",
        "stages",
        "receivables",
        "accuracy",
        "exceptions",
        "working-capital",
    ):
        assert f'id="metric-{section}"' in html
        assert reverse("orders:metrics_export", args=[section]) in html
    assert html.count("Definition") >= 6
    assert 'data-metric="conversion">66.7%' in html
    assert 'data-metric="dso">88.2 d' in html
    assert 'data-metric="run-rate">68.00' in html
    assert html.count("<svg") == 3
    assert "style=" not in html and "<script>" not in html


def test_page_defaults_to_the_last_twelve_months(client, manager):
    client.force_login(manager)
    with _at(datetime(2026, 5, 20, 12, tzinfo=LONDON)):
        response = client.get(_url())
    assert response.status_code == 200
    assert response.context["filters"].date_from == date(2025, 6, 1)
    assert response.context["filters"].date_to == date(2026, 5, 20)
    assert len(response.context["receivables"]["months"]) == 12


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"date_from": "2026-13-01"}, "From: Enter a valid date."),
        ({"date_from": "2026-03-01", "date_to": "2026-01-01"}, "on or before the end date"),
        ({"date_from": "2000-01-01", "date_to": "2026-01-01"}, "at most five years"),
        ({"date_from": "9999-12-30", "date_to": "9999-12-31"}, "Choose dates between"),
        ({"date_from": "0001-01-01", "date_to": "0001-01-02"}, "Choose dates between"),
        ({"customer_type": "pirates"}, "Customer type: Select a valid choice."),
        ({"salesperson": "999999"}, "Salesperson: Select a valid choice."),
        ({"salesperson": "abc"}, "Salesperson: Select a valid choice."),
        ({"salesperson": "99999999999999999999999"}, "Salesperson: Select a valid choice."),
        ({"dso_reduction": "NaN"}, "Days off DSO: Enter a number."),
        ({"order_type": "x"}, "Order type: Select a valid choice."),
        ({"dso_reduction": "-3"}, "Days off DSO: Ensure this value is greater than"),
        ({"lag_reduction": "lots"}, "Days off invoicing lag: Enter a number."),
    ],
)
def test_bad_filters_get_a_clear_message_and_a_400(client, manager, params, message):
    client.force_login(manager)
    response = client.get(_url(**params))
    assert response.status_code == 400
    assert message in response.content.decode()
    export = client.get(reverse("orders:metrics_export", args=["funnel"]), params)
    assert export.status_code == 400
    assert message in export.content.decode()


def test_filters_on_the_page(client, manager, other_sales, dataset):
    client.force_login(manager)
    response = client.get(_url(**PERIOD_PARAMS, salesperson=other_sales.pk, order_type="service"))
    assert response.status_code == 200
    assert response.context["conversion"]["overall"]["decided"] == 1
    assert response.context["lag"]["median"] == Decimal("5.0")


def test_working_capital_reduction_is_a_form_input(client, manager, dataset):
    client.force_login(manager)
    response = client.get(_url(**PERIOD_PARAMS, dso_reduction="10", lag_reduction="0.5"))
    capital = response.context["capital"]
    assert (capital["freed_by_dso"], capital["freed_by_lag"]) == (
        Decimal("680.00"),
        Decimal("34.00"),
    )


def test_htmx_request_gets_the_results_partial(client, manager, dataset):
    client.force_login(manager)
    response = client.get(
        _url(**PERIOD_PARAMS, partial="metrics-results"), headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="metrics-results">')
    assert "<form" not in html


@pytest.mark.parametrize(
    ("table", "header", "row"),
    [
        ("conversion", "Segment,Group,Decided", 'Value band,"5,000 to 20,000",1,1,0,100.0'),
        ("funnel", "Stage reached,Orders", "Paid,1,16.7"),
        (
            "cycle-times",
            "Measure,Orders,Median days",
            "Fulfilment: confirmed to delivered,3,11.0,12.6,9.7",
        ),
        ("stages", "Stage,Stays ended", "On hold,1,3.0,3.0,3.0,3.0"),
        (
            "receivables",
            "Month,From,To,Invoiced",
            "2026-01,2026-01-01,2026-01-31,6120.00,6120.00,31.0,0,",
        ),
        ("accuracy", "Invoices issued", "2,1,0,1,50.0"),
        ("exceptions", "Exception,Orders", "Any exception,3,50.0"),
        (
            "working-capital",
            "Invoiced in period",
            "6120.00,90,68.00,88.2,3.5,5,340.00,2,136.00,476.00",
        ),
    ],
)
def test_every_table_exports_to_csv_with_the_same_filters(
    client, manager, dataset, table, header, row
):
    client.force_login(manager)
    response = client.get(reverse("orders:metrics_export", args=[table]), PERIOD_PARAMS)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert f"{table}-2026-01-01-to-2026-03-31.csv" in response["Content-Disposition"]
    text = response.content.decode()
    assert text.startswith(header)
    assert row in text


def test_unknown_export_is_404(client, manager):
    client.force_login(manager)
    assert client.get(reverse("orders:metrics_export", args=["salaries"])).status_code == 404


def test_metrics_are_in_the_managers_menu_only(client, manager, sales):
    client.force_login(manager)
    assert reverse("orders:metrics") in client.get(reverse("accounts:home")).content.decode()
    client.force_login(sales)
    assert reverse("orders:metrics") not in client.get(reverse("accounts:home")).content.decode()


def _business(sales, manager, finance, orders: int) -> None:
    """`orders` orders: a tenth invoiced and paid, a tenth delivered, the rest quoted."""
    from invoicing.services import approve_invoice, draft_invoice_for_order, record_payment

    for index in range(orders):
        order = place_order(sales)
        if index % 10 == 0:
            order = advance_order(order, "delivered", by=manager)
            invoice = approve_invoice(draft_invoice_for_order(order, by=finance), by=finance)
            record_payment(invoice, by=finance, amount=invoice.gross_total)
        elif index % 10 == 1:
            advance_order(order, "delivered", by=manager)
        else:
            send_new_quote(order, sales)


def test_page_query_count_does_not_grow_with_the_data(
    client, manager, sales, finance, django_assert_max_num_queries
):
    client.force_login(manager)
    url = _url(**PERIOD_PARAMS)
    with _at(D(1)):
        _business(sales, manager, finance, 10)
        client.get(url)  # warm the session and content types
        # Session, user, salespeople for the filter, and one query per metric.
        with django_assert_max_num_queries(11) as at_10:
            assert client.get(url).status_code == 200
        _business(sales, manager, finance, 90)
        with django_assert_max_num_queries(len(at_10.captured_queries)):
            response = client.get(url)
    assert response.status_code == 200
    assert response.context["cohort"]["orders"] == 100
    assert response.context["cohort"]["funnel"][-1]["count"] == 10


def test_figures_are_kept_for_the_configured_time(client, manager, sales, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.METRICS_CACHE_SECONDS = 300
    client.force_login(manager)
    # A range of its own (the cache is shared), with the business set in it.
    url = _url(date_from="2026-01-05", date_to="2026-01-09")
    cache.delete(metrics._cache_key(MetricFilters(date(2026, 1, 5), date(2026, 1, 9))))
    with _at(D(1)):
        place_order(sales)
        with CaptureQueriesContext(connection) as computed:
            assert client.get(url).context["cohort"]["orders"] == 1
        place_order(sales)
        # Within five minutes the kept figures are shown, without the seven metric queries,
        # with the time they were computed.
        with CaptureQueriesContext(connection) as kept:
            response = client.get(url)
        assert len(kept) == len(computed) - 7
        assert response.context["cohort"]["orders"] == 1
        assert "Figures as of 10:00" in response.content.decode()
    key = metrics._cache_key(MetricFilters(date(2026, 1, 5), date(2026, 1, 9)))
    with _at(D(1) + timedelta(seconds=301)):
        # Stale now: while another view is computing them, the kept figures still show.
        cache.add(f"{key}:computing", True)
        assert client.get(url).context["cohort"]["orders"] == 1
        cache.delete(f"{key}:computing")
        assert client.get(url).context["cohort"]["orders"] == 2
        assert cache.get(f"{key}:computing") is None
