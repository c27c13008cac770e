from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("customers/", include("customers.urls")),
    path("orders/", include("orders.urls")),
    path("quotes/", include("quotes.urls")),
    path("invoices/", include("invoicing.urls")),
    path("xero/", include("invoicing.accounting.urls")),
    path("automation/", include("oms.automation.urls")),
    path("bank/", include("invoicing.banking.urls")),
    path("api/v1/", include("oms.api.urls")),
    path("webhooks/", include("oms.webhooks.urls")),
    path("imports/", include("oms.imports.urls")),
    path("audit/", include("oms.audit.urls")),
    path("", include("oms.accounts.urls")),
]
