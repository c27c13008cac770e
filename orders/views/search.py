"""One-box search: any key a caller reads out over the phone finds the order."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from orders import queries


@require_GET
@login_required
def order_search(request):
    """Orders matching `q`; an exact order, quote or invoice number goes straight there."""
    query = request.GET.get("q", "").strip()[:200]
    result = queries.search_orders(request.user, query)
    if result.exact is not None:
        return redirect("orders:detail", number=result.exact.number)
    return render(request, "orders/order_search.html", {"result": result, "q": query})
