import re
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from quotes.queries import compare_lines, quotes_awaiting_response
from quotes.services import pause_quote_followups
from tests.conftest import PASSWORD
from tests.factories import CustomerFactory, line_data, place_order, send_new_quote

pytestmark = pytest.mark.django_db


def _login(client, user):
    assert client.login(request=HttpRequest(), email=user.email, password=PASSWORD)


def _quote(by, *, days_ago=0, price="50.00", customer=None):
    with time_machine.travel(timezone.now() - timedelta(days=days_ago)):
        order = place_order(by, customer=customer, lines=[line_data(unit_price=Decimal(price))])
        return send_new_quote(order, by)


def test_awaiting_lists_sent_quotes_only(sales):
    sent = _quote(sales)
    place_order(sales)  # an enquiry without a quote
    answered = _quote(sales)
    from quotes.services import decline_quote

    decline_quote(answered, by=sales, reason="No")

    assert [q.pk for q in quotes_awaiting_response(sales)] == [sent.pk]


def test_followup_stage_next_date_and_decision(sales):
    fresh = _quote(sales, days_ago=1)
    day4 = _quote(sales, days_ago=4)
    day15 = _quote(sales, days_ago=15)

    rows = {q.pk: q for q in quotes_awaiting_response(sales)}

    today = timezone.localdate()
    assert (rows[fresh.pk].stage, rows[fresh.pk].next_followup) == (0, today + timedelta(days=2))
    assert (rows[day4.pk].stage, rows[day4.pk].next_followup) == (3, today + timedelta(days=3))
    assert rows[day4.pk].age_days == 4
    assert (rows[day15.pk].stage, rows[day15.pk].next_followup) == (14, None)
    assert rows[day15.pk].decision_needed is True
    assert rows[day4.pk].decision_needed is False


def _rule(days: int):
    from oms.automation.models import Rule

    return Rule.objects.create(
        name=f"Test follow-up day {days}",
        sequence=Rule.Sequence.QUOTE_FOLLOWUP,
        trigger=Rule.Trigger.DATE,
        anchor=Rule.Anchor.QUOTE_SENT,
        offset_days=days,
        recipient=Rule.Recipient.CUSTOMER,
        subject_template="Checking in",
        body_template="Hello",
    )


def test_followups_read_from_the_automation_sequence(sales):
    from oms.automation.models import QueueFlag, Rule, ScheduledAction

    quote = _quote(sales, days_ago=2)
    due = timezone.now() + timedelta(days=9)
    common = {"subject_type": "quotes.quote", "subject_id": quote.pk, "order": quote.order}
    ScheduledAction.objects.create(
        rule=_rule(4), due_at=timezone.now(), status=ScheduledAction.Status.SENT, **common
    )
    ScheduledAction.objects.create(rule=_rule(11), due_at=due, **common)
    QueueFlag.objects.create(kind=Rule.Flag.DECISION_NEEDED, **common)

    (row,) = quotes_awaiting_response(sales)

    assert row.stage == 4
    assert row.next_followup == timezone.localtime(due).date()
    assert row.decision_needed is True


def test_paused_followups_have_no_next_date(sales):
    quote = _quote(sales, days_ago=1)
    pause_quote_followups(quote, by=sales)

    (row,) = quotes_awaiting_response(sales)

    assert row.followups_paused is True
    assert row.next_followup is None


def test_filter_by_owner_age_and_value(manager, sales, other_sales):
    old_cheap = _quote(sales, days_ago=10, price="10.00")
    new_dear = _quote(other_sales, days_ago=1, price="900.00")

    by_owner = quotes_awaiting_response(manager, owner_id=other_sales.pk)
    by_age = quotes_awaiting_response(manager, min_age_days=5)
    by_value = quotes_awaiting_response(manager, min_value=Decimal("500"))

    assert [q.pk for q in by_owner] == [new_dear.pk]
    assert [q.pk for q in by_age] == [old_cheap.pk]
    assert [q.pk for q in by_value] == [new_dear.pk]


def test_sort_by_age_and_value(manager, sales):
    old_cheap = _quote(sales, days_ago=10, price="10.00")
    new_dear = _quote(sales, days_ago=1, price="900.00")

    assert [q.pk for q in quotes_awaiting_response(manager, sort="age")] == [
        old_cheap.pk,
        new_dear.pk,
    ]
    assert [q.pk for q in quotes_awaiting_response(manager, sort="-value")] == [
        new_dear.pk,
        old_cheap.pk,
    ]


def test_salespeople_see_only_their_own_quotes(sales, other_sales):
    mine = _quote(sales)
    _quote(other_sales)

    assert [q.pk for q in quotes_awaiting_response(sales)] == [mine.pk]


def test_awaiting_page_marks_decision_needed(client, sales):
    late = _quote(sales, days_ago=15)
    _quote(sales, days_ago=2)
    _login(client, sales)

    body = client.get(reverse("quotes:awaiting")).content.decode()

    assert body.count("Decision needed") == 1
    assert f'id="quote-{late.pk}" class="is-late decision-needed"' in body


def test_awaiting_page_filters_through_htmx(client, sales):
    _quote(sales, days_ago=1, price="10.00")
    dear = _quote(sales, days_ago=1, price="900.00")
    _login(client, sales)

    response = client.get(reverse("quotes:awaiting"), {"min_value": "500"}, HTTP_HX_REQUEST="true")

    body = response.content.decode()
    assert body.lstrip().startswith('<div id="awaiting-table"')
    assert body.count('<tr id="quote-') == 1
    assert dear.reference in body


def test_awaiting_page_refused_to_operations(client, operations):
    _login(client, operations)

    assert client.get(reverse("quotes:awaiting")).status_code == 403


@pytest.mark.parametrize("rows", [10, 120])
def test_awaiting_queue_query_count_is_constant(
    client, manager, sales, other_sales, rows, django_assert_max_num_queries
):
    customer = CustomerFactory()
    for i in range(rows):
        _quote(sales if i % 2 else other_sales, days_ago=i % 20, customer=customer)
    _login(client, manager)

    # session, user, roles, owners, the total, the page count and rows, follow-up state
    with django_assert_max_num_queries(11):
        response = client.get(reverse("quotes:awaiting"))

    assert response.content.count(b'<tr id="quote-') == min(rows, 50)


def _queries_for_awaiting_page(client, django_assert_max_num_queries) -> int:
    with django_assert_max_num_queries(11) as captured:
        client.get(reverse("quotes:awaiting"), {"page": "1"})
    return len(captured.captured_queries)


def test_awaiting_page_costs_the_same_queries_for_ten_or_a_hundred_and_twenty(
    client, sales, django_assert_max_num_queries
):
    customer = CustomerFactory()
    for _ in range(10):
        _quote(sales, customer=customer)
    _login(client, sales)
    client.get(reverse("quotes:awaiting"))  # warm the session
    few = _queries_for_awaiting_page(client, django_assert_max_num_queries)
    for _ in range(110):
        _quote(sales, customer=customer)

    many = _queries_for_awaiting_page(client, django_assert_max_num_queries)

    assert few == many


def _rows(body: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<tr id="quote-(\d+)"', body)]


def test_awaiting_pages_fifty_quotes_and_counts_the_whole_queue(client, sales):
    customer = CustomerFactory()
    quotes = [_quote(sales, customer=customer) for _ in range(62)]
    _login(client, sales)

    first = client.get(reverse("quotes:awaiting")).content.decode()
    second = client.get(reverse("quotes:awaiting"), {"page": "2"}).content.decode()

    total = sum(quote.gross_total for quote in quotes)
    assert len(_rows(first)) == 50
    assert len(_rows(second)) == 12
    assert set(_rows(first)) | set(_rows(second)) == {quote.pk for quote in quotes}
    for body in (first, second):
        assert f"62 quotes worth {total:,.2f} awaiting an answer" in body
    assert "Page 1 of 2 · 62 in all" in first
    assert "Page 2 of 2 · 62 in all" in second


def test_awaiting_page_links_keep_the_filters(client, sales):
    customer = CustomerFactory()
    dear = [_quote(sales, price="900.00", customer=customer) for _ in range(55)]
    _quote(sales, price="10.00", customer=customer)
    _login(client, sales)
    filters = {"min_value": "500", "sort": "-value"}

    first = client.get(reverse("quotes:awaiting"), filters, HTTP_HX_REQUEST="true")
    second = client.get(reverse("quotes:awaiting"), {**filters, "page": "2"})

    html = first.content.decode()
    assert html.lstrip().startswith('<div id="awaiting-table"')
    assert 'href="?min_value=500&amp;sort=-value&amp;page=2"' in html
    assert "55 quotes worth" in html
    assert set(_rows(html)) | set(_rows(second.content.decode())) == {q.pk for q in dear}
    assert len(_rows(second.content.decode())) == 5


def test_quick_action_on_a_later_page_shows_that_page_with_its_filters(client, sales):
    customer = CustomerFactory()
    quotes = [_quote(sales, price="900.00", customer=customer) for _ in range(53)]
    _quote(sales, price="10.00", customer=customer)
    _login(client, sales)
    last = quotes[-1]  # oldest first: the newest quote is on page 2

    response = client.post(
        reverse("quotes:pause_followups", kwargs={"pk": last.pk}),
        {"min_value": "500", "page": "2"},
        HTTP_HX_REQUEST="true",
    )

    html = response.content.decode()
    assert sorted(_rows(html)) == sorted(q.pk for q in quotes[50:])
    assert "Page 2 of 2 · 53 in all" in html
    assert 'href="?min_value=500&amp;page=1"' in html


# --- comparing versions --------------------------------------------------------------------


def _line(description, quantity="1", price="10.00", **extra):
    return {"description": description, "quantity": quantity, "unit_price": price, **extra}


def test_compare_lines_finds_added_removed_and_changed():
    before = [_line("Oak", "2"), _line("Fitting"), _line("Delivery")]
    after = [_line("Oak", "3.000"), _line("Fitting", price="10"), _line("Survey")]

    changes = {(c.kind, c.description): c.fields for c in compare_lines(before, after)}

    assert changes == {
        ("changed", "Oak"): [("Quantity", "2", "3")],
        ("added", "Survey"): [],
        ("removed", "Delivery"): [],
    }


def test_compare_identical_lines_finds_nothing():
    lines = [_line("Oak", "2", tax_rate="20.00")]

    assert compare_lines(lines, [dict(line) for line in lines]) == []
