"""Order-to-cash metrics for managers, each one SQL statement over the whole data set.

Every figure is an aggregate computed in PostgreSQL (FILTER, percentile_cont, window
functions over the timeline); no function here loads orders into Python. Each takes one
`MetricFilters` (a date range plus customer type, salesperson and order type) and returns
plain dicts ready for the page and its CSV exports.

Durations are in days (to one decimal place); money is summed as stored, in the currency
mix of the invoices (as the receivables report does).
"""

import hashlib
import itertools
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from orders.models import EXCEPTION_DETAIL_KEYS, EXCEPTION_STEPS, Order

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
TENTH = Decimal("0.1")

# The stages of the lifecycle in order, for time in stage (closed stages last).
STAGE_ORDER = (
    Order.Status.ENQUIRY,
    Order.Status.QUOTED,
    Order.Status.CONFIRMED,
    Order.Status.IN_PROGRESS,
    Order.Status.ON_HOLD,
    Order.Status.DELIVERED,
    Order.Status.INVOICED,
    Order.Status.PAID,
    Order.Status.LOST,
    Order.Status.CANCELLED,
)

# The steps that leave the standard path, as the timeline records them.
EXCEPTION_KINDS = (
    ("hold", "Put on hold"),
    ("rework", "Rework after delivery"),
    ("change_request", "Change request"),
    ("cancel", "Cancelled"),
    ("reopen", "Reopened after being lost"),
    ("correction", "Billing corrected (credit note, void or billing reopened)"),
)


def _step_sql(source: str | None, target: str) -> str:
    if source is None:
        return f"e.to_state = '{target}'"
    return f"(e.from_state = '{source}' AND e.to_state = '{target}')"


# Timeline rows that can mark an exception, the same condition as the partial index
# timeline_exception_idx (orders.models), so only those rows are read.
EXCEPTION_EVENTS = (
    "((e.kind = 'transition' AND ("
    + " OR ".join(_step_sql(source, target) for source, target in EXCEPTION_STEPS)
    + ")) OR (NOT (e.kind = 'transition') AND ("
    + " OR ".join(f"e.details ? '{key}'" for key in EXCEPTION_DETAIL_KEYS)
    + ")))"
)

# The funnel: orders of the cohort that reached each stage (or a later one).
FUNNEL_STAGES = (
    ("enquiries", "Enquiries"),
    ("quoted", "Quoted or confirmed"),
    ("confirmed", "Confirmed"),
    ("delivered", "Delivered"),
    ("invoiced", "Invoiced"),
    ("paid", "Paid"),
)


@dataclass(frozen=True)
class MetricFilters:
    """What the managers chose: an inclusive range of business dates and optional
    customer type (segment), salesperson (order owner) and order type (kind)."""

    date_from: date
    date_to: date
    segment: str = ""
    owner_id: int | None = None
    kind: str = ""

    @property
    def start(self) -> datetime:
        """The first moment of `date_from` in the business time zone."""
        return timezone.make_aware(datetime.combine(self.date_from, time.min))

    @property
    def end(self) -> datetime:
        """The first moment after `date_to` (ranges are half-open on timestamps)."""
        return timezone.make_aware(datetime.combine(self.date_to + timedelta(days=1), time.min))

    @property
    def days(self) -> int:
        return (self.date_to - self.date_from).days + 1


def default_filters(today: date | None = None) -> MetricFilters:
    """The last twelve months, from the first of the month eleven months ago to today."""
    today = today or timezone.localdate()
    year, month = today.year, today.month - 11
    if month < 1:
        year, month = year - 1, month + 12
    return MetricFilters(date_from=date(year, month, 1), date_to=today)


# --- SQL plumbing ----------------------------------------------------------------------


def _table(label: str) -> str:
    return connection.ops.quote_name(apps.get_model(label)._meta.db_table)


def _tables() -> dict[str, str]:
    # Models named by label: orders sits below quotes and invoicing and does not import them.
    return {
        "order": _table("orders.Order"),
        "timeline": _table("orders.TimelineEvent"),
        "customer": _table("customers.Customer"),
        "quote": _table("quotes.Quote"),
        "invoice": _table("invoicing.Invoice"),
        "payment": _table("invoicing.Payment"),
        "user": _table(settings.AUTH_USER_MODEL),
    }


def _params(filters: MetricFilters) -> dict:
    return {
        "start": filters.start,
        "end": filters.end,
        "date_from": filters.date_from,
        "date_to": filters.date_to,
        "segment": filters.segment,
        "owner_id": filters.owner_id,
        "kind": filters.kind,
    }


def _order_filter(filters: MetricFilters, alias: str = "o") -> str:
    """SQL conditions on the order `alias` for the chosen customer type, salesperson and
    order type (each an indexed equality), starting with AND."""
    tables = _tables()
    sql = ""
    if filters.segment:
        customers = tables["customer"]
        sql += (
            f" AND {alias}.customer_id IN (SELECT id FROM {customers} WHERE segment = %(segment)s)"  # noqa: S608
        )
    if filters.owner_id:
        sql += f" AND {alias}.owner_id = %(owner_id)s"
    if filters.kind:
        sql += f" AND {alias}.kind = %(kind)s"
    return sql


def _fetch(sql: str, params: dict) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _days_between(later: str, earlier: str) -> str:
    """SQL for the days (fractional) from timestamp `earlier` to `later`."""
    return f"(EXTRACT(EPOCH FROM ({later} - {earlier})) / 86400.0)"


def _stats(expr: str, where: str, prefix: str) -> str:
    """Count, median, 90th percentile and average of `expr` over rows matching `where`,
    as SQL select items named `<prefix>_count` and so on, rounded to a tenth of a day."""
    only = f"FILTER (WHERE {where})"
    return f"""
        COUNT(*) {only} AS {prefix}_count,
        ROUND((PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY {expr}) {only})::numeric, 1)
            AS {prefix}_median,
        ROUND((PERCENTILE_CONT(0.9) WITHIN GROUP (ORDER BY {expr}) {only})::numeric, 1)
            AS {prefix}_p90,
        ROUND((AVG({expr}) {only})::numeric, 1) AS {prefix}_average"""


def _ratio(part: int, whole: int) -> Decimal | None:
    """`part` of `whole` as a percentage to one decimal place; None when `whole` is 0."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(TENTH, rounding=ROUND_HALF_UP)


# --- quote conversion --------------------------------------------------------------------


def value_bands() -> list[Decimal]:
    """The configured band boundaries (settings.METRICS_VALUE_BANDS), ascending."""
    return sorted({Decimal(str(bound)) for bound in settings.METRICS_VALUE_BANDS})


def band_labels(bounds: list[Decimal]) -> list[str]:
    """'Under 1,000', '1,000 to 5,000', ..., '20,000 and over' for the bands' indexes."""
    if not bounds:
        return ["Any value"]

    def money(value: Decimal) -> str:
        return f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,.2f}"

    labels = [f"Under {money(bounds[0])}"]
    labels += [f"{money(low)} to {money(high)}" for low, high in itertools.pairwise(bounds)]
    labels.append(f"{money(bounds[-1])} and over")
    return labels


def _band_case(bounds: list[Decimal], column: str, params: dict) -> str:
    """A CASE giving the index of the band `column` falls in (0 = under the first bound)."""
    if not bounds:
        return "0"
    whens = []
    for index, bound in enumerate(bounds):
        params[f"band_{index}"] = bound
        whens.append(f"WHEN {column} < %(band_{index})s THEN {index}")
    return f"CASE {' '.join(whens)} ELSE {len(bounds)} END"


def quote_conversion(filters: MetricFilters) -> dict:
    """Decided quotes (accepted or declined by the customer, dated by the decision) in the
    period, and the share accepted: overall and by customer type, value band (the quote's
    gross total) and salesperson, in one grouping-sets query. Quotes that expired
    unanswered are counted beside them, not as decisions."""
    t = _tables()
    params = _params(filters)
    bounds = value_bands()
    band = _band_case(bounds, "q.gross_total", params)
    rows = _fetch(
        f"""
        WITH decided AS (
            SELECT q.status, q.gross_total, c.segment, o.owner_id, {band} AS band
            FROM {t["quote"]} q
            JOIN {t["order"]} o ON o.id = q.order_id
            JOIN {t["customer"]} c ON c.id = o.customer_id
            WHERE q.status IN ('accepted', 'declined', 'expired')
              AND COALESCE(q.accepted_at, q.declined_at, q.expired_at) >= %(start)s
              AND COALESCE(q.accepted_at, q.declined_at, q.expired_at) < %(end)s
              {_order_filter(filters)}
        )
        SELECT GROUPING(d.segment) AS all_segments, GROUPING(d.band) AS all_bands,
               GROUPING(d.owner_id) AS all_owners, d.segment, d.band, d.owner_id,
               MAX(u.first_name) AS first_name, MAX(u.last_name) AS last_name,
               MAX(u.email) AS email,
               COUNT(*) FILTER (WHERE d.status <> 'expired') AS decided,
               COUNT(*) FILTER (WHERE d.status = 'accepted') AS accepted,
               COUNT(*) FILTER (WHERE d.status = 'expired') AS expired,
               COALESCE(SUM(d.gross_total) FILTER (WHERE d.status = 'accepted'), 0)
                   AS accepted_value
        FROM decided d LEFT JOIN {t["user"]} u ON u.id = d.owner_id
        GROUP BY GROUPING SETS ((), (d.segment), (d.band), (d.owner_id))
        """,  # noqa: S608 - names from model metadata, values bound
        params,
    )
    from customers.models import Customer

    segments = dict(Customer.Segment.choices)
    labels = band_labels(bounds)
    result: dict = {
        "overall": _conversion_row("All decided quotes", {}),
        "by_segment": [],
        "by_band": [],
        "by_owner": [],
    }
    for row in rows:
        if not row["all_segments"]:
            label = segments.get(row["segment"], row["segment"])
            result["by_segment"].append(_conversion_row(label, row))
        elif not row["all_bands"]:
            result["by_band"].append(_conversion_row(labels[row["band"]], row, key=row["band"]))
        elif not row["all_owners"]:
            name = f"{row['first_name'] or ''} {row['last_name'] or ''}".strip()
            result["by_owner"].append(_conversion_row(name or row["email"] or "—", row))
        else:
            result["overall"] = _conversion_row("All decided quotes", row)
    result["by_segment"].sort(key=lambda r: r["label"])
    result["by_band"].sort(key=lambda r: r["key"])
    result["by_owner"].sort(key=lambda r: r["label"])
    return result


def _conversion_row(label: str, row: dict, key=None) -> dict:
    decided, accepted = row.get("decided", 0), row.get("accepted", 0)
    return {
        "label": label,
        "key": key,
        "decided": decided,
        "accepted": accepted,
        "declined": decided - accepted,
        "expired": row.get("expired", 0),
        "rate": _ratio(accepted, decided),
        "accepted_value": row.get("accepted_value", ZERO),
    }


# --- cycle times ---------------------------------------------------------------------------


def cycle_times(filters: MetricFilters) -> dict:
    """From the orders' own stage timestamps, in one query:
    fulfilment (confirmed to delivered) for orders delivered in the period, and
    order-to-cash (enquiry to paid, confirmed to paid) for orders paid in the period."""
    t = _tables()
    delivered = "o.delivered_at >= %(start)s AND o.delivered_at < %(end)s"
    paid = "o.paid_at >= %(start)s AND o.paid_at < %(end)s"
    row = _fetch(
        f"""
        SELECT
            {
            _stats(
                _days_between("o.delivered_at", "o.confirmed_at"),
                f"{delivered} AND o.confirmed_at IS NOT NULL",
                "fulfilment",
            )
        },
            {_stats(_days_between("o.paid_at", "o.enquiry_at"), paid, "enquiry_to_paid")},
            {
            _stats(
                _days_between("o.paid_at", "o.confirmed_at"),
                f"{paid} AND o.confirmed_at IS NOT NULL",
                "confirmed_to_paid",
            )
        }
        FROM {t["order"]} o
        WHERE (({delivered}) OR ({paid})) {_order_filter(filters)}
        """,  # noqa: S608 - names from model metadata, values bound
        _params(filters),
    )[0]
    return {
        name: _stat_block(row, name)
        for name in ("fulfilment", "enquiry_to_paid", "confirmed_to_paid")
    }


def _stat_block(row: dict, prefix: str) -> dict:
    return {key: row[f"{prefix}_{key}"] for key in ("count", "median", "p90", "average")}


def invoicing_lag(filters: MetricFilters) -> dict:
    """Days from delivery to the first final invoice sent on or after it, for orders whose
    first such invoice was sent in the period."""
    t = _tables()
    row = _fetch(
        f"""
        WITH lags AS (
            SELECT MIN(i.sent_at) AS sent_at, o.delivered_at
            FROM {t["order"]} o
            JOIN {t["invoice"]} i ON i.order_id = o.id
            WHERE i.kind = 'final' AND i.sent_at >= o.delivered_at AND i.sent_at < %(end)s
              {_order_filter(filters)}
            GROUP BY o.id, o.delivered_at
            HAVING MIN(i.sent_at) >= %(start)s
        )
        SELECT {_stats(_days_between("sent_at", "delivered_at"), "TRUE", "lag")}
        FROM lags
        """,  # noqa: S608 - names from model metadata, values bound
        _params(filters),
    )[0]
    return _stat_block(row, "lag")


# --- time in each stage (timeline, window functions) -----------------------------------------


def time_in_stage(filters: MetricFilters) -> list[dict]:
    """How long orders stayed in each stage, from the timeline: each transition opens a
    stay in its target stage, and the order's next transition (LEAD over its transitions)
    closes it. Stays that ended in the period are counted; a stay still open is not.

    Only orders that changed stage since the period began can have a stay ending in it
    (status_changed_at is the latest transition), so the window runs over those alone."""
    t = _tables()
    rows = _fetch(
        f"""
        WITH stays AS (
            SELECT e.to_state AS stage, e.created_at AS entered,
                   LEAD(e.created_at) OVER (
                       PARTITION BY e.order_id ORDER BY e.created_at, e.id
                   ) AS left_at
            FROM {t["timeline"]} e
            JOIN {t["order"]} o ON o.id = e.order_id
            WHERE e.kind = 'transition' AND e.created_at < %(end)s
              AND o.status_changed_at >= %(start)s {_order_filter(filters)}
        )
        SELECT stage, {_stats(_days_between("left_at", "entered"), "TRUE", "stay")},
               ROUND(SUM({_days_between("left_at", "entered")})::numeric, 1) AS total_days
        FROM stays
        WHERE left_at >= %(start)s AND left_at < %(end)s AND stage <> ''
        GROUP BY stage
        """,  # noqa: S608 - names from model metadata, values bound
        _params(filters),
    )
    labels = dict(Order.Status.choices)
    position = {stage: index for index, stage in enumerate(STAGE_ORDER)}
    stays = [
        {
            "stage": row["stage"],
            "label": labels.get(row["stage"], row["stage"]),
            "total_days": row["total_days"],
            **_stat_block(row, "stay"),
        }
        for row in rows
    ]
    return sorted(stays, key=lambda row: position.get(row["stage"], len(position)))


# --- receivables: DSO and days to pay by month ------------------------------------------------


def receivables_trend(filters: MetricFilters) -> dict:
    """Month by month within the period: invoiced (issued invoices, gross), receivables at
    the month's end (issued less payments and credit notes dated by then, carried forward
    with a running SUM OVER the months), DSO = receivables / invoiced x days, and the
    average days from issue to the payment that settled an invoice, for invoices settled in
    the month. Void invoices and the credit notes that void them cancel out and are left out.
    The totals row covers the whole period."""
    t = _tables()
    rows = _fetch(
        f"""
        WITH inv AS (
            SELECT i.id, i.issue_date, i.gross_total, i.status
            FROM {t["invoice"]} i JOIN {t["order"]} o ON o.id = i.order_id
            WHERE i.kind <> 'credit_note' AND i.status NOT IN ('draft', 'void')
              AND i.issue_date <= %(date_to)s {_order_filter(filters)}
        ),
        movements AS (
            SELECT issue_date AS day, gross_total AS invoiced, gross_total AS change FROM inv
            UNION ALL
            SELECT p.date, 0, -p.amount
            FROM {t["payment"]} p JOIN inv ON inv.id = p.invoice_id
            WHERE p.date <= %(date_to)s
            UNION ALL
            SELECT n.issue_date, 0, -n.gross_total
            FROM {t["invoice"]} n JOIN inv ON inv.id = n.credited_invoice_id
            WHERE n.kind = 'credit_note' AND n.status NOT IN ('draft', 'void')
              AND n.issue_date <= %(date_to)s
        ),
        months AS (
            SELECT m::date AS month,
                   GREATEST(m::date, %(date_from)s::date) AS first_day,
                   LEAST((m + INTERVAL '1 month')::date - 1, %(date_to)s::date) AS last_day
            FROM generate_series(
                date_trunc('month', %(date_from)s::timestamp),
                date_trunc('month', %(date_to)s::timestamp),
                INTERVAL '1 month'
            ) AS m
        ),
        by_month AS (
            SELECT date_trunc('month', day)::date AS month,
                   SUM(invoiced) AS invoiced, SUM(change) AS change
            FROM movements
            WHERE day BETWEEN %(date_from)s AND %(date_to)s
            GROUP BY 1
        ),
        monthly AS (
            SELECT months.month, months.first_day, months.last_day,
                   COALESCE(b.invoiced, 0) AS invoiced, COALESCE(b.change, 0) AS change
            FROM months LEFT JOIN by_month b ON b.month = months.month
        ),
        settled AS (
            SELECT date_trunc('month', s.settled_on)::date AS month, COUNT(*) AS settled,
                   SUM(s.settled_on - s.issue_date) AS days_to_pay
            FROM (
                SELECT inv.issue_date, MAX(p.date) AS settled_on
                FROM inv JOIN {t["payment"]} p ON p.invoice_id = inv.id
                WHERE inv.status = 'paid'
                GROUP BY inv.id, inv.issue_date
            ) s
            WHERE s.settled_on BETWEEN %(date_from)s AND %(date_to)s
            GROUP BY 1
        )
        SELECT m.month, m.first_day, m.last_day, m.invoiced,
               (SELECT COALESCE(SUM(change), 0) FROM movements WHERE day < %(date_from)s)
                 + SUM(m.change) OVER (ORDER BY m.month) AS receivable,
               COALESCE(s.settled, 0) AS settled, COALESCE(s.days_to_pay, 0) AS days_to_pay
        FROM monthly m LEFT JOIN settled s ON s.month = m.month
        ORDER BY m.month
        """,  # noqa: S608 - names from model metadata, values bound
        _params(filters),
    )
    months = [_receivables_row(row) for row in rows]
    total = {
        "first_day": filters.date_from,
        "last_day": filters.date_to,
        "invoiced": sum((row["invoiced"] for row in rows), ZERO),
        "receivable": rows[-1]["receivable"] if rows else ZERO,
        "settled": sum(row["settled"] for row in rows),
        "days_to_pay": sum(row["days_to_pay"] for row in rows),
    }
    return {"months": months, "total": _receivables_row(total)}


def _receivables_row(row: dict) -> dict:
    days = (row["last_day"] - row["first_day"]).days + 1
    invoiced, receivable = Decimal(row["invoiced"]), Decimal(row["receivable"])
    dso = (receivable / invoiced * days).quantize(TENTH) if invoiced > 0 else None
    settled = row["settled"]
    average = (
        (Decimal(row["days_to_pay"]) / settled).quantize(TENTH, rounding=ROUND_HALF_UP)
        if settled
        else None
    )
    return {
        "month": row.get("month"),
        "first_day": row["first_day"],
        "last_day": row["last_day"],
        "days": days,
        "invoiced": invoiced.quantize(CENT),
        "receivable": receivable.quantize(CENT),
        "dso": dso,
        "settled": settled,
        "average_days_to_pay": average,
    }


# --- invoice accuracy ---------------------------------------------------------------------------


def invoice_accuracy(filters: MetricFilters) -> dict:
    """Invoices (not credit notes) issued in the period, and the share never disputed and
    never credited (a credit note against it, or voided)."""
    t = _tables()
    row = _fetch(
        f"""
        SELECT COUNT(*) AS issued,
               COUNT(*) FILTER (WHERE i.disputed_at IS NOT NULL) AS disputed,
               COUNT(*) FILTER (WHERE i.amount_credited > 0 OR i.status = 'void') AS credited,
               COUNT(*) FILTER (
                   WHERE i.disputed_at IS NULL AND i.amount_credited = 0 AND i.status <> 'void'
               ) AS accurate
        FROM {t["invoice"]} i JOIN {t["order"]} o ON o.id = i.order_id
        WHERE i.kind <> 'credit_note' AND i.number IS NOT NULL
          AND i.issue_date BETWEEN %(date_from)s AND %(date_to)s {_order_filter(filters)}
        """,  # noqa: S608 - names from model metadata, values bound
        _params(filters),
    )[0]
    return {**row, "rate": _ratio(row["accurate"], row["issued"])}


# --- the enquiry cohort: funnel and exceptions ---------------------------------------------------


def enquiry_cohort(filters: MetricFilters) -> dict:
    """Orders whose enquiry was captured in the period: how far they got (the funnel) and
    how many left the standard path at any step so far (exceptions), read from each
    order's timeline with one grouped pass."""
    t = _tables()
    row = _fetch(
        f"""
        WITH cohort AS (
            SELECT o.id, o.quoted_at, o.confirmed_at, o.delivered_at, o.invoiced_at, o.paid_at
            FROM {t["order"]} o
            WHERE o.enquiry_at >= %(start)s AND o.enquiry_at < %(end)s {_order_filter(filters)}
        ),
        flags AS (
            SELECT e.order_id,
                BOOL_OR(e.kind = 'transition' AND e.to_state = 'on_hold') AS hold,
                BOOL_OR(e.kind = 'transition' AND e.from_state = 'delivered'
                        AND e.to_state = 'in_progress') AS rework,
                BOOL_OR(e.details ? 'change_request') AS change_request,
                BOOL_OR(e.kind = 'transition' AND e.to_state = 'cancelled') AS cancel,
                BOOL_OR(e.kind = 'transition' AND e.from_state = 'lost'
                        AND e.to_state = 'enquiry') AS reopen,
                BOOL_OR(e.details ? 'credit_note' OR (e.kind = 'transition'
                        AND e.from_state = 'invoiced' AND e.to_state = 'delivered'))
                    AS correction
            FROM {t["timeline"]} e JOIN cohort ON cohort.id = e.order_id
            WHERE {EXCEPTION_EVENTS}
            GROUP BY e.order_id
        )
        SELECT COUNT(*) AS enquiries,
            COUNT(*) FILTER (WHERE c.quoted_at IS NOT NULL OR c.confirmed_at IS NOT NULL)
                AS quoted,
            COUNT(*) FILTER (WHERE c.confirmed_at IS NOT NULL) AS confirmed,
            COUNT(*) FILTER (WHERE c.delivered_at IS NOT NULL) AS delivered,
            COUNT(*) FILTER (WHERE c.invoiced_at IS NOT NULL) AS invoiced,
            COUNT(*) FILTER (WHERE c.paid_at IS NOT NULL) AS paid,
            COUNT(*) FILTER (WHERE f.hold) AS ex_hold,
            COUNT(*) FILTER (WHERE f.rework) AS ex_rework,
            COUNT(*) FILTER (WHERE f.change_request) AS ex_change_request,
            COUNT(*) FILTER (WHERE f.cancel) AS ex_cancel,
            COUNT(*) FILTER (WHERE f.reopen) AS ex_reopen,
            COUNT(*) FILTER (WHERE f.correction) AS ex_correction,
            COUNT(*) FILTER (WHERE f.hold OR f.rework OR f.change_request OR f.cancel
                             OR f.reopen OR f.correction) AS ex_any
        FROM cohort c LEFT JOIN flags f ON f.order_id = c.id
        """,  # noqa: S608 - names from model metadata, values bound
        _params(filters),
    )[0]
    total = row["enquiries"]
    funnel = [
        {"key": key, "label": label, "count": row[key], "share": _ratio(row[key], total)}
        for key, label in FUNNEL_STAGES
    ]
    exceptions = [
        {
            "key": key,
            "label": label,
            "count": row[f"ex_{key}"],
            "share": _ratio(row[f"ex_{key}"], total),
        }
        for key, label in EXCEPTION_KINDS
    ]
    return {
        "orders": total,
        "funnel": funnel,
        "exceptions": exceptions,
        "with_exception": row["ex_any"],
        "exception_rate": _ratio(row["ex_any"], total),
    }


# --- working capital --------------------------------------------------------------------------


def working_capital(
    receivables: dict, lag: dict, *, dso_reduction: Decimal, lag_reduction: Decimal
) -> dict:
    """Cash a shorter DSO or invoicing lag would free: the revenue run-rate (invoiced in
    the period / days in the period) times the days taken off. Arithmetic on the period's
    totals only."""
    total = receivables["total"]
    run_rate = (total["invoiced"] / total["days"]).quantize(CENT) if total["days"] else ZERO
    return {
        "invoiced": total["invoiced"],
        "days": total["days"],
        "run_rate": run_rate,
        "dso": total["dso"],
        "lag": lag["average"],
        "dso_reduction": dso_reduction,
        "lag_reduction": lag_reduction,
        "freed_by_dso": (run_rate * dso_reduction).quantize(CENT),
        "freed_by_lag": (run_rate * lag_reduction).quantize(CENT),
        "freed_total": (run_rate * (dso_reduction + lag_reduction)).quantize(CENT),
    }


# --- the whole page, kept for a few minutes -------------------------------------------------------


def all_figures(filters: MetricFilters) -> dict:
    """Every metric of the page for `filters`, with `computed_at`. Kept in the cache for
    settings.METRICS_CACHE_SECONDS (0 computes them on every view): month-by-month figures
    move slowly, and a busy business must not recompute them for every manager's view."""
    seconds = settings.METRICS_CACHE_SECONDS
    now = timezone.now()
    key = _cache_key(filters)
    kept = cache.get(key) if seconds else None
    if kept is not None:
        if now - kept["computed_at"] < timedelta(seconds=seconds):
            return kept
        # Stale: one view computes afresh while the others show the kept figures a little
        # longer, so a busy minute does not run the same heavy queries side by side.
        if not cache.add(f"{key}:computing", True, timeout=120):
            return kept
    figures = {
        "computed_at": now,
        "conversion": quote_conversion(filters),
        "cycle": cycle_times(filters),
        "lag": invoicing_lag(filters),
        "stages": time_in_stage(filters),
        "receivables": receivables_trend(filters),
        "accuracy": invoice_accuracy(filters),
        "cohort": enquiry_cohort(filters),
    }
    if seconds:
        cache.set(key, figures, seconds * 2)
        cache.delete(f"{key}:computing")
    return figures


def _cache_key(filters: MetricFilters) -> str:
    # The database's name keeps apart databases that share one cache.
    identity = repr((connection.settings_dict["NAME"], filters, value_bands(), settings.TIME_ZONE))
    return "metrics:" + hashlib.sha256(identity.encode()).hexdigest()


def salespeople():
    """People who may own orders, for the salesperson filter (one query)."""
    from django.contrib.auth import get_user_model

    from oms.accounts.roles import Role

    return (
        get_user_model()
        .objects.filter(groups__name__in=[Role.SALES.value, Role.MANAGER.value])
        .distinct()
        .order_by("first_name", "last_name", "email")
    )
