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
    path("<int:pk>/lines/add/", views.invoice_line_add, name="line_add"),
    path("<int:pk>/lines/<int:line_id>/", views.invoice_line_edit, name="line_edit"),
    path("<int:pk>/lines/<int:line_id>/row/", views.invoice_line_row, name="line_row"),
    path("<int:pk>/lines/<int:line_id>/remove/", views.invoice_line_remove, name="line_remove"),
    path("<int:pk>/apply-credit/", views.invoice_apply_credit, name="apply_credit"),
    path("customers/<int:pk>/", views.customer_billing, name="customer_billing"),
    path(
        "customers/<int:pk>/receipts/",
        views.customer_receive_payment,
        name="customer_receive_payment",
    ),
    path("orders/<str:number>/time/", views.order_time_entry, name="time_entry"),
    path("orders/<str:number>/deposit/", views.order_deposit, name="deposit"),
    path("orders/<str:number>/milestone/", views.order_milestone, name="milestone"),
]
