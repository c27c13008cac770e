"""Hostile input on every staff form and public endpoint: no 5xx, nothing rendered
unescaped, nothing written when the input is refused.

The forms are found in the access matrix (each POST URL, posted by the first role it
permits, starting from the row's valid data); the public endpoints in its customer-link
column. Hypothesis replaces one to three fields at a time with markup, script, SQL
fragments, 10,000-character values, NUL bytes and lone surrogates.
"""

import inspect
import re
from typing import NamedTuple
from urllib.parse import quote

import pytest
from django.apps import apps
from django.contrib import messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.access_matrix import ACCESS, CUSTOMER_LINKS, ROLES, UrlObjects
from tests.test_access_matrix import LazyCast

MARKUP = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    "</textarea><script>alert(1)</script>",
    "javascript:alert(1)",
    "{{ 7|add:7 }}{% now 'Y' %}",
]
SQL = ["'; DROP TABLE orders_order;--", "1 OR 1=1", "' OR ''='", "1; SELECT pg_sleep(0)--"]
AWKWARD = [
    "x" * 10_000,
    "<b>" * 3_400,
    "nul\x00byte",
    "\x00",
    "lone \ud800 surrogate",
    "\udfff",
    "-1",
    "1e309",
    "NaN",
    "9" * 40,
    "",
    " ",
    "\u202eevil",
]
PAYLOADS = MARKUP + SQL + AWKWARD

# Every field name a view reads from a form, beyond the matrix rows' own data.
FIELDS = [
    "reason", "name", "note", "notes", "description", "title", "amount", "percent",
    "quantity", "unit_price", "tax_rate", "currency", "method", "reference", "status",
    "action", "next", "assignee", "engineer", "date", "due_date", "run_date", "run_status",
    "resume_date", "received_by", "proof", "signer_name", "signature", "agreed_date",
    "window_start", "window_end", "email", "phone", "customer", "product", "q",
    "sales_account_code", "invoice_status", "tax_types", "default_payment_account",
]  # fmt: skip

POST_READ = re.compile(
    r"""POST(?:\.get|\.getlist)?\(\s*["']([\w-]+)["']|POST\[["']([\w-]+)["']\]"""
)
FORM_CLASS = re.compile(r"\b([A-Z]\w*Form(?:Set)?)\(")


def fields_read_by(url: str) -> set[str]:
    """The form fields the view behind `url` reads: request.POST keys in its source and the
    fields of the Form classes it builds. Class-based views fall back to FIELDS."""
    view = inspect.unwrap(resolve(url).func)
    try:
        source = inspect.getsource(view)
    except (OSError, TypeError):
        return set()
    names = {a or b for a, b in POST_READ.findall(source)}
    module = inspect.getmodule(view)
    for class_name in FORM_CLASS.findall(source):
        form_class = getattr(module, class_name, None)
        names |= set(getattr(getattr(form_class, "form", form_class), "base_fields", {}))
    return names


# Leaving the site or ending the session is not a form to fuzz.
NOT_FORMS = {"accounts:logout", "accounting:connect", "accounting:callback"}

# Writes that are not the business's (sessions, the audit trail of refusals, login records).
UNCOUNTED_APPS = {"sessions", "admin", "audit", "axes", "otp_totp", "otp_static", "django_otp"}

FORM = "application/x-www-form-urlencoded"

HYPOTHESIS = settings(
    max_examples=5,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

hostile_fields = st.dictionaries(
    st.sampled_from(FIELDS), st.sampled_from(PAYLOADS) | st.text(max_size=40), max_size=3
)


def _counted_tables() -> list[str]:
    return sorted(
        {
            model._meta.db_table
            for model in apps.get_models()
            if model._meta.app_label not in UNCOUNTED_APPS and model._meta.managed
        }
    )


def row_counts() -> dict[str, int]:
    """Rows in every business table, in one query."""
    tables = _counted_tables()
    # Table names come from the models, never from input.
    counts = ", ".join(f'(SELECT count(*) FROM "{table}")' for table in tables)  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {counts}")
        return dict(zip(tables, cursor.fetchone(), strict=True))


def _dangerous(payload: str) -> bool:
    return bool(re.search(r"[<>\"']", payload))


def assert_escaped(body: str, sent: dict) -> None:
    for value in sent.values():
        if isinstance(value, str) and _dangerous(value) and len(value) < 5000:
            assert value not in body, f"{value!r} rendered unescaped"


def refused(response) -> bool:
    """The request was turned down: an error status, a form re-rendered with its errors, or
    an error message flashed by this request for the page it redirects to."""
    body = response.content.decode(errors="replace")
    storage = getattr(response.wsgi_request, "_messages", None)
    # Only this request's messages: ones left from an earlier request are not its verdict.
    flashed = getattr(storage, "_queued_messages", [])
    return (
        response.status_code >= 400
        or 'class="errorlist' in body
        or any(message.level >= messages.WARNING for message in flashed)
    )


def form_body(data: dict) -> bytes:
    """URL-encoded the way a careless client might: lone surrogates become invalid UTF-8."""
    return "&".join(
        f"{quote(key)}={quote(str(value).encode('utf-8', 'surrogatepass'), safe='')}"
        for key, value in data.items()
    ).encode()


def post_hostile(client, url: str, data: dict):
    """POST `data`; check the answer and, for a redirect, the page it leads to."""
    before = row_counts()
    response = client.post(url, form_body(data), content_type=FORM)
    assert response.status_code < 500, response.status_code
    if refused(response):
        assert row_counts() == before, "a refused request wrote rows"
    check_escaped(response, data)
    markup = any(_dangerous(str(value)) for value in data.values())
    if markup and response.status_code in (301, 302, 303) and response.url.startswith("/"):
        landing = client.get(response.url)
        assert landing.status_code < 500, (response.url, landing.status_code)
        check_escaped(landing, data)
    return response


def check_escaped(response, sent: dict) -> None:
    content_type = response.get("Content-Type", "")
    # JSON is data for programs, not a page: a browser never renders it as markup.
    if content_type.startswith("text/html"):
        assert_escaped(response.content.decode(errors="replace"), sent)


def _first_permitted(access) -> str | None:
    return next(
        (role for role in ROLES if role != "anonymous" and getattr(access, role) < 400), None
    )


STAFF_FORMS = sorted(
    name
    for name, access in ACCESS.items()
    if access.method == "post"
    and name not in NOT_FORMS
    and name not in CUSTOMER_LINKS  # public forms: test_public_form_survives_hostile_input
    and _first_permitted(access)
)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


@pytest.fixture
def settled(db):
    """Rows made on first read (the Xero mapping) exist before counting starts, so only
    what a request itself writes is counted."""
    from invoicing.accounting.models import AccountMapping

    AccountMapping.current()


# Every field gets each of these on its own, before Hypothesis mixes them.
SWEEP = ["nul\x00byte", "x" * 10_000, "<script>alert(1)</script>"]


@pytest.mark.django_db
@pytest.mark.parametrize("name", STAFF_FORMS)
def test_staff_form_survives_hostile_input(client, request, media, settled, name):
    access = ACCESS[name]
    role = _first_permitted(access)
    cast = LazyCast(request)
    client.force_login(cast[role])
    url = reverse(name, kwargs=access.kwargs(UrlObjects(cast)) if access.kwargs else {})
    fields = sorted(fields_read_by(url) | set(access.data or {})) or FIELDS

    for field in fields:
        for payload in SWEEP:
            post_hostile(client, url, {**(access.data or {}), field: payload})

    @HYPOTHESIS
    @given(
        hostile=st.dictionaries(
            st.sampled_from(fields), st.sampled_from(PAYLOADS) | st.text(max_size=40), max_size=3
        )
    )
    def post(hostile):
        post_hostile(client, url, {**(access.data or {}), **hostile})

    post()


GET_READ = re.compile(r"""GET(?:\.get|\.getlist)?\(\s*["']([\w-]+)["']|GET\[["']([\w-]+)["']\]""")
# Query parameters many list pages share (pagination, sorting, filters, search).
COMMON_QUERY = ["q", "page", "sort", "status"]


def query_read_by(url: str) -> set[str]:
    """The query-string parameters the view behind `url` reads (and the common ones)."""
    try:
        source = inspect.getsource(inspect.unwrap(resolve(url).func))
    except (OSError, TypeError):
        source = ""
    return {a or b for a, b in GET_READ.findall(source)} | set(COMMON_QUERY)


def _first_page_role(access) -> str | None:
    return next((role for role in ROLES if getattr(access, role) == 200), None)


SEARCHABLE_PAGES = sorted(
    name for name, access in ACCESS.items() if access.method == "get" and _first_page_role(access)
)


@pytest.mark.django_db
@pytest.mark.parametrize("name", SEARCHABLE_PAGES)
def test_page_survives_hostile_query_strings(client, request, name):
    access = ACCESS[name]
    role = _first_page_role(access)
    cast = LazyCast(request)
    if role != "anonymous":
        client.force_login(cast[role])
    client.defaults["REMOTE_ADDR"] = f"10.97.{len(name)}.{hash(name) % 250}"
    url = reverse(name, kwargs=access.kwargs(UrlObjects(cast)) if access.kwargs else {})
    if name in CUSTOMER_LINKS:
        return  # a public page's URL is its link: hostile tokens are tested above
    # Documents (PDF, CSV, Excel) are slow to make: one hostile value each is enough.
    is_page = client.get(url)["Content-Type"].startswith("text/html")
    payloads = ["<script>alert(1)</script>", "x" * 10_000, "9" * 40] if is_page else ["<b>"]
    for parameter in sorted(query_read_by(url)):
        for payload in payloads:
            # htmx asks for the page's partials: check those escape too.
            for headers in ({}, {"HX-Request": "true"}) if "<" in payload else ({},):
                response = client.get(url, {parameter: payload}, headers=headers)
                assert response.status_code < 500, (url, parameter, payload[:20])
                check_escaped(response, {parameter: payload})


PUBLIC_POSTS = sorted(name for name, row in CUSTOMER_LINKS.items() if row.method == "post")
PUBLIC_GETS = sorted(name for name, row in CUSTOMER_LINKS.items() if row.method == "get")


@pytest.mark.django_db
@pytest.mark.parametrize("name", [*PUBLIC_POSTS, "orders:public_change_request"])
def test_public_form_survives_hostile_input(client, request, name):
    from oms.links.services import issue_link

    row = CUSTOMER_LINKS[name]
    objects = UrlObjects(LazyCast(request))
    target = row.target(objects)
    client.defaults["REMOTE_ADDR"] = f"10.99.{len(name)}.{hash(name) % 250}"

    @HYPOTHESIS
    @given(fields=hostile_fields, action=st.sampled_from(["approve", "reject", "", "<b>x"]))
    def post(fields, action):
        # A fresh link each time: accepting or approving uses a link up.
        token = issue_link(target, purpose=row.purpose).token
        data = {**(row.data or {}), "action": action, **fields}
        post_hostile(client, reverse(name, kwargs=row.kwargs(objects, token)), data)

    post()


@pytest.mark.django_db
@pytest.mark.parametrize("name", PUBLIC_GETS)
def test_public_page_survives_hostile_tokens(client, name):
    client.defaults["REMOTE_ADDR"] = f"10.98.{len(name)}.{hash(name) % 250}"

    @HYPOTHESIS
    @given(token=st.sampled_from(PAYLOADS) | st.text(min_size=1, max_size=60))
    def get(token):
        safe = quote(token.encode("utf-8", "surrogatepass"), safe="") or "x"
        url = reverse(name, kwargs=_token_kwargs(name, "TOKEN")).replace("TOKEN", safe)
        response = client.get(url)
        assert response.status_code in (404, 410, 429), (url, response.status_code)
        assert_escaped(response.content.decode(errors="replace"), {"token": token})

    get()


def _token_kwargs(name: str, token: str) -> dict:
    kwargs = {"token": token}
    if name == "orders:track_invoice_pdf":
        kwargs["invoice_id"] = 1
    return kwargs


class Upload(NamedTuple):
    field: str
    data: dict
    # Only images are ever stored for photos; a sheet or statement may be accepted as text.
    never_stored: bool
    role: str


UPLOADS = {
    "orders:photo_upload": Upload("photo", {}, never_stored=True, role="operations"),
    "imports:start": Upload("file", {"kind": "customers"}, never_stored=False, role="sales"),
    "banking:upload": Upload("file", {"currency": "GBP"}, never_stored=False, role="finance"),
}
JUNK = [
    b"\xff\xfe\xfd invalid utf-8 \xc3\x28",
    b"\x00" * 64,
    b"<script>alert(1)</script>",
    b"name,email\n\xed\xa0\x80,<img src=x onerror=1>\n",
    b"PK\x03\x04 not really a workbook",
]


def views_reading_files(patterns=None, namespace: str = "") -> set[str]:
    """URL names whose view reads request.FILES, found by walking the URL resolver."""
    names: set[str] = set()
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin" and not namespace:
                continue
            inner = ":".join(part for part in (namespace, pattern.namespace) if part)
            names |= views_reading_files(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            try:
                source = inspect.getsource(inspect.unwrap(pattern.callback))
            except (OSError, TypeError):
                continue
            if "request.FILES" in source:
                names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)
    return names


def test_every_upload_form_is_fuzzed():
    missing = sorted(views_reading_files() - set(UPLOADS))
    assert not missing, "Add an UPLOADS row for: " + ", ".join(missing)


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(UPLOADS))
def test_upload_survives_hostile_bytes(client, request, media, name):
    access, upload_form = ACCESS[name], UPLOADS[name]
    cast = LazyCast(request)
    client.force_login(cast[upload_form.role])
    url = reverse(name, kwargs=access.kwargs(UrlObjects(cast)) if access.kwargs else {})

    @HYPOTHESIS
    @given(
        content=st.sampled_from(JUNK) | st.binary(max_size=256),
        filename=st.sampled_from(["x.png", "<script>.csv", "../../etc/passwd", "a\x00.jpg"]),
    )
    def upload(content, filename):
        before = row_counts()
        sent = SimpleUploadedFile(filename.replace("\x00", ""), content, "image/png")
        response = client.post(url, {**upload_form.data, upload_form.field: sent})
        assert response.status_code < 500
        check_escaped(response, {"filename": filename})
        if upload_form.never_stored or refused(response):
            assert row_counts() == before, "a refused upload was stored"

    upload()


@pytest.mark.django_db
def test_nul_byte_is_refused_with_a_readable_page(client, operations, manager):
    from tests.factories import place_order

    order = place_order(manager)
    client.force_login(operations)
    url = reverse("orders:job_note", kwargs={"number": order.number})
    assert "note" in fields_read_by(url)
    before = row_counts()

    response = client.post(url, {"note": "Arrived\x00 on site"})

    assert response.status_code == 400
    assert "a character we cannot store" in response.content.decode()
    assert row_counts() == before


@pytest.mark.django_db
def test_redirect_after_a_quote_action_stays_on_this_site(client, sales):
    from tests.factories import place_order, send_new_quote

    quote = send_new_quote(place_order(sales), sales)
    client.force_login(sales)
    url = reverse("quotes:pause_followups", kwargs={"pk": quote.pk})

    away = client.post(url, {"next": "https://evil.example/phish"})
    home = client.post(url, {"next": "/quotes/awaiting/?page=2"})

    assert away.url == reverse("quotes:awaiting")
    assert home.url == "/quotes/awaiting/?page=2"


@pytest.mark.django_db
def test_signed_webhooks_still_read_their_raw_body(client, settings):
    """The null-character guard leaves bodies of CSRF-exempt machine endpoints unread."""
    settings.XERO_WEBHOOK_KEY = "key"
    response = client.post(reverse("accounting:webhook"), {"payload": "x"})
    assert response.status_code == 401
