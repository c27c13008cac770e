"""Customer views: the type-ahead used wherever a customer is chosen."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from customers.queries import search_customers
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
