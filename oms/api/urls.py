"""/api/v1/: the JSON API, its OpenAPI schema and docs, and the staff page for tokens."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import SimpleRouter

from oms.api import pages, views

app_name = "api"

router = SimpleRouter(trailing_slash=False)
router.register("customers", views.CustomerViewSet, basename="customer")
router.register("products", views.ProductViewSet, basename="product")
router.register("orders", views.OrderViewSet, basename="order")
router.register("quotes", views.QuoteViewSet, basename="quote")
router.register("invoices", views.InvoiceViewSet, basename="invoice")
router.register("payments", views.PaymentViewSet, basename="payment")

urlpatterns = [
    path("schema", SpectacularAPIView.as_view(permission_classes=[]), name="schema"),
    path("docs", views.ApiDocsView.as_view(), name="docs"),
    path("tokens/", pages.token_list, name="tokens"),
    path("tokens/<int:pk>/revoke/", pages.token_revoke, name="token_revoke"),
    *router.urls,
    # Anything else under /api/v1/ answers in JSON too, not with the site's HTML 404 page.
    re_path(r"^.*$", views.unknown_endpoint),
]
