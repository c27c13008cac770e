from django.http import HttpRequest
from django.urls import reverse

from tests.conftest import PASSWORD
from tests.factories import ContactFactory, CustomerFactory


def _login(client, user):
    assert client.login(request=HttpRequest(), email=user.email, password=PASSWORD)


def test_typeahead_finds_customer_by_name_and_contact_email(client, sales):
    acme = CustomerFactory(name="Acme Joinery Ltd")
    ContactFactory(customer=acme, email="buyer@acme.example")
    CustomerFactory(name="Brightside Ltd")
    _login(client, sales)

    by_name = client.get(reverse("customers:typeahead"), {"q": "joinery"}, HTTP_HX_REQUEST="true")
    by_email = client.get(reverse("customers:typeahead"), {"q": "buyer@acme"})

    assert b"Acme Joinery Ltd" in by_name.content
    assert b"Brightside" not in by_name.content
    assert b"Acme Joinery Ltd" in by_email.content


def test_typeahead_answers_htmx_with_the_results_partial_only(client, sales):
    CustomerFactory(name="Acme Joinery Ltd")
    _login(client, sales)

    response = client.get(reverse("customers:typeahead"), {"q": "acme"}, HTTP_HX_REQUEST="true")

    body = response.content.decode()
    assert body.lstrip().startswith('<div id="customer-results"')
    assert "<html" not in body
    assert response["Vary"].count("HX-Request") == 1


def test_typeahead_needs_two_characters(client, sales):
    CustomerFactory(name="Acme Joinery Ltd")
    _login(client, sales)

    response = client.get(reverse("customers:typeahead"), {"q": "a"}, HTTP_HX_REQUEST="true")

    assert b"Acme" not in response.content


def test_typeahead_hides_archived_customers(client, sales):
    from django.utils import timezone

    CustomerFactory(name="Acme Old Ltd", archived_at=timezone.now())
    _login(client, sales)

    response = client.get(reverse("customers:typeahead"), {"q": "acme"}, HTTP_HX_REQUEST="true")

    assert b"Acme Old" not in response.content


def test_typeahead_refused_to_roles_without_sales(client, operations, outsider):
    for user in (operations, outsider):
        _login(client, user)
        assert client.get(reverse("customers:typeahead"), {"q": "acme"}).status_code == 403


def test_typeahead_query_count_is_constant(client, sales, django_assert_max_num_queries):
    for i in range(30):
        customer = CustomerFactory(name=f"Acme {i} Ltd")
        ContactFactory(customer=customer)
    _login(client, sales)

    with django_assert_max_num_queries(6):
        response = client.get(reverse("customers:typeahead"), {"q": "acme"}, HTTP_HX_REQUEST="true")

    assert response.content.count(b'name="customer"') == 10
