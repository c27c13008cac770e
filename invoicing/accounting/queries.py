"""Reads for the Xero pages: sync records by status, the recent log, counts for the header."""

from django.db.models import Count, QuerySet

from invoicing.accounting.models import SyncLog, SyncRecord


def sync_records(status: str = "") -> QuerySet[SyncRecord]:
    records = SyncRecord.objects.all()
    if status in SyncRecord.Status.values:
        records = records.filter(status=status)
    return records.order_by("-updated_at", "-id")


def sync_counts() -> dict[str, int]:
    counts = dict.fromkeys(SyncRecord.Status.values, 0)
    for row in SyncRecord.objects.values("status").annotate(n=Count("id")):
        counts[row["status"]] = row["n"]
    return counts


def recent_sync_log(limit: int = 200) -> QuerySet[SyncLog]:
    return SyncLog.objects.select_related("record").order_by("-created_at", "-id")[:limit]
