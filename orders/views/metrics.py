"""The managers' order-to-cash metrics: one page of figures with their definitions, filters
as GET parameters, server-drawn charts and a CSV export of every table."""

import csv
from datetime import date, timedelta
from decimal import Decimal

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from customers.models import Customer
from oms.accounts.roles import Role, has_role
from orders import metrics
from orders.metrics import charts
from orders.models import Order

TEMPLATE = "orders/metrics.html"
MAX_RANGE_DAYS = 366 * 5  # a longer range asks for a narrower one rather than a slow page
EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)  # dates the database and Python share
DEFAULT_DSO_REDUCTION = Decimal("5")
DEFAULT_LAG_REDUCTION = Decimal("2")


class MetricsFilterForm(forms.Form):
    """The page's GET parameters: every one optional, each checked with a clear message."""

    date_from = forms.DateField(label="From", required=False)
    date_to = forms.DateField(label="To", required=False)
    customer_type = forms.ChoiceField(
        label="Customer type", required=False, choices=[("", "Any"), *Customer.Segment.choices]
    )
    salesperson = forms.ModelChoiceField(
        label="Salesperson", required=False, queryset=None, empty_label="Anyone"
    )
    order_type = forms.ChoiceField(
        label="Order type", required=False, choices=[("", "Any"), *Order.Kind.choices]
    )
    dso_reduction = forms.DecimalField(
        label="Days off DSO", required=False, min_value=0, max_value=365, decimal_places=1
    )
    lag_reduction = forms.DecimalField(
        label="Days off invoicing lag",
        required=False,
        min_value=0,
        max_value=365,
        decimal_places=1,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["salesperson"].queryset = metrics.salespeople()
        self.fields["date_from"].widget = forms.DateInput(attrs={"type": "date"})
        self.fields["date_to"].widget = forms.DateInput(attrs={"type": "date"})

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        for day in (start, end):
            if day and not EARLIEST <= day <= LATEST:
                raise forms.ValidationError(
                    f"Choose dates between {EARLIEST:%d %b %Y} and {LATEST:%d %b %Y}."
                )
        if start and end:
            if start > end:
                raise forms.ValidationError("The start date must be on or before the end date.")
            if end - start > timedelta(days=MAX_RANGE_DAYS):
                raise forms.ValidationError("Choose a range of at most five years.")
        return data

    def filters(self) -> metrics.MetricFilters:
        data = self.cleaned_data
        owner = data.get("salesperson")
        return metrics.MetricFilters(
            date_from=data["date_from"],
            date_to=data["date_to"],
            segment=data.get("customer_type") or "",
            owner_id=owner.pk if owner else None,
            kind=data.get("order_type") or "",
        )


def _ensure_manager(request) -> None:
    if not has_role(request.user, Role.MANAGER):
        raise PermissionDenied("The metrics are for managers.")


def _form(request) -> MetricsFilterForm:
    """The filters from the query string; a parameter left out takes its default, so the
    fields (and the CSV links) always show what the figures were computed for."""
    params = request.GET.copy()
    params.pop("partial", None)
    defaults = metrics.default_filters()
    for name, value in (
        ("date_from", defaults.date_from),
        ("date_to", defaults.date_to),
        ("dso_reduction", DEFAULT_DSO_REDUCTION),
        ("lag_reduction", DEFAULT_LAG_REDUCTION),
    ):
        if not params.get(name, "").strip():
            params[name] = str(value)
    form = MetricsFilterForm(params)
    form.is_valid()
    return form


def _problems(form: MetricsFilterForm) -> list[str]:
    """Each error as a sentence naming the field it belongs to."""
    problems = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        problems += [f"{label}: {error}" if label else str(error) for error in errors]
    return problems


def _figures(form: MetricsFilterForm) -> dict:
    filters = form.filters()
    figures = metrics.all_figures(filters)
    capital = metrics.working_capital(
        figures["receivables"],
        figures["lag"],
        dso_reduction=form.cleaned_data["dso_reduction"],
        lag_reduction=form.cleaned_data["lag_reduction"],
    )
    return {**figures, "filters": filters, "capital": capital}


def _charts(figures: dict) -> dict:
    months = figures["receivables"]["months"]
    return {
        "trend": charts.lines(
            "DSO and average days to pay by month",
            [f"{row['month']:%b %y}" for row in months],
            [
                ("DSO (days)", [row["dso"] for row in months]),
                ("Days invoice to payment", [row["average_days_to_pay"] for row in months]),
            ],
        ),
        "funnel": charts.funnel(
            "Enquiries to paid orders",
            [(row["label"], row["count"]) for row in figures["cohort"]["funnel"]],
        ),
        "stages": charts.bars(
            "Average days in each stage",
            [(row["label"], row["average"]) for row in figures["stages"]],
            unit=" d",
        ),
    }


@require_GET
@login_required
@vary_on_headers("HX-Request")
def order_metrics(request):
    """Every order-to-cash metric for the chosen period and segment, with definitions."""
    _ensure_manager(request)
    form = _form(request)
    context = {"form": form, "query": form.data.urlencode()}
    status = 200
    if form.is_valid():
        figures = _figures(form)
        context.update(figures, charts=_charts(figures))
    else:
        context["problems"] = _problems(form)
        status = 400
    if request.htmx and request.GET.get("partial") == "metrics-results":
        return render(request, f"{TEMPLATE}#metrics-results", context, status=status)
    return render(request, TEMPLATE, context, status=status)


# --- CSV exports: one per table on the page, same filters ----------------------------------


def _conversion_rows(form):
    data = metrics.quote_conversion(form.filters())
    yield [
        "Segment",
        "Group",
        "Decided",
        "Accepted",
        "Declined",
        "Rate %",
        "Expired unanswered",
        "Accepted value",
    ]
    groups = [
        ("All", [data["overall"]]),
        ("Customer type", data["by_segment"]),
        ("Value band", data["by_band"]),
        ("Salesperson", data["by_owner"]),
    ]
    for dimension, rows in groups:
        for row in rows:
            yield [
                dimension,
                row["label"],
                row["decided"],
                row["accepted"],
                row["declined"],
                row["rate"],
                row["expired"],
                row["accepted_value"],
            ]


def _cycle_rows(form):
    filters = form.filters()
    cycle = metrics.cycle_times(filters)
    blocks = [
        ("Fulfilment: confirmed to delivered", cycle["fulfilment"]),
        ("Invoicing lag: delivered to invoice sent", metrics.invoicing_lag(filters)),
        ("Order to cash: enquiry to paid", cycle["enquiry_to_paid"]),
        ("Order to cash: confirmed to paid", cycle["confirmed_to_paid"]),
    ]
    yield ["Measure", "Orders", "Median days", "90th percentile days", "Average days"]
    for label, block in blocks:
        yield [label, block["count"], block["median"], block["p90"], block["average"]]


def _stage_rows(form):
    yield [
        "Stage",
        "Stays ended",
        "Median days",
        "90th percentile days",
        "Average days",
        "Total days",
    ]
    for row in metrics.time_in_stage(form.filters()):
        yield [
            row["label"],
            row["count"],
            row["median"],
            row["p90"],
            row["average"],
            row["total_days"],
        ]


def _receivables_rows(form):
    data = metrics.receivables_trend(form.filters())
    yield [
        "Month",
        "From",
        "To",
        "Invoiced",
        "Receivable at end",
        "DSO days",
        "Invoices settled",
        "Average days invoice to payment",
    ]
    for row in [*data["months"], {**data["total"], "month": None}]:
        yield [
            f"{row['month']:%Y-%m}" if row["month"] else "Whole period",
            row["first_day"],
            row["last_day"],
            row["invoiced"],
            row["receivable"],
            row["dso"],
            row["settled"],
            row["average_days_to_pay"],
        ]


def _accuracy_rows(form):
    row = metrics.invoice_accuracy(form.filters())
    yield ["Invoices issued", "Disputed", "Credited or void", "Accurate", "Accuracy %"]
    yield [row["issued"], row["disputed"], row["credited"], row["accurate"], row["rate"]]


def _funnel_rows(form):
    yield ["Stage reached", "Orders", "Share of enquiries %"]
    for row in metrics.enquiry_cohort(form.filters())["funnel"]:
        yield [row["label"], row["count"], row["share"]]


def _exception_rows(form):
    cohort = metrics.enquiry_cohort(form.filters())
    yield ["Exception", "Orders", "Share of enquiries %"]
    for row in cohort["exceptions"]:
        yield [row["label"], row["count"], row["share"]]
    yield ["Any exception", cohort["with_exception"], cohort["exception_rate"]]


def _capital_rows(form):
    filters = form.filters()
    capital = metrics.working_capital(
        metrics.receivables_trend(filters),
        metrics.invoicing_lag(filters),
        dso_reduction=form.cleaned_data["dso_reduction"],
        lag_reduction=form.cleaned_data["lag_reduction"],
    )
    yield [
        "Invoiced in period",
        "Days",
        "Run-rate per day",
        "DSO days",
        "Average lag days",
        "Days off DSO",
        "Freed by DSO",
        "Days off lag",
        "Freed by lag",
        "Freed in total",
    ]
    yield [
        capital["invoiced"],
        capital["days"],
        capital["run_rate"],
        capital["dso"],
        capital["lag"],
        capital["dso_reduction"],
        capital["freed_by_dso"],
        capital["lag_reduction"],
        capital["freed_by_lag"],
        capital["freed_total"],
    ]


EXPORTS = {
    "conversion": _conversion_rows,
    "funnel": _funnel_rows,
    "cycle-times": _cycle_rows,
    "stages": _stage_rows,
    "receivables": _receivables_rows,
    "accuracy": _accuracy_rows,
    "exceptions": _exception_rows,
    "working-capital": _capital_rows,
}


@require_GET
@login_required
def order_metrics_export(request, table: str):
    """One table of the metrics page as CSV, for the same filters."""
    _ensure_manager(request)
    rows = EXPORTS.get(table)
    if rows is None:
        raise Http404("No such table.")
    form = _form(request)
    if not form.is_valid():
        return HttpResponse(
            "\n".join(_problems(form)), status=400, content_type="text/plain; charset=utf-8"
        )
    filters = form.filters()
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{table}-{filters.date_from}-to-{filters.date_to}.csv"'
    )
    writer = csv.writer(response)
    for row in rows(form):
        writer.writerow(["" if value is None else value for value in row])
    return response
