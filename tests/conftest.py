"""The cast: one user per role, an admin, and an outsider with no role; and a browser."""

import re

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from oms.accounts.roles import Role

PASSWORD = "correct horse battery staple"


def pytest_collection_modifyitems(items):
    """The Xero tests share one rate limiter in Redis; they run in one xdist worker."""
    for item in items:
        if item.path.parent.name == "xero":
            item.add_marker(pytest.mark.xdist_group("xero"))


@pytest.fixture(autouse=True)
def _plain_static_files(settings):
    """Tests read static files from the source tree; production serves a hashed manifest."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _quick_password_hashing(settings):
    """Every test makes users; the production hasher is deliberately slow (about a second
    each on a busy machine). Login and password reset behave the same with a fast one."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def make_user(django_user_model, email: str, *roles: Role, **fields):
    user = django_user_model.objects.create_user(
        email=email, password=PASSWORD, first_name=email.split("@")[0].title(), **fields
    )
    user.groups.set(Group.objects.filter(name__in=[role.value for role in roles]))
    return user


@pytest.fixture
def sales(django_user_model):
    return make_user(django_user_model, "sally@example.com", Role.SALES)


@pytest.fixture
def other_sales(django_user_model):
    return make_user(django_user_model, "simon@example.com", Role.SALES)


@pytest.fixture
def operations(django_user_model):
    return make_user(django_user_model, "olive@example.com", Role.OPERATIONS)


@pytest.fixture
def finance(django_user_model):
    return make_user(django_user_model, "fred@example.com", Role.FINANCE)


@pytest.fixture
def manager(django_user_model):
    return make_user(django_user_model, "mia@example.com", Role.MANAGER)


@pytest.fixture
def admin_user(django_user_model):
    return django_user_model.objects.create_superuser(email="ada@example.com", password=PASSWORD)


@pytest.fixture
def outsider(django_user_model):
    return make_user(django_user_model, "otto@example.com")


@pytest.fixture
def cast(sales, operations, finance, manager, admin_user, outsider):
    return {
        "sales": sales,
        "operations": operations,
        "finance": finance,
        "manager": manager,
        "admin": admin_user,
        "outsider": outsider,
    }


CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture
def browser(monkeypatch):
    """Debian's Chromium, headless, driven by Playwright (live_server runs in this process,
    so Django's async-safety check is relaxed for the test)."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


def log_in_browser(page, base: str, user) -> None:
    """Sign `user` in through the login form and wait to leave it."""
    page.goto(f"{base}{reverse('accounts:login')}")
    page.fill("#id_username", user.email)
    page.fill("#id_password", PASSWORD)
    page.press("#id_password", "Enter")
    page.wait_for_url(re.compile(r"^(?!.*login).*$"))
