"""Bank statements in the admin: read only; finance reviews them on the Bank pages."""

from django.contrib import admin

from invoicing.admin import ReadOnlyAdmin
from invoicing.banking.models import BankLine, BankStatement


@admin.register(BankStatement)
class BankStatementAdmin(ReadOnlyAdmin):
    list_display = ("filename", "currency", "uploaded_at", "uploaded_by")


@admin.register(BankLine)
class BankLineAdmin(ReadOnlyAdmin):
    list_display = ("statement", "row_number", "date", "amount", "reference", "status")
    list_filter = ("status",)
    search_fields = ("reference", "payer")
    list_select_related = ("statement",)
