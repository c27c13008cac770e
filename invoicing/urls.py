from django.urls import path

from invoicing import views

app_name = "invoicing"

urlpatterns = [
    path("drafts/", views.invoice_drafts, name="drafts"),
    path("overdue/", views.invoice_overdue, name="overdue"),
    path("receivables/", views.invoice_receivables, name="receivables"),
    path("<int:pk>/", views.invoice_detail, name="detail"),
    path("<int:pk>/lines/", views.invoice_edit_lines, name="edit_lines"),
    path("<int:pk>/approve/", views.invoice_approve, name="approve"),
    path("<int:pk>/send/", views.invoice_send, name="send"),
    path("<int:pk>/payments/", views.invoice_record_payment, name="record_payment"),
    path("<int:pk>/credit/", views.invoice_credit, name="credit"),
    path("<int:pk>/void/", views.invoice_void, name="void"),
    path("<int:pk>/resolve-dispute/", views.invoice_resolve_dispute, name="resolve_dispute"),
    path("<int:pk>/pdf/", views.invoice_pdf, name="pdf"),
    path("query/<str:token>/", views.invoice_public_query, name="public_query"),
]
