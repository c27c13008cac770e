"""Spreadsheet imports: each upload is an ImportJob, and each person's column mapping is
remembered per kind of import for next time."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


def _upload_to(instance: "ImportJob", filename: str) -> str:
    """A random stored name; the person's file name is kept only as data, never as a path."""
    import uuid

    return f"private/imports/{timezone.now():%Y/%m}/{uuid.uuid4().hex}"


class ImportKind(models.TextChoices):
    CUSTOMERS = "customers", "Customers and contacts"
    PRODUCTS = "products", "Products"
    ORDERS = "orders", "Open orders with lines"


class ImportJobQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Managers see every import; everyone else sees their own."""
        from oms.accounts.roles import Role, has_role

        if has_role(user, Role.MANAGER):
            return self
        if user is None or not user.is_authenticated:
            return self.none()
        return self.filter(created_by=user)

    def delete(self):
        raise TypeError("Imports are kept as the record of what was loaded.")


class ImportJob(models.Model):
    """One uploaded file on its way into the OMS: mapped, previewed, then run once.

    An import is all-or-nothing unless `skip_invalid` is set: rows that fail their checks
    then are skipped (and listed with the reason) while the rest are written."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", "Uploaded"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        REJECTED = "rejected", "Rejected: nothing imported"
        FAILED = "failed", "Failed: nothing imported"

    FINISHED_STATES = (Status.DONE, Status.REJECTED, Status.FAILED)

    kind = models.CharField(max_length=16, choices=ImportKind.choices)
    file = models.FileField(upload_to=_upload_to, max_length=200)
    original_name = models.CharField(max_length=200, blank=True)
    file_format = models.CharField(max_length=8, default="csv")
    headers = models.JSONField(default=list, blank=True)
    sample = models.JSONField(
        default=list, blank=True, help_text="The first data rows, shown beside the columns."
    )
    mapping = models.JSONField(default=dict, blank=True, help_text="Field name to column header.")
    skip_invalid = models.BooleanField("skip invalid rows", default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.UPLOADED)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(
        default=list, blank=True, help_text="Rows that were refused: [{row, message}]."
    )
    message = models.TextField(blank=True, help_text="Why the import failed, when it did.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="import_jobs"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["customers", "products", "orders"]),
                name="importjob_kind_known",
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=["uploaded", "queued", "running", "done", "rejected", "failed"]
                ),
                name="importjob_status_known",
            ),
        ]
        indexes = [models.Index(fields=["created_by", "-created_at"], name="importjob_by_idx")]

    def __str__(self) -> str:
        return f"Import #{self.pk} ({self.get_kind_display()}, {self.original_name})"

    def delete(self, *args, **kwargs):
        raise TypeError("Imports are kept as the record of what was loaded.")

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED_STATES

    @property
    def is_in_flight(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)


class ColumnMapping(models.Model):
    """The columns a person last matched to each field for one kind of import."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="import_mappings"
    )
    kind = models.CharField(max_length=16, choices=ImportKind.choices)
    mapping = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="columnmapping_user_kind_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.kind}"
