"""Sales views for quotes: the builder, preview and PDF, the awaiting queue with its quick
actions, and the customer's public page for accepting or declining."""

from decimal import Decimal
from functools import wraps

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from oms.accounts.roles import Role, has_role
from oms.links.ratelimit import client_ip
from oms.links.services import LinkExpired, LinkUsed, consume_link
from oms.links.views import link_expired, public_link_view
from orders.models import Order, Product
from orders.services import OrderChanged, set_order_lines
from quotes import queries
from quotes.forms import (
    AcceptForm,
    AwaitingFilterForm,
    DeclineForm,
    LineForm,
    QuoteDetailsForm,
    SendForm,
    apply_action,
    blank_row,
    fill_from_products,
    rows_from_order,
    rows_from_post,
)
from quotes.models import Quote
from quotes.pdf import quote_lines, quote_pdf_filename, quote_totals, render_quote_pdf
from quotes.services import (
    accept_quote,
    create_quote,
    decline_quote,
    pause_quote_followups,
    resend_quote,
    resume_quote_followups,
    revise_quote,
    send_quote,
)

PROBLEMS = (ValidationError, PermissionDenied, OrderChanged)


def _explain(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc) or "You may not do that."


def _ensure_sales(user) -> None:
    if not has_role(user, Role.SALES):
        raise PermissionDenied


class DraftDetailsForm(forms.ModelForm):
    """Validity, terms and notes of a draft: plain edits with no consequence until sent."""

    class Meta:
        model = Quote
        fields = ["valid_until", "terms", "notes"]


# --- the builder -----------------------------------------------------------------------


class Builder:
    """The rows on screen, validated, with amounts and totals computed on the server."""

    def __init__(self, rows: list[dict], *, show_errors: bool):
        self.rows = []
        self.forms: list[LineForm] = []
        self.net = self.tax = Decimal("0.00")
        for row in rows:
            form = LineForm(row)
            blank = not (row["product"].strip() or row["description"].strip())
            blank = blank and not row["unit_price"].strip()
            valid = form.is_valid()
            entry = {"data": row, "errors": {}, "net": None, "tax": None, "blank": blank}
            if valid:
                entry["net"], entry["tax"] = form.amounts()
                self.net += entry["net"]
                self.tax += entry["tax"]
            elif show_errors and not blank:
                entry["errors"] = form.errors
            if not blank:
                self.forms.append(form)
            self.rows.append(entry)
        self.empty = not self.forms

    @property
    def gross(self) -> Decimal:
        return self.net + self.tax

    @property
    def valid(self) -> bool:
        return not self.empty and all(form.is_valid() for form in self.forms)

    def lines(self) -> list[dict]:
        return [form.as_line() for form in self.forms]

    def snapshot(self) -> list[dict]:
        """The valid rows in the shape of a sent quote's snapshot, to compare versions."""
        return [
            {**form.as_line(), "product": getattr(form.cleaned_data["product"], "pk", None)}
            | dict(zip(("net_amount", "tax_amount"), form.amounts(), strict=True))
            for form in self.forms
            if form.is_valid()
        ]


def _current_quote(order: Order) -> Quote | None:
    return order.quotes.order_by("-version").first()


def _builder_context(request, order: Order, builder: Builder, **extra) -> dict:
    quotes = list(order.quotes.order_by("-version"))
    current = quotes[0] if quotes else None
    draft = current if current and current.status == Quote.Status.DRAFT else None
    editable = order.lines_editable and (current is None or draft is not None)
    details_form = extra.pop("details_form", None) or QuoteDetailsForm(
        initial={
            "valid_until": draft.valid_until if draft else QuoteDetailsForm.default_valid_until(),
            "terms": draft.terms if draft else (current.terms if current else ""),
            "notes": draft.notes if draft else (current.notes if current else ""),
        }
    )
    send_form = extra.pop("send_form", None) or SendForm(customer=order.customer)
    changes = None
    previous = next((q for q in quotes if q.sent_at and q is not current), None)
    if current is not None and previous is not None:
        lines = builder.snapshot() if draft is not None else current.lines_snapshot
        changes = queries.quote_changes(previous, current, lines)
    return {
        "order": order,
        "builder": builder,
        "quotes": quotes,
        "current": current,
        "draft": draft,
        "previous": previous,
        "changes": changes,
        "editable": editable,
        "details_form": details_form,
        "send_form": send_form,
        **extra,
    }


def _builder_order(request, number: str) -> Order:
    _ensure_sales(request.user)
    return get_object_or_404(
        Order.objects.visible_to(request.user).select_related("customer", "owner"), number=number
    )


@require_http_methods(["GET", "POST"])
@login_required
@vary_on_headers("HX-Request")
def quote_builder(request, number: str):
    """Build the quote for an order: edit lines (htmx, no reloads), save, send or revise."""
    order = _builder_order(request, number)
    if request.method == "GET":
        rows = rows_from_order(order) or [blank_row()]
        builder = Builder(rows, show_errors=False)
        return render(
            request, "quotes/quote_builder.html", _builder_context(request, order, builder)
        )

    action = request.POST.get("action", "recalc")
    rows = rows_from_post(request.POST)
    if action not in ("save", "send", "recalc"):
        rows = apply_action(rows, action)
    fill_from_products(rows)
    if action in ("save", "send"):
        return _save(request, order, rows, send=action == "send")
    builder = Builder(rows, show_errors=True)
    context = _builder_context(request, order, builder)
    template = "quotes/quote_builder.html"
    if request.htmx:
        template += "#quote-lines"
    return render(request, template, context)


def _save(request, order: Order, rows: list[dict], *, send: bool):
    """Validate everything first; then lines, draft and (if asked) sending in one go."""
    builder = Builder(rows, show_errors=True)
    details_form = QuoteDetailsForm(request.POST)
    send_form = SendForm(request.POST if send else None, customer=order.customer)
    problems = []
    if builder.empty:
        problems.append("Add at least one line before saving the quote.")
    valid = builder.valid & details_form.is_valid() & (not send or send_form.is_valid())
    if valid and not problems:
        try:
            quote = _write(request, order, builder, details_form.cleaned_data, send_form, send)
        except PROBLEMS as exc:
            problems.append(_explain(exc))
        else:
            if send:
                messages.success(request, f"Quote {quote.reference} sent to {quote.sent_to}.")
                url = reverse("quotes:detail", kwargs={"pk": quote.pk})
            elif request.htmx:
                # Saving a draft stays on the page: the form comes back as saved.
                order.refresh_from_db()
                rows = rows_from_order(order)
                context = _builder_context(
                    request, order, Builder(rows, show_errors=False), saved=quote
                )
                return render(request, "quotes/quote_builder.html#quote-builder", context)
            else:
                messages.success(request, f"Draft {quote.reference} saved.")
                url = reverse("quotes:builder", kwargs={"number": order.number})
            if request.htmx:
                response = HttpResponse(status=204)
                response["HX-Redirect"] = url
                return response
            return redirect(url)
    context = _builder_context(
        request,
        order,
        builder,
        details_form=details_form,
        send_form=send_form,
        problems=problems,
    )
    template = "quotes/quote_builder.html"
    if request.htmx:
        # htmx swaps 2xx only: the form comes back with its errors beside the fields.
        return render(request, template + "#quote-builder", context)
    return render(request, template, context, status=422)


def _write(request, order, builder, details: dict, send_form, send: bool) -> Quote:
    with transaction.atomic():
        set_order_lines(order, builder.lines(), by=request.user)
        quote = _current_quote(order)
        if quote is None or quote.status != Quote.Status.DRAFT:
            quote = create_quote(order, by=request.user, **details)
        else:
            form = DraftDetailsForm(details, instance=quote)
            form.is_valid()
            quote = form.save()
        if send:
            quote = send_quote(quote, by=request.user, to=send_form.cleaned_data["contact"].email)
    return quote


@require_GET
@login_required
def product_options(request):
    """Catalogue matches for the product box: a datalist the browser offers as you type."""
    _ensure_sales(request.user)
    q = (request.GET.get("q") or request.GET.get("line_product") or "").strip()
    products = Product.objects.filter(active=True)
    if q:
        products = products.filter(code__icontains=q) | products.filter(name__icontains=q)
    return render(
        request,
        "quotes/quote_builder.html#product-options",
        {"products": products.order_by("code")[:20]},
    )


# --- one quote -----------------------------------------------------------------------


def _visible_quote(request, pk: int) -> Quote:
    return get_object_or_404(
        Quote.objects.visible_to(request.user).select_related(
            "order", "order__customer", "order__owner"
        ),
        pk=pk,
    )


@require_GET
@login_required
def quote_detail(request, pk: int):
    """The quote as the customer sees it, its versions and what changed from the last."""
    quote = _visible_quote(request, pk)
    order = quote.order
    versions = list(order.quotes.order_by("-version"))
    previous = next((q for q in versions if q.version < quote.version and q.sent_at), None)
    lines = quote_lines(quote)
    changes = None
    if previous is not None:
        changes = queries.quote_changes(
            previous, quote, quote.lines_snapshot or [_as_snapshot(line) for line in lines]
        )
    context = {
        "quote": quote,
        "order": order,
        "lines": lines,
        "totals": quote_totals(quote),
        "versions": versions,
        "previous": previous,
        "changes": changes,
        "may_act": has_role(request.user, Role.SALES),
    }
    return render(request, "quotes/quote_detail.html", context)


def _as_snapshot(line: dict) -> dict:
    return {key: str(value) for key, value in line.items()}


@require_GET
@login_required
def quote_pdf(request, pk: int):
    """The PDF exactly as the customer receives it (inline, to preview in the browser)."""
    quote = _visible_quote(request, pk)
    response = HttpResponse(render_quote_pdf(quote), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{quote_pdf_filename(quote)}"'
    return response


@require_POST
@login_required
def quote_revise(request, pk: int):
    """Start the next version of a sent quote and open it in the builder."""
    quote = _visible_quote(request, pk)
    try:
        draft = revise_quote(quote, by=request.user)
    except PROBLEMS as exc:
        messages.error(request, _explain(exc))
        return redirect("quotes:detail", pk=quote.pk)
    messages.success(request, f"Version {draft.version} started; edit it and send it.")
    return redirect("quotes:builder", number=quote.order.number)


# --- quotes awaiting response --------------------------------------------------------


def _awaiting_context(request, params) -> dict:
    form = AwaitingFilterForm(params)
    filters = form.cleaned_data if form.is_valid() else {}
    page, total = queries.quotes_awaiting_page(
        request.user,
        page_number=params.get("page"),
        owner_id=filters.get("owner"),
        min_age_days=filters.get("min_age"),
        min_value=filters.get("min_value"),
        sort=filters.get("sort") or "age",
    )
    return {
        "page": page,
        "quotes": page.object_list,
        "filter_form": form,
        "filters": {k: v for k, v in params.items() if k in form.fields and v},
        "owners": queries.quote_owners(request.user)
        if has_role(request.user, Role.MANAGER)
        else [],
        "total": total,
    }


def _awaiting_query(params) -> QueryDict:
    """The list's filters and page out of a quick action's form, as the list's own query
    string: the re-rendered table's page links are built from it and so keep them."""
    query = QueryDict(mutable=True)
    for name in (*AwaitingFilterForm.base_fields, "page"):
        if params.get(name):
            query[name] = params[name]
    return query


@require_GET
@login_required
@vary_on_headers("HX-Request")
def quotes_awaiting(request):
    """Sent quotes not yet answered, oldest first; day-14 quotes need a decision."""
    _ensure_sales(request.user)
    context = _awaiting_context(request, request.GET)
    template = "quotes/quote_awaiting.html"
    if request.htmx:
        template += "#awaiting-table"
    return render(request, template, context)


def _quick_action(request, pk: int, act, done: str):
    _ensure_sales(request.user)
    quote = _visible_quote(request, pk)
    try:
        act(quote)
    except PROBLEMS as exc:
        messages.error(request, _explain(exc))
    else:
        messages.success(request, done.format(ref=quote.reference))
    if request.htmx:
        request.GET = _awaiting_query(request.POST)
        context = _awaiting_context(request, request.GET)
        response = render(request, "quotes/quote_awaiting.html#awaiting-table", context)
        return trigger_client_event(response, "quote-changed")
    return redirect(_local_next(request) or reverse("quotes:awaiting"))


def _local_next(request) -> str:
    """The page the form came from, if it is on this site; never another site's address."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return ""


@require_POST
@login_required
def quote_accept_by_phone(request, pk: int):
    """The customer accepted by phone: record who, and their PO; the order is confirmed."""
    form = AcceptForm(request.POST)

    def act(quote):
        if not form.is_valid():
            raise ValidationError(" ".join(e for errs in form.errors.values() for e in errs))
        accept_quote(
            quote,
            by=request.user,
            name=form.cleaned_data["name"],
            po=form.cleaned_data["po"],
        )

    return _quick_action(request, pk, act, "Quote {ref} accepted; the order is confirmed.")


@require_POST
@login_required
def quote_decline(request, pk: int):
    reason = request.POST.get("reason", "").strip()
    return _quick_action(
        request,
        pk,
        lambda quote: decline_quote(quote, by=request.user, reason=reason),
        "Quote {ref} declined; the order is lost.",
    )


@require_POST
@login_required
def quote_pause_followups(request, pk: int):
    return _quick_action(
        request,
        pk,
        lambda quote: pause_quote_followups(quote, by=request.user),
        "Follow-ups for {ref} paused.",
    )


@require_POST
@login_required
def quote_resume_followups(request, pk: int):
    return _quick_action(
        request,
        pk,
        lambda quote: resume_quote_followups(quote, by=request.user),
        "Follow-ups for {ref} resumed.",
    )


@require_POST
@login_required
def quote_resend(request, pk: int):
    return _quick_action(
        request,
        pk,
        lambda quote: resend_quote(quote, by=request.user),
        "Quote {ref} sent again.",
    )


# --- the customer's page (no login) --------------------------------------------------


def explain_bad_link(view):
    """A tampered, unknown or withdrawn link gets a page that says so (still a 404)."""

    @wraps(view)
    def wrapper(request, token: str, *args, **kwargs):
        try:
            return view(request, token, *args, **kwargs)
        except Http404:
            context = {"company": settings.COMPANY}
            return render(request, "quotes/quote_link_invalid.html", context, status=404)

    return wrapper


def _linked_quote(link) -> Quote:
    return get_object_or_404(
        Quote.objects.select_related("order", "order__customer"), pk=link.target_id
    )


def _public_context(link, quote: Quote, **extra) -> dict:
    state = _public_state(link, quote)
    latest = quote.order.quotes.order_by("-version").first()
    return {
        "company": settings.COMPANY,
        "link": link,
        "quote": quote,
        "order": quote.order,
        "customer": quote.order.customer,
        "lines": quote_lines(quote),
        "totals": quote_totals(quote),
        "state": state,
        "latest": latest,
        "accept_form": extra.pop("accept_form", None) or AcceptForm(),
        "decline_form": extra.pop("decline_form", None) or DeclineForm(),
        **extra,
    }


def _public_state(link, quote: Quote) -> str:
    """What the customer can do: open, or why not (the page explains each case)."""
    if quote.status == Quote.Status.ACCEPTED:
        return "accepted"
    if quote.status == Quote.Status.DECLINED:
        return "declined"
    if quote.status == Quote.Status.SUPERSEDED:
        return "superseded"
    if link.is_used:
        return "used"
    if quote.status == Quote.Status.EXPIRED or quote.valid_until < timezone.localdate():
        return "expired"
    if quote.status != Quote.Status.SENT:
        return "closed"
    return "open"


@require_GET
@explain_bad_link
@public_link_view("quote")
def quote_public(request, link):
    """The customer's view of the quote, with accept and decline when still open."""
    quote = _linked_quote(link)
    return render(request, "quotes/quote_public.html", _public_context(link, quote))


@require_GET
@explain_bad_link
@public_link_view("quote")
def quote_public_pdf(request, link):
    quote = _linked_quote(link)
    response = HttpResponse(render_quote_pdf(quote), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{quote_pdf_filename(quote)}"'
    return response


def _respond(request, link, form_class, answer):
    quote = _linked_quote(link)
    form = form_class(request.POST)
    if _public_state(link, quote) != "open" or not form.is_valid():
        name = "accept_form" if form_class is AcceptForm else "decline_form"
        context = _public_context(link, quote, **{name: form})
        return render(
            request,
            "quotes/quote_public.html",
            context,
            status=422 if _public_state(link, quote) == "open" else 409,
        )
    try:
        # The link is used in the same transaction as the answer: both commit or neither.
        with transaction.atomic():
            consume_link(link, purpose="quote")
            answer(quote, form.cleaned_data)
    except LinkUsed:
        return render(
            request,
            "quotes/quote_public.html",
            _public_context(link, quote, state="used"),
            status=409,
        )
    except LinkExpired as exc:
        return link_expired(request, exc.link)
    except ValidationError as exc:
        quote.refresh_from_db()
        context = _public_context(link, quote, problem=_explain(exc))
        return render(request, "quotes/quote_public.html", context, status=409)
    # 303: the browser fetches the answered page with GET, so a reload never re-posts.
    response = redirect("quotes:public", token=link.token)
    response.status_code = 303
    return response


@require_POST
@explain_bad_link
@public_link_view("quote")
def quote_public_accept(request, link):
    """Accept with a typed full name and an optional PO; time, name and IP are kept."""
    ip = client_ip(request)
    ip = None if ip == "unknown" else ip
    return _respond(
        request,
        link,
        AcceptForm,
        lambda quote, data: accept_quote(quote, by=None, name=data["name"], ip=ip, po=data["po"]),
    )


@require_POST
@explain_bad_link
@public_link_view("quote")
def quote_public_decline(request, link):
    """Decline with an optional reason."""
    return _respond(
        request,
        link,
        DeclineForm,
        lambda quote, data: decline_quote(quote, by=None, reason=data["reason"]),
    )
