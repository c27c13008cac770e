"""API clients for the cast: each one carries a bearer token of that person."""

import pytest
from rest_framework.test import APIClient

from oms.api.services import create_api_token


def token_client(user) -> APIClient:
    _token, secret = create_api_token(name=f"Integration of {user.email}", by=user)
    client = APIClient()
    client.default_format = "json"  # integrations send JSON
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


@pytest.fixture
def api(cast):
    """{role: APIClient with that person's token}, for every role in the cast."""
    return {role: token_client(user) for role, user in cast.items() if role != "outsider"}
