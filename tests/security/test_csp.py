"""The Content Security Policy is enforced, and no page carries code it would refuse."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from tests.access_matrix import ACCESS, ROLES, UrlObjects
from tests.security.inline_code import inline_code
from tests.test_access_matrix import LazyCast

# Rendered into PDFs by WeasyPrint or sent as email, never served to a browser: PDFs keep
# their <style>, and mail clients need inline styles.
NOT_SERVED_TO_BROWSERS = re.compile(r"(^|/)(emails/|email_|[^/]*_pdf\.html$)")

# Inline scripts, style blocks and attributes, event handlers, and what htmx would have to
# eval (hx-on, js: values) or a javascript: URL: the policy refuses all of them.
INLINE_CODE_IN_SOURCE = re.compile(
    r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle\s*=|\son[a-z]+\s*="
    r"|hx-on|hx-vals\s*=\s*['\"]\s*js:|hx-vars|javascript:",
    re.IGNORECASE,
)


def _first_permitted_role(name: str) -> str | None:
    access = ACCESS[name]
    return next((role for role in ROLES if getattr(access, role) == 200), None)


PAGES = sorted(
    name
    for name, access in ACCESS.items()
    if access.method == "get" and _first_permitted_role(name)
)


def test_policy_is_enforced_not_report_only(client):
    response = client.get(reverse("accounts:login"))
    policy = response["Content-Security-Policy"]
    assert "Content-Security-Policy-Report-Only" not in response
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "object-src 'none'",
    ):
        assert directive in policy, directive
    assert "form-action 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy


@pytest.mark.django_db
@pytest.mark.parametrize("name", PAGES)
def test_page_has_the_policy_and_no_inline_code(client, request, name):
    access = ACCESS[name]
    role = _first_permitted_role(name)
    cast = LazyCast(request)
    if role != "anonymous":
        client.force_login(cast[role])
    kwargs = access.kwargs(UrlObjects(cast)) if access.kwargs else {}
    response = client.get(reverse(name, kwargs=kwargs))
    assert response.status_code == 200
    assert "'self'" in response["Content-Security-Policy"]
    if response["Content-Type"].startswith("text/html"):
        html = response.content.decode()
        assert inline_code(html) == [], f"{name} as {role}"


def _served_templates():
    root = Path(settings.BASE_DIR) / "templates"
    for path in sorted(root.rglob("*.html")):
        relative = path.relative_to(root).as_posix()
        if not NOT_SERVED_TO_BROWSERS.search(relative):
            yield relative, path


def test_no_template_carries_inline_code():
    """Catches templates no matrix row renders (error pages, partials, admin overrides)."""
    offenders = [
        f"{relative}: {match.group(0)!r}"
        for relative, path in _served_templates()
        for match in INLINE_CODE_IN_SOURCE.finditer(path.read_text())
    ]
    assert offenders == [], "Move these into static/js or static/css: " + "; ".join(offenders)


def test_python_made_html_carries_no_style_attributes():
    root = Path(settings.BASE_DIR)
    offenders = [
        str(path.relative_to(root))
        for app in ("oms", "customers", "orders", "quotes", "invoicing")
        for path in (root / app).rglob("*.py")
        if "migrations" not in path.parts and re.search(r"\sstyle=|<script>", path.read_text())
    ]
    assert offenders == []


def test_htmx_does_not_inject_its_indicator_styles(client):
    html = client.get(reverse("accounts:login")).content.decode()
    assert '<meta name="htmx-config" content=\'{"includeIndicatorStyles": false}\'>' in html
    stylesheet = (Path(settings.BASE_DIR) / "static/css/oms.css").read_text()
    assert ".htmx-indicator" in stylesheet
