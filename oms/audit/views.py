from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from oms.audit.forms import AuditFilterForm
from oms.audit.queries import audit_entries

PER_PAGE = 50


@require_GET
@login_required
def audit_log(request):
    """Administrators read who did what sensitive thing, from where and when. Read-only."""
    if not request.user.is_superuser:
        raise PermissionDenied("The audit log is for administrators.")
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    entries = audit_entries(**filters)
    page = Paginator(entries, PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode()}
    status = 400 if form.is_bound and not form.is_valid() else 200
    return render(request, "audit/audit_log.html", context, status=status)
