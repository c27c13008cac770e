"""Tokens: one per integration, shown once, stored as a digest, revocable, rate limited."""

import hashlib

import pytest
from django.core.cache import cache
from django.urls import reverse
from rest_framework.test import APIClient

from oms.api.models import ApiToken
from oms.api.services import create_api_token, revoke_api_token
from oms.api.throttling import TokenRateThrottle
from oms.outbox.models import OutboxEvent

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/orders"


def bearer(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def test_token_page_shows_the_secret_once_and_stores_only_its_digest(client, sales):
    client.force_login(sales)
    response = client.post(reverse("api:tokens"), {"name": "Webshop"})
    assert response.status_code == 200
    secret = response.context["secret"]
    assert secret.startswith("oms_") and len(secret) > 40
    assert secret in response.content.decode()
    assert response["Cache-Control"] == "no-store"

    token = ApiToken.objects.get()
    assert token.name == "Webshop" and token.user == sales
    assert token.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert token.prefix == secret[:12]
    assert secret not in str(ApiToken.objects.values().get())

    again = client.get(reverse("api:tokens"))
    assert secret not in again.content.decode()
    assert token.prefix in again.content.decode()
    assert OutboxEvent.objects.filter(kind="api_token.created", subject_id=token.pk).exists()


def test_token_needs_a_name(client, sales):
    client.force_login(sales)
    response = client.post(reverse("api:tokens"), {"name": "  "})
    assert response.status_code == 422
    assert "Name the integration" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_a_person_without_a_role_gets_no_token(client, outsider):
    client.force_login(outsider)
    assert client.get(reverse("api:tokens")).status_code == 403
    assert client.post(reverse("api:tokens"), {"name": "Mine"}).status_code == 403
    assert not ApiToken.objects.exists()


def test_bearer_token_acts_as_its_owner(sales):
    _token, secret = create_api_token(name="Script", by=sales)
    response = bearer(secret).get(ORDERS)
    assert response.status_code == 200
    assert ApiToken.objects.get().last_used_at is not None


def test_no_wrong_or_revoked_token_is_401(sales):
    token, secret = create_api_token(name="Script", by=sales)
    assert APIClient().get(ORDERS).status_code == 401
    assert bearer("oms_not-a-real-token").get(ORDERS).status_code == 401
    assert bearer(secret + "x").get(ORDERS).status_code == 401

    revoke_api_token(token, by=sales)
    response = bearer(secret).get(ORDERS)
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_token_of_a_deactivated_person_stops_working(sales):
    _token, secret = create_api_token(name="Script", by=sales)
    sales.is_active = False
    sales.save()
    assert bearer(secret).get(ORDERS).status_code == 401


def test_owners_revoke_their_own_managers_revoke_any(client, sales, other_sales, manager):
    mine, _ = create_api_token(name="Mine", by=sales)
    theirs, _ = create_api_token(name="Theirs", by=other_sales)
    client.force_login(sales)
    page = client.get(reverse("api:tokens")).content.decode()
    assert "Mine" in page and "Theirs" not in page
    assert client.post(reverse("api:token_revoke", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("api:token_revoke", args=[mine.pk])).status_code == 302
    mine.refresh_from_db()
    assert mine.is_revoked and mine.revoked_by == sales

    client.force_login(manager)
    page = client.get(reverse("api:tokens")).content.decode()
    assert "Theirs" in page and "Mine" in page
    assert client.post(reverse("api:token_revoke", args=[theirs.pk])).status_code == 302
    theirs.refresh_from_db()
    assert theirs.revoked_by == manager
    assert OutboxEvent.objects.filter(kind="api_token.revoked").count() == 2


def test_rate_limit_counts_per_token(settings, sales, operations):
    settings.API_RATE_LIMIT = "3/min"
    token, secret = create_api_token(name="Busy", by=sales)
    _other, other_secret = create_api_token(name="Quiet", by=operations)
    throttle = TokenRateThrottle()
    for key in (f"throttle_api_token-{token.pk}", f"throttle_api_token-{_other.pk}"):
        cache.delete(key)
    busy = bearer(secret)
    assert [busy.get(ORDERS).status_code for _ in range(3)] == [200, 200, 200]
    refused = busy.get(ORDERS)
    assert refused.status_code == 429
    assert refused.json()["code"] == "throttled"
    assert int(refused["Retry-After"]) > 0
    # Another integration has its own allowance.
    assert bearer(other_secret).get(ORDERS).status_code == 200
    assert throttle.get_rate() == "3/min"


def test_token_page_is_in_the_menu_and_runs_without_inline_code(client, operations):
    from tests.security.inline_code import inline_code

    client.force_login(operations)
    response = client.post(reverse("api:tokens"), {"name": "Dispatch app"})
    page = response.content.decode()
    assert f'href="{reverse("api:tokens")}"' in page
    assert inline_code(page) == []


def test_admin_lists_tokens_and_revokes_them_through_the_service(client, admin_user, sales):
    token, secret = create_api_token(name="Old script", by=sales)
    client.force_login(admin_user)
    listing = client.get(reverse("admin:api_apitoken_changelist"))
    assert listing.status_code == 200 and "Old script" in listing.content.decode()
    assert secret not in listing.content.decode()
    response = client.post(
        reverse("admin:api_apitoken_changelist"),
        {"action": "revoke", "_selected_action": [token.pk]},
    )
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_by == admin_user
    assert bearer(secret).get(ORDERS).status_code == 401


def test_a_token_follows_its_owners_roles(sales):
    from django.contrib.auth.models import Group

    _token, secret = create_api_token(name="Script", by=sales)
    client = bearer(secret)
    assert client.get(ORDERS).status_code == 200
    sales.groups.set(Group.objects.none())
    assert client.get(ORDERS).status_code == 403


def test_a_browser_session_works_but_its_writes_need_the_csrf_token(sales):
    from tests.factories import place_order

    order = place_order(sales)
    session = APIClient(enforce_csrf_checks=True)
    session.force_login(sales)
    assert session.get(f"{ORDERS}/{order.number}").status_code == 200
    refused = session.post(f"{ORDERS}/{order.number}/transitions/confirm", {}, format="json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    order.refresh_from_db()
    assert order.status == "enquiry"
