"""The customer and product lists the exports start from: filters, visibility, buttons."""

import pytest
from django.urls import reverse

from customers.models import Contact, Customer
from tests.factories import CustomerFactory, ProductFactory

pytestmark = pytest.mark.django_db


def names(response) -> list[str]:
    return [customer.name for customer in response.context["page"]]


def test_customer_list_filters_by_name_reference_contact_and_type(client, finance):
    acme = CustomerFactory(name="Acme Ltd", external_ref="ACC-1")
    Contact.objects.create(customer=acme, name="Ann", email="ann@acme.example")
    CustomerFactory(name="Beta Stores", segment=Customer.Segment.RETAIL)
    client.force_login(finance)
    url = reverse("customers:list")
    assert names(client.get(url)) == ["Acme Ltd", "Beta Stores"]
    assert names(client.get(url, {"q": "acc-1"})) == ["Acme Ltd"]
    assert names(client.get(url, {"q": "ann@acme"})) == ["Acme Ltd"]
    assert names(client.get(url, {"segment": "retail"})) == ["Beta Stores"]
    page = client.get(url, {"q": "acme"}).content.decode()
    assert reverse("imports:export", kwargs={"kind": "customers", "fmt": "csv"}) + "?q=acme" in (
        page
    )
    assert "?kind=customers" not in page  # finance may not import


def test_customer_list_shows_sales_their_own_and_offers_import(client, sales, other_sales):
    CustomerFactory(name="Mine", account_manager=sales)
    CustomerFactory(name="Theirs", account_manager=other_sales)
    client.force_login(sales)
    response = client.get(reverse("customers:list"))
    assert names(response) == ["Mine"]
    assert reverse("imports:start") + "?kind=customers" in response.content.decode()


def test_archived_customers_are_listed_only_when_asked_for(client, operations):
    from django.utils import timezone

    CustomerFactory(name="Current")
    CustomerFactory(name="Gone", archived_at=timezone.now())
    client.force_login(operations)
    assert names(client.get(reverse("customers:list"))) == ["Current"]
    assert names(client.get(reverse("customers:list"), {"archived": "1"})) == ["Gone"]


def test_product_list_filters_and_pages(client, sales):
    for n in range(60):
        ProductFactory(code=f"P{n:03d}", name="Bolt" if n % 2 else "Nut")
    ProductFactory(code="OLD", active=False)
    client.force_login(sales)
    url = reverse("imports:products")
    first = client.get(url)
    assert first.context["page"].paginator.count == 60
    assert len(first.context["page"]) == 50
    assert client.get(url, {"q": "nut"}).context["page"].paginator.count == 30
    archived = client.get(url, {"status": "archived"}).context["page"]
    assert [p.code for p in archived] == ["OLD"]
    assert "?kind=products" not in first.content.decode()  # sales import customers only
