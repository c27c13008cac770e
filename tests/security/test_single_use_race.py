"""Single-use customer links under a real race: two browsers answer with one link at the
same moment (threads, separate PostgreSQL connections); exactly one answer counts."""

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from oms.accounts.roles import Role
from oms.links.models import CustomerLink
from oms.links.services import issue_link
from orders.models import Order, TimelineEvent
from quotes.models import Quote
from tests.factories import place_order, send_new_quote
from tests.orders.test_concurrency import race

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _roles(transactional_db):
    """Transactional tests empty every table afterwards, the role groups included."""
    for role in Role:
        Group.objects.get_or_create(name=role.value)


def _post(url: str, data: dict, ip: str):
    return lambda: Client(REMOTE_ADDR=ip).post(url, data).status_code


@pytest.mark.parametrize("attempt", range(3))
def test_accept_and_decline_at_once_with_one_link_one_counts(sales, attempt):
    quote = send_new_quote(place_order(sales), sales)
    token = issue_link(quote, purpose="quote").token
    accept = reverse("quotes:public_accept", kwargs={"token": token})
    decline = reverse("quotes:public_decline", kwargs={"token": token})

    statuses = race(
        [
            _post(accept, {"name": "Pat Buyer"}, f"192.0.2.{attempt * 2 + 1}"),
            _post(decline, {"reason": "Too dear"}, f"192.0.2.{attempt * 2 + 2}"),
        ]
    )

    assert sorted(statuses) == [303, 409], statuses
    quote.refresh_from_db()
    assert quote.status in (Quote.Status.ACCEPTED, Quote.Status.DECLINED)
    assert CustomerLink.objects.get(purpose="quote", target_id=quote.pk).used_at is not None
    order = Order.objects.get(pk=quote.order_id)
    confirmations = TimelineEvent.objects.filter(order=order, to_state="confirmed").count()
    assert confirmations == (1 if quote.status == Quote.Status.ACCEPTED else 0)
