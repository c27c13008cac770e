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
    path("", include("oms.accounts.urls")),
]
