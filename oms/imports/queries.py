"""Reads for imports and exports: the import list, progress, and the rows each export
writes (the same filters as the list page it is started from)."""

from django.core.cache import cache
from django.db.models import Prefetch, Q, QuerySet, prefetch_related_objects

from oms.imports.models import ImportJob
from orders.models import Order, OrderLine, Product
from orders.queries import search_orders


def recent_imports(user, *, limit: int = 20) -> list[ImportJob]:
    return list(ImportJob.objects.visible_to(user).select_related("created_by")[:limit])


def rows_done(job: ImportJob) -> int:
    """Rows written so far: the worker's running count while the job is in flight."""
    if job.is_in_flight:
        from oms.imports.services import progress_key

        return int(cache.get(progress_key(job.pk)) or 0)
    return job.processed_rows


def progress_percent(job: ImportJob) -> int:
    if job.is_finished:
        return 100
    if not job.total_rows:
        return 0
    return min(100, rows_done(job) * 100 // job.total_rows)


# --- list pages and their exports ------------------------------------------------------------


def product_list(*, q: str = "", status: str = "active") -> QuerySet:
    products = Product.objects.all()
    if status == "active":
        products = products.filter(active=True)
    elif status == "archived":
        products = products.filter(active=False)
    if q:
        products = products.filter(Q(code__icontains=q) | Q(name__icontains=q))
    return products.order_by("code")


def order_list(user, *, q: str = "", limit: int = 100_000) -> list[Order]:
    """The orders the search page shows for `q` (every order `user` may see when `q` is
    blank), newest first, with customer, owner and lines loaded for the export."""
    if q:
        orders = search_orders(user, q, limit=limit).orders
    else:
        orders = list(
            Order.objects.visible_to(user)
            .select_related("customer", "owner")
            .order_by("-created_at", "-id")[:limit]
        )
    prefetch_related_objects(
        orders, Prefetch("lines", queryset=OrderLine.objects.select_related("product"))
    )
    return orders
