"""Orders at the stages invoicing meets them, moved there through the services."""

from decimal import Decimal

import pytest

from tests.factories import advance_order, line_data, place_order


@pytest.fixture(autouse=True)
def _quick_passwords(settings):
    """The cast logs in with passwords; hashing them at full strength only slows tests."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def mixed_lines():
    """Two tax rates and a discount: 120.00 + 12.35 tax; 45.67 at 5% = 2.28 tax."""
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


@pytest.fixture
def order_at(manager):
    """order_at("delivered") → a fresh order with one 100.00 + 20% line in that state."""

    def make(state: str, *, lines=None, **fields):
        order = place_order(manager, lines=lines, **fields)
        return advance_order(order, state, by=manager)

    return make
