"""The published contract: a valid OpenAPI 3 schema, docs that run under the strict CSP, and
a property-based run of schemathesis against the live server that finds no server error."""

import pytest
import schemathesis
from django.urls import reverse
from drf_spectacular.validation import validate_schema
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from invoicing.services import approve_invoice, draft_invoice_for_order, record_payment
from oms.api.services import create_api_token
from tests.factories import ProductFactory, advance_order, place_order, send_new_quote
from tests.security.inline_code import inline_code


@pytest.mark.django_db
def test_schema_is_valid_openapi_3_covering_every_resource(client):
    response = client.get(reverse("api:schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    validate_schema(schema)  # drf-spectacular's check against the OpenAPI 3 meta-schema
    assert schema["openapi"].startswith("3.")
    paths = set(schema["paths"])
    assert {
        "/api/v1/customers",
        "/api/v1/customers/{id}",
        "/api/v1/products",
        "/api/v1/orders",
        "/api/v1/orders/{number}",
        "/api/v1/orders/{number}/transitions/{name}",
        "/api/v1/orders/{number}/timeline",
        "/api/v1/quotes",
        "/api/v1/invoices",
        "/api/v1/payments",
    } <= paths
    transition = schema["paths"]["/api/v1/orders/{number}/transitions/{name}"]["post"]
    assert {"200", "400", "403", "404", "409"} <= set(transition["responses"])
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


@pytest.mark.django_db
def test_docs_page_runs_without_inline_code(client):
    response = client.get(reverse("api:docs"))
    assert response.status_code == 200
    html = response.content.decode()
    assert inline_code(html) == []
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "script-src 'self'" in response["Content-Security-Policy"]
    script = client.get(reverse("api:docs"), {"script": ""})
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert reverse("api:schema") in script.content.decode()


# --- schemathesis ---------------------------------------------------------------------------

EXAMPLES_PER_OPERATION = 20


def _known_objects(manager) -> dict[str, dict]:
    """Real objects for the path parameters, so cases reach past 404 into the services."""
    ProductFactory()
    order = place_order(manager)
    quote = send_new_quote(place_order(manager), manager)
    delivered = advance_order(place_order(manager), "delivered", by=manager)
    invoice = approve_invoice(draft_invoice_for_order(delivered, by=manager), by=manager)
    payment = record_payment(invoice, by=manager, amount=invoice.gross_total / 2)
    return {
        "/api/v1/customers/": {"id": order.customer_id},
        "/api/v1/products/": {"id": ProductFactory().pk},
        "/api/v1/orders/": {"number": order.number},
        "/api/v1/quotes/": {"id": quote.pk},
        "/api/v1/invoices/": {"id": invoice.pk},
        "/api/v1/payments/": {"id": payment.pk},
    }


@pytest.mark.django_db(transaction=True)
def test_schemathesis_finds_no_server_error(live_server, settings, manager):
    settings.API_RATE_LIMIT = "1000000/min"
    known = _known_objects(manager)
    _token, secret = create_api_token(name="Schemathesis", by=manager)
    headers = {"Authorization": f"Bearer {secret}"}
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/v1/schema")
    server_errors: list[str] = []
    operations = 0

    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        fixed = next((v for k, v in known.items() if operation.path.startswith(k)), None)
        strategies = [
            operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
            operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
        ]
        if fixed and "{" in operation.path:
            strategies.append(operation.as_strategy(path_parameters=fixed))

        @given(case=st.one_of(strategies))
        @hypothesis_settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def call(case):
            response = case.call(base_url=live_server.url, headers=headers)
            if response.status_code >= 500:
                server_errors.append(
                    f"{case.method} {case.formatted_path} query={case.query} body={case.body!r}"
                    f" -> {response.status_code}"
                )

        call()

    assert operations >= 19
    assert server_errors == []
