"""Customer views: the customer list, and the type-ahead used wherever a customer is chosen."""

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from customers.models import Customer
from customers.queries import customer_list, search_customers
from oms.accounts.roles import Role, has_role


@require_GET
@login_required
@vary_on_headers("HX-Request")
def customer_typeahead(request):
    """Matching customers as a list of choices; the enquiry form swaps it in under the box."""
    if not has_role(request.user, Role.SALES):
        raise PermissionDenied
    q = request.GET.get("q", "")
    context = {"q": q, "customers": search_customers(request.user, q)}
    template = "customers/customer_typeahead.html"
    if request.htmx:
        template += "#customer-results"
    return render(request, template, context)


@require_GET
@login_required
def customer_list_view(request):
    """Customers this person may see, filtered by name, reference, contact or type; the
    same filters carry over to the CSV and Excel exports."""
    if not has_role(request.user, Role.SALES, Role.OPERATIONS, Role.FINANCE):
        raise PermissionDenied
    filters = {
        "q": request.GET.get("q", "").strip()[:200],
        "segment": request.GET.get("segment", ""),
        "archived": "1" if request.GET.get("archived") == "1" else "",
    }
    customers = customer_list(
        request.user,
        q=filters["q"],
        segment=filters["segment"],
        archived=bool(filters["archived"]),
    )
    context = {
        "page": Paginator(customers, 50).get_page(request.GET.get("page")),
        "filters": filters,
        "export_query": urlencode(filters),
        "segments": Customer.Segment.choices,
        "may_import": has_role(request.user, Role.SALES),
    }
    return render(request, "customers/customer_list.html", context)
