"""Every URL name has a row in tests/access_matrix.py, and every role gets what it says."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.access_matrix import ACCESS, ROLES, UrlObjects

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
