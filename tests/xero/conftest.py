"""A fake Xero on 127.0.0.1 per test, settings pointing at it, and invoices made through the
invoicing services."""

from decimal import Decimal

import pytest
import redis
from cryptography.fernet import Fernet
from django.conf import settings as django_settings

from tests.factories import CustomerFactory, advance_order, line_data, place_order
from tests.xero.fake_xero import CLIENT_ID, CLIENT_SECRET, FakeXeroServer

WEBHOOK_KEY = "fake-webhook-signing-key"


def _clear_limiter() -> None:
    client = redis.Redis.from_url(django_settings.REDIS_URL or "redis://127.0.0.1:6379/0")
    keys = list(client.scan_iter("xero:*"))
    if keys:
        client.delete(*keys)


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _role_groups(request):
    """Transactional tests flush the groups the roles migration made; make sure they exist."""
    if not request.node.get_closest_marker("django_db"):
        return
    from django.contrib.auth.models import Group

    from oms.accounts.roles import Role

    for role in Role:
        Group.objects.get_or_create(name=role.value)


@pytest.fixture
def xero(settings):
    """The fake Xero, running; every Xero URL in settings points at it."""
    with FakeXeroServer() as server:
        settings.XERO_API_URL = server.url
        settings.XERO_IDENTITY_URL = server.url
        settings.XERO_LOGIN_URL = server.url
        settings.XERO_CLIENT_ID = CLIENT_ID
        settings.XERO_CLIENT_SECRET = CLIENT_SECRET
        settings.XERO_REDIRECT_URI = "http://testserver/xero/callback"
        settings.XERO_WEBHOOK_KEY = WEBHOOK_KEY
        settings.TOKEN_ENCRYPTION_KEY = Fernet.generate_key().decode()
        _clear_limiter()
        yield server.fake
        _clear_limiter()


@pytest.fixture
def connected(xero, finance):
    """Xero connected by finance through the authorisation-code flow."""
    from invoicing.accounting import services

    return services.connect_xero(by=finance, code=xero.issue_code())


@pytest.fixture
def approved_invoice(manager):
    """approved_invoice(lines=[...]) -> an approved final invoice for a delivered order."""
    from invoicing.services import approve_invoice, draft_invoice_for_order

    def make(*, lines=None, customer=None, **fields):
        order = place_order(
            manager, customer=customer or CustomerFactory(), lines=lines or [line_data()], **fields
        )
        order = advance_order(order, "delivered", by=manager)
        invoice = draft_invoice_for_order(order, by=manager)
        return approve_invoice(invoice, by=manager)

    return make


@pytest.fixture
def mixed_lines():
    return [
        line_data(description="Widget", quantity=Decimal("3"), unit_price=Decimal("41.17")),
        line_data(
            description="Fitting",
            quantity=Decimal("1"),
            unit_price=Decimal("50.74"),
            discount_percent=Decimal("10"),
            tax_rate=Decimal("5"),
        ),
    ]
