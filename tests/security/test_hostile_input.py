"""Hostile input on every staff form and public endpoint: no 5xx, nothing rendered
unescaped, nothing written when the input is refused.

The forms are found in the access matrix (each POST URL, posted by the first role it
permits, starting from the row's valid data); the public endpoints in its customer-link
column. Hypothesis replaces one to three fields at a time with markup, script, SQL
fragments, 10,000-character values, NUL bytes and lone surrogates.
"""

import re
from urllib.parse import quote

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
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

# Leaving the site or ending the session is not a form to fuzz.
NOT_FORMS = {"accounts:logout", "accounting:connect", "accounting:callback"}

# Writes that are not the business's (sessions, the audit trail of refusals, login records).
UNCOUNTED_APPS = {"sessions", "admin", "audit", "axes", "otp_totp", "otp_static", "django_otp"}

HYPOTHESIS = settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

hostile_fields = st.dictionaries(
    st.sampled_from(FIELDS), st.sampled_from(PAYLOADS) | st.text(max_size=40), max_size=3
)


def _counted_models():
    return [
        model
        for model in apps.get_models()
        if model._meta.app_label not in UNCOUNTED_APPS and not model._meta.proxy
    ]


def row_counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in _counted_models()}


def _dangerous(payload: str) -> bool:
    return bool(re.search(r"[<>\"']", payload))


def assert_escaped(body: str, sent: dict) -> None:
    for value in sent.values():
        if isinstance(value, str) and _dangerous(value) and len(value) < 5000:
            assert value not in body, f"{value!r} rendered unescaped"


def refused(response) -> bool:
    body = response.content.decode(errors="replace")
    return (
        response.status_code >= 400
        or 'class="msg-error"' in body
        or 'class="errorlist' in body
        or "has-error" in body
    )


def check(response, sent: dict, before: dict) -> None:
    assert response.status_code < 500, response.status_code
    content_type = response.get("Content-Type", "")
    if content_type.startswith(("text/", "application/json")):
        assert_escaped(response.content.decode(errors="replace"), sent)
    if refused(response):
        assert row_counts() == before, "a refused request wrote rows"


def _first_permitted(access) -> str | None:
    return next(
        (role for role in ROLES if role != "anonymous" and getattr(access, role) < 400), None
    )


STAFF_FORMS = sorted(
    name
    for name, access in ACCESS.items()
    if access.method == "post" and name not in NOT_FORMS and _first_permitted(access)
)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


@pytest.mark.django_db
@pytest.mark.parametrize("name", STAFF_FORMS)
def test_staff_form_survives_hostile_input(client, request, media, name):
    access = ACCESS[name]
    role = _first_permitted(access)
    cast = LazyCast(request)
    client.force_login(cast[role])
    url = reverse(name, kwargs=access.kwargs(UrlObjects(cast)) if access.kwargs else {})

    @HYPOTHESIS
    @given(fields=hostile_fields)
    def post(fields):
        data = {**(access.data or {}), **fields}
        before = row_counts()
        response = client.post(url, data, follow=True)
        check(response, data, before)

    post()


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
        before = row_counts()
        response = client.post(reverse(name, kwargs=row.kwargs(objects, token)), data)
        check(response, data, before)

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


UPLOADS = {
    "orders:photo_upload": "photo",
}


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(UPLOADS))
def test_upload_survives_hostile_bytes(client, request, media, name):
    access = ACCESS[name]
    cast = LazyCast(request)
    client.force_login(cast[_first_permitted(access)])
    url = reverse(name, kwargs=access.kwargs(UrlObjects(cast)))

    @HYPOTHESIS
    @given(
        content=st.sampled_from(
            [b"\xff\xfe\xfd invalid utf-8 \xc3\x28", b"\x00" * 64, b"<script>alert(1)</script>"]
        )
        | st.binary(max_size=256),
        filename=st.sampled_from(["x.png", "<script>.png", "../../etc/passwd", "a\x00.jpg"]),
    )
    def upload(content, filename):
        before = row_counts()
        upload = SimpleUploadedFile(filename.replace("\x00", ""), content, "image/png")
        response = client.post(url, {UPLOADS[name]: upload}, follow=True)
        check(response, {"filename": filename}, before)
        assert row_counts() == before, "a file that is not an image was stored"

    upload()
