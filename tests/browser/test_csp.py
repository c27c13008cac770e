"""With the Content Security Policy enforced, Chromium refuses nothing on any role's pages."""

import re

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from oms.accounts.roles import Role
from oms.links.services import issue_link
from orders.services import confirm_order
from tests.conftest import PASSWORD
from tests.factories import advance_order, place_order, send_new_quote

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ROLES = ("sales", "operations", "finance", "manager", "admin")


@pytest.fixture(autouse=True)
def _role_groups(transactional_db):
    """Flushing between transactional tests empties the groups the roles migration made."""
    for role in Role:
        Group.objects.get_or_create(name=role.value)


@pytest.fixture(scope="module")
def chromium():
    with pytest.MonkeyPatch.context() as patch:
        # Playwright's sync API runs an event loop; Django's ORM is called beside it.
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
            )
            yield browser
            browser.close()


class Violations(list):
    """Console messages and page errors that mention the policy, as Chromium reports them."""

    def watch(self, page) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda error: self._record(f"page error: {error}"))
        # The policy reports through this event too; an init script is not subject to it.
        page.add_init_script(
            "document.addEventListener('securitypolicyviolation', function (e) {"
            " console.error('Content Security Policy violation: ' + e.violatedDirective"
            " + ' ' + e.blockedURI); });"
        )

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text:
            self._record(f"{message.page.url if message.page else ''}: {message.text}")

    def _record(self, text: str) -> None:
        if "Content Security Policy" in text or text.startswith("page error"):
            self.append(text)


@pytest.fixture
def browse(chromium):
    context = chromium.new_context()
    page = context.new_page()
    violations = Violations()
    violations.watch(page)
    yield page, violations
    context.close()


def _log_in(page, base: str, user) -> None:
    page.goto(base + reverse("accounts:login"))
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"^(?!.*login).*$"))


def _visit(page, url: str) -> None:
    page.goto(url)
    page.wait_for_load_state("networkidle")


@pytest.mark.parametrize("role", ROLES)
def test_main_pages_of_each_role_raise_no_policy_violation(live_server, browse, cast, role):
    page, violations = browse
    sales = cast["sales"]
    order = confirm_order(place_order(sales), by=sales)
    quote_order = place_order(sales)
    send_new_quote(quote_order, sales)

    _log_in(page, live_server.url, cast[role])
    _visit(page, live_server.url + reverse("accounts:home"))
    menu = page.locator("nav.nav a").evaluate_all("links => links.map(a => a.href)")
    assert menu, "the role has a menu"
    for url in menu:
        _visit(page, url)
    _visit(page, live_server.url + reverse("orders:detail", kwargs={"number": order.number}))
    _visit(page, live_server.url + reverse("automation:inbox"))
    _visit(page, live_server.url + reverse("accounts:preferences"))

    assert list(violations) == []


def test_customer_pages_raise_no_policy_violation(live_server, browse, manager):
    page, violations = browse
    order = advance_order(place_order(manager), "in_progress", by=manager)
    quote = send_new_quote(place_order(manager), manager)
    pages = [
        reverse("orders:track", kwargs={"token": issue_link(order, purpose="tracking").token}),
        reverse("quotes:public", kwargs={"token": issue_link(quote, purpose="quote").token}),
        reverse("accounts:login"),
        reverse("accounts:password_reset"),
    ]
    for path in pages:
        _visit(page, live_server.url + path)
        assert page.locator("h1").count() >= 1

    assert list(violations) == []


def test_team_filter_submits_itself_without_inline_handlers(live_server, browse, cast):
    page, violations = browse
    place_order(cast["sales"])
    _log_in(page, live_server.url, cast["manager"])
    _visit(page, live_server.url + reverse("orders:team_enquiries"))

    with page.expect_navigation():
        page.get_by_label("Salesperson").select_option(str(cast["sales"].pk))

    assert f"owner={cast['sales'].pk}" in page.url
    assert list(violations) == []


def test_htmx_still_swaps_partials_under_the_policy(live_server, browse, cast):
    """The inbox badge in every header is loaded by htmx after the page."""
    page, violations = browse
    _log_in(page, live_server.url, cast["sales"])
    with page.expect_response(lambda r: reverse("automation:badge") in r.url):
        _visit(page, live_server.url + reverse("accounts:home"))
    assert page.evaluate("typeof htmx") == "object"
    assert page.evaluate("htmx.config.includeIndicatorStyles") is False
    assert list(violations) == []


def test_the_watch_catches_a_refused_inline_script(live_server, browse):
    """Proves the checks above could fail: an injected inline script is refused and seen."""
    page, violations = browse
    _visit(page, live_server.url + reverse("accounts:login"))
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.ran = true'; document.body.appendChild(s); }"
    )
    page.wait_for_timeout(200)
    assert page.evaluate("window.ran === undefined")
    assert violations, "Chromium reported the refused inline script"


def test_admin_pages_raise_no_policy_violation(live_server, browse, admin_user):
    """Django admin is served to browsers too, django-celery-beat's periodic task form
    included (its crontab help comes from static/js, not an inline script)."""
    page, violations = browse
    _log_in(page, live_server.url, admin_user)
    for name in (
        "admin:index",
        "admin:outbox_outboxevent_changelist",
        "admin:django_celery_beat_periodictask_add",
        "admin:orders_order_changelist",
    ):
        _visit(page, live_server.url + reverse(name))
        assert page.locator("#content").count() == 1, name

    assert list(violations) == []


def test_periodic_task_form_still_explains_the_crontab(live_server, browse, admin_user):
    from django_celery_beat.models import CrontabSchedule

    crontab = CrontabSchedule.objects.create(minute="0", hour="4")
    page, violations = browse
    _log_in(page, live_server.url, admin_user)
    _visit(page, live_server.url + reverse("admin:django_celery_beat_periodictask_add"))

    page.select_option("#id_crontab", str(crontab.pk))

    assert "Translation:" in page.locator(".field-crontab .help").inner_text()
    assert list(violations) == []
