"""Customer links as the business promised them: a salt per purpose, expiry defaults,
revocation by staff from the order page, and a per-IP limit on every public page."""

from datetime import timedelta
from itertools import permutations
from uuid import uuid4

import pytest
from django.http import Http404
from django.urls import reverse

from oms.links.models import CustomerLink
from oms.links.services import issue_link, resolve_link
from tests.access_matrix import CUSTOMER_LINKS, UrlObjects
from tests.factories import place_order
from tests.test_access_matrix import LazyCast

pytestmark = pytest.mark.django_db

PURPOSES = [purpose.value for purpose in CustomerLink.Purpose]


def fresh_ip() -> str:
    """An address no earlier request used, so the shared rate-limit counters start at 0."""
    return f"2001:db8::{uuid4().hex[:4]}:{uuid4().hex[:4]}"


def test_links_expire_after_the_documented_defaults(settings, sales):
    assert settings.CUSTOMER_LINK_DAYS == {
        "quote": 30,
        "tracking": 90,
        "invoice": 90,
        "change_request": 30,
    }
    order = place_order(sales)
    for purpose, days in settings.CUSTOMER_LINK_DAYS.items():
        link = issue_link(order, purpose=purpose)
        assert link.expires_at - link.created_at == timedelta(days=days), purpose


@pytest.mark.parametrize(("signed_for", "opened_as"), list(permutations(PURPOSES, 2)))
def test_a_token_opens_only_the_purpose_it_was_signed_for(sales, signed_for, opened_as):
    link = issue_link(place_order(sales), purpose=signed_for)
    assert CustomerLink.salt_for(signed_for) != CustomerLink.salt_for(opened_as)
    with pytest.raises(Http404):
        resolve_link(link.token, purpose=opened_as)
    assert resolve_link(link.token, purpose=signed_for).pk == link.pk


def test_staff_revoke_a_link_from_the_order_page(client, sales):
    order = place_order(sales)
    client.force_login(sales)
    client.post(reverse("orders:link_issue", kwargs={"number": order.number}))
    link = CustomerLink.objects.get(order_id=order.pk, purpose="tracking")
    page = reverse("orders:track", kwargs={"token": link.token})
    assert client.get(page, REMOTE_ADDR=fresh_ip()).status_code == 200

    revoke = reverse("orders:link_revoke", kwargs={"number": order.number, "link_id": link.pk})
    response = client.post(revoke)

    assert response.url == reverse("orders:detail", kwargs={"number": order.number})
    link.refresh_from_db()
    assert link.revoked_by == sales and link.revoked_at is not None
    assert client.get(page, REMOTE_ADDR=fresh_ip()).status_code == 404


@pytest.mark.parametrize("name", sorted(CUSTOMER_LINKS))
def test_every_public_page_is_rate_limited_per_ip(client, request, settings, name):
    settings.PUBLIC_RATE_LIMIT = 2
    settings.PUBLIC_RATE_WINDOW_SECONDS = 60
    row = CUSTOMER_LINKS[name]
    objects = UrlObjects(LazyCast(request))
    url = reverse(
        name, kwargs=row.kwargs(objects, issue_link(row.target(objects), purpose=row.purpose).token)
    )
    send = client.post if row.method == "post" else client.get
    busy, calm = fresh_ip(), fresh_ip()

    answers = [send(url, row.data or {}, REMOTE_ADDR=busy).status_code for _ in range(3)]

    assert 429 not in answers[:2]
    assert answers[2] == 429
    assert send(url, row.data or {}, REMOTE_ADDR=calm).status_code != 429
