from datetime import timedelta

import pytest
import time_machine
from django.core import signing
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from oms.links import services as links
from oms.links.models import CustomerLink
from oms.outbox.models import OutboxEvent
from tests.factories import place_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(sales):
    return place_order(sales)


def test_issue_link_expires_after_the_purpose_default(order, sales, settings):
    settings.CUSTOMER_LINK_DAYS = {**settings.CUSTOMER_LINK_DAYS, "tracking": 90, "quote": 30}
    tracking = links.issue_link(order, purpose="tracking", by=sales)
    quote = links.issue_link(order, purpose="quote", by=sales)
    assert tracking.expires_at - tracking.created_at == timedelta(days=90)
    assert quote.expires_at - quote.created_at == timedelta(days=30)
    assert tracking.order_id == order.pk
    assert tracking.target_type == "orders.order"


def test_resolve_returns_the_link_and_counts_the_visit(order):
    link = links.issue_link(order, purpose="tracking")
    resolved = links.resolve_link(link.token, purpose="tracking")
    assert resolved.pk == link.pk
    assert resolved.get_target() == order
    link.refresh_from_db()
    assert link.open_count == 1
    assert link.last_opened_at is not None


def test_tampered_token_is_not_found(order):
    link = links.issue_link(order, purpose="tracking")
    tampered = link.token[:-2] + ("AA" if not link.token.endswith("AA") else "BB")
    with pytest.raises(Http404):
        links.resolve_link(tampered, purpose="tracking")


def test_token_signed_for_another_purpose_is_not_found(order):
    link = links.issue_link(order, purpose="quote")
    with pytest.raises(Http404):
        links.resolve_link(link.token, purpose="tracking")


def test_validly_signed_unknown_key_is_not_found():
    forged = signing.dumps("no-such-key", salt=CustomerLink.salt_for("tracking"))
    with pytest.raises(Http404):
        links.resolve_link(forged, purpose="tracking")


def test_revoked_link_is_not_found_and_revocation_is_published(order, manager):
    link = links.issue_link(order, purpose="tracking")
    links.revoke_link(link, by=manager)
    with pytest.raises(Http404):
        links.resolve_link(link.token, purpose="tracking")
    link.refresh_from_db()
    assert link.revoked_by == manager
    assert OutboxEvent.objects.filter(kind="link.revoked", subject_id=link.pk).count() == 1


def test_revoking_twice_publishes_once(order, manager):
    link = links.issue_link(order, purpose="tracking")
    links.revoke_link(link, by=manager)
    links.revoke_link(link, by=manager)
    assert OutboxEvent.objects.filter(kind="link.revoked").count() == 1


def test_expired_link_raises_link_expired(order):
    link = links.issue_link(order, purpose="tracking")
    later = timezone.now() + timedelta(days=91)
    with time_machine.travel(later), pytest.raises(links.LinkExpired):
        links.resolve_link(link.token, purpose="tracking")


def test_consume_is_single_use(order):
    link = links.issue_link(order, purpose="quote")
    used = links.consume_link(link.token, purpose="quote")
    assert used.used_at is not None
    with pytest.raises(links.LinkUsed):
        links.consume_link(link.token, purpose="quote")


def test_consume_rolls_back_with_the_action_it_allowed(order):
    link = links.issue_link(order, purpose="quote")

    class ActionFailed(Exception):
        pass

    with pytest.raises(ActionFailed), transaction.atomic():
        links.consume_link(link, purpose="quote")
        raise ActionFailed
    link.refresh_from_db()
    assert link.used_at is None
    assert links.consume_link(link, purpose="quote").used_at is not None


def test_consume_refuses_revoked_and_expired_links(order, manager):
    revoked = links.issue_link(order, purpose="quote")
    links.revoke_link(revoked, by=manager)
    with pytest.raises(Http404):
        links.consume_link(revoked.token, purpose="quote")
    expiring = links.issue_link(order, purpose="quote")
    later = timezone.now() + timedelta(days=31)
    with time_machine.travel(later), pytest.raises(links.LinkExpired):
        links.consume_link(expiring.token, purpose="quote")


def test_tracking_url_reuses_a_live_link_and_is_absolute(order, settings):
    settings.SITE_URL = "https://oms.example.com"
    first = links.tracking_url(order)
    second = links.tracking_url(order)
    assert first == second
    assert first.startswith("https://oms.example.com/orders/track/")
    assert CustomerLink.objects.filter(purpose="tracking").count() == 1


def test_tracking_url_issues_a_new_link_after_revocation(order, manager):
    first = links.tracking_url(order)
    links.revoke_links(order, by=manager, purpose="tracking")
    assert links.tracking_url(order) != first


def test_quote_links_are_fresh_each_time(sales):
    from tests.factories import send_new_quote

    quote = send_new_quote(place_order(sales), sales)
    assert links.quote_url(quote) != links.quote_url(quote)
    link = CustomerLink.objects.filter(purpose="quote").first()
    assert link.order_id == quote.order_id
    assert link.target_type == "quotes.quote"
