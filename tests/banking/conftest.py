"""Statements are uploaded by finance against invoices moved forward through the services."""

import pytest

from tests.invoicing.conftest import order_at  # noqa: F401  (the same orders invoicing meets)


@pytest.fixture(autouse=True)
def _quick_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
