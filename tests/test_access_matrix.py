"""Every URL name has a row in tests/access_matrix.py, and every role gets what it says."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.access_matrix import ACCESS, CUSTOMER_LINKS, ROLES, UrlObjects

# Django's admin (with django-celery-beat's pages) guards itself with is_staff.
SKIPPED_NAMESPACES = ("admin",)


def url_names(patterns=None, namespace: str = "") -> set[str]:
    """Every named URL in the project, namespaced as `reverse()` wants it."""
    names: set[str] = set()
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace
            if inner in SKIPPED_NAMESPACES and not namespace:
                continue
            full = ":".join(part for part in (namespace, inner) if part)
            names |= url_names(pattern.url_patterns, full)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)
    return names


def test_every_url_name_has_an_access_row():
    missing = sorted(url_names() - set(ACCESS))
    assert not missing, (
        "Add a row to tests/access_matrix.py for each of these URL names: " + ", ".join(missing)
    )


def test_every_access_row_names_a_url():
    stale = sorted(set(ACCESS) - url_names())
    assert not stale, "tests/access_matrix.py has rows for URLs that no longer exist: " + str(stale)


# The cast fixture for each column; only the users a request needs are created.
ROLE_FIXTURES = {
    "sales": "sales",
    "operations": "operations",
    "finance": "finance",
    "manager": "manager",
    "admin": "admin_user",
}


class LazyCast(dict):
    """The cast, each user created on first use."""

    def __init__(self, request):
        super().__init__()
        self.request = request

    def __missing__(self, role: str):
        self[role] = self.request.getfixturevalue(ROLE_FIXTURES[role])
        return self[role]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(ACCESS))
def test_role_gets_expected_status(client, request, name, role):
    access = ACCESS[name]
    cast = LazyCast(request)
    if role != "anonymous":
        client.force_login(cast[role])
    kwargs = access.kwargs(UrlObjects(cast)) if access.kwargs else {}
    url = reverse(name, kwargs=kwargs)
    send = client.post if access.method == "post" else client.get
    response = send(url, access.data or {})
    expected = getattr(access, role)
    assert response.status_code == expected, (
        f"{role} {access.method.upper()} {url}: got {response.status_code}, matrix says {expected}"
    )
    if role == "anonymous" and expected == 302 and name not in PUBLIC_REDIRECTS:
        assert response.url.startswith(reverse("accounts:login")), response.url


# Pages anyone may open that redirect somewhere other than the login page.
PUBLIC_REDIRECTS = {"accounts:logout", "accounts:password_reset_confirm"}


# --- the customer-link column --------------------------------------------------------------

LINK_CASES = ("own", "other_customer", "other_purpose", "tampered", "revoked", "expired")
OTHER_PURPOSE = {
    "tracking": "quote",
    "quote": "tracking",
    "invoice": "change_request",
    "change_request": "invoice",
}
# A name only this customer has, looked for in pages that must not show their document.
OWN_CUSTOMER_NAME = "Zebra Joinery Ltd"


def public_url_names(patterns=None, namespace: str = "") -> set[str]:
    """Every URL a customer opens with a signed link (a `token` outside accounts)."""
    names: set[str] = set()
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace in (*SKIPPED_NAMESPACES, "accounts") and not namespace:
                continue
            inner = ":".join(part for part in (namespace, pattern.namespace) if part)
            names |= public_url_names(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and "token" in pattern.pattern.converters:
            names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)
    return names


def test_every_public_url_has_a_customer_link_row():
    missing = sorted(public_url_names() - set(CUSTOMER_LINKS))
    assert not missing, "Add a CUSTOMER_LINKS row to tests/access_matrix.py for: " + str(missing)
    assert sorted(set(CUSTOMER_LINKS) - public_url_names()) == []


def _token_for(case: str, row, objects: UrlObjects, other: UrlObjects, sales) -> str:
    from datetime import timedelta

    from django.utils import timezone

    from oms.links.services import issue_link, revoke_link

    if case == "other_customer":
        return issue_link(row.target(other), purpose=row.purpose).token
    if case == "other_purpose":
        return issue_link(row.target(other), purpose=OTHER_PURPOSE[row.purpose]).token
    if case == "expired":
        past = timezone.now() - timedelta(minutes=1)
        return issue_link(row.target(objects), purpose=row.purpose, expires_at=past).token
    link = issue_link(row.target(objects), purpose=row.purpose)
    if case == "revoked":
        revoke_link(link, by=sales)
    if case == "tampered":
        return link.token[:-3] + ("xyz" if not link.token.endswith("xyz") else "abc")
    return link.token


@pytest.mark.django_db
@pytest.mark.parametrize("case", LINK_CASES)
@pytest.mark.parametrize("name", sorted(CUSTOMER_LINKS))
def test_customer_link_column(client, request, name, case):
    row = CUSTOMER_LINKS[name]
    cast = LazyCast(request)
    objects, other = UrlObjects(cast), UrlObjects(cast)
    objects.customer.name = OWN_CUSTOMER_NAME
    objects.customer.save(update_fields=["name"])
    token = _token_for(case, row, objects, other, cast["sales"])
    kwargs = row.kwargs(objects, token)
    # Each case from its own address, so the per-IP limit on public pages never interferes.
    client.defaults["REMOTE_ADDR"] = f"10.{len(name)}.{LINK_CASES.index(case)}.{hash(name) % 250}"
    send = client.post if row.method == "post" else client.get
    response = send(reverse(name, kwargs=kwargs), row.data or {})
    body = response.content.decode(errors="replace")

    if case == "own":
        assert response.status_code == row.status
    elif case == "other_customer" and set(kwargs) == {"token"}:
        # Their link opens their own document, never this customer's.
        assert response.status_code == row.status
        assert OWN_CUSTOMER_NAME not in body
    elif case == "expired":
        assert response.status_code == 410
        assert "This link has expired" in body
        assert OWN_CUSTOMER_NAME not in body
        assert objects.order.number not in body
    else:
        assert response.status_code == 404, f"{case} {name}: {response.status_code}"
        assert OWN_CUSTOMER_NAME not in body
