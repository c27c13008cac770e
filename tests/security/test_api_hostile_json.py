"""Hostile JSON on the API's writes: no 5xx, nothing written on refusal.

JSON can carry what a form cannot: a lone surrogate escaped as \\ud800 decodes to a Python
string PostgreSQL cannot store, and NUL arrives as \\u0000."""

import json

import pytest
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from oms.api import serializers as api
from tests.access_matrix import UrlObjects
from tests.security.test_hostile_input import HYPOTHESIS, PAYLOADS, row_counts
from tests.test_access_matrix import LazyCast

# (URL name, URL kwargs, method, role, serializer whose fields are fuzzed, valid body)
API_WRITES = {
    "create a customer": (
        "api:customer-list", lambda o: {}, "post", "sales", api.CustomerCreateSerializer,
        lambda o: {"name": "Acme Ltd", "email": "buyer@example.com"},
    ),
    "change an order": (
        "api:order-detail", lambda o: {"number": o.order.number}, "patch", "sales",
        api.OrderUpdateSerializer, lambda o: {"title": "Stairs"},
    ),
    "draft a quote": (
        "api:quote-list", lambda o: {}, "post", "sales", api.QuoteCreateSerializer,
        lambda o: {"order": o.order.number},
    ),
    "move an order": (
        "api:order-transition", lambda o: {"number": o.order.number, "name": "lose"}, "post",
        "sales", api.TransitionInputSerializer, lambda o: {"reason": "Went elsewhere"},
    ),
    "accept a quote": (
        "api:quote-accept", lambda o: {"pk": o.quote.pk}, "post", "sales",
        api.QuoteAcceptSerializer, lambda o: {"name": "Pat Buyer"},
    ),
}  # fmt: skip

SWEEP = ["nul\x00byte", "lone \ud800 surrogate", "x" * 10_000, "<script>alert(1)</script>"]


@pytest.mark.django_db
@pytest.mark.parametrize("write", sorted(API_WRITES))
def test_api_write_survives_hostile_json(client, request, write):
    name, kwargs, method, role, serializer, valid = API_WRITES[write]
    cast = LazyCast(request)
    objects = UrlObjects(cast)
    client.force_login(cast[role])
    url = reverse(name, kwargs=kwargs(objects))
    base = valid(objects)
    fields = sorted(serializer().get_fields())
    send = getattr(client, method)

    def attempt(body: dict) -> None:
        before = row_counts()
        response = send(url, json.dumps(body), content_type="application/json")
        assert response.status_code < 500, (body, response.status_code)
        if response.status_code >= 400:
            assert row_counts() == before, "a refused request wrote rows"

    for field in fields:
        for payload in SWEEP:
            attempt({**base, field: payload})

    @HYPOTHESIS
    @given(
        hostile=st.dictionaries(
            st.sampled_from(fields), st.sampled_from(PAYLOADS) | st.text(max_size=40), max_size=3
        )
    )
    def fuzz(hostile):
        attempt({**base, **hostile})

    fuzz()


@pytest.mark.django_db
def test_lone_surrogate_in_json_is_refused_with_a_reason(client, sales):
    client.force_login(sales)
    before = row_counts()

    response = client.post(
        reverse("api:customer-list"), '{"name": "Acme \\ud800"}', content_type="application/json"
    )

    assert response.status_code == 400
    assert "not valid Unicode" in response.json()["detail"]
    assert row_counts() == before
