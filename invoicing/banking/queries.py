"""Reads about bank statements: the list and one statement's review, never writes."""

from django.db.models import Count, Q

from invoicing.banking.models import BankLine, BankStatement


def statements():
    """Every statement, newest first, with how many lines still wait for finance."""
    open_states = [BankLine.Status.PROPOSED, BankLine.Status.UNMATCHED]
    return BankStatement.objects.select_related("uploaded_by").annotate(
        line_count=Count("lines"),
        open_count=Count("lines", filter=Q(lines__status__in=open_states)),
    )


def statement_lines(statement: BankStatement):
    """A statement's lines in file order, with their proposed invoices."""
    return statement.lines.select_related("customer", "receipt", "resolved_by").prefetch_related(
        "matches__invoice"
    )
