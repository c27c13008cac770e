from django.urls import path

from orders.views import detail, enquiries, pipeline, search, tracking

app_name = "orders"

urlpatterns = [
    path("enquiries/", enquiries.enquiry_list, name="enquiries"),
    path("enquiries/new/", enquiries.enquiry_create, name="enquiry_create"),
    path("enquiries/team/", enquiries.enquiry_team, name="team_enquiries"),
    path("<str:number>/confirm-without-quote/", enquiries.enquiry_confirm, name="enquiry_confirm"),
    path("search/", search.order_search, name="search"),
    path("pipeline/", pipeline.order_pipeline, name="pipeline"),
    path("track/<str:token>/", tracking.order_tracking, name="track"),
    path(
        "track/<str:token>/invoices/<int:invoice_id>.pdf",
        tracking.tracking_invoice_pdf,
        name="track_invoice_pdf",
    ),
    path("invoice-link/<str:token>/", tracking.public_invoice, name="public_invoice"),
    path("invoice-link/<str:token>/pdf/", tracking.public_invoice_pdf, name="public_invoice_pdf"),
    path("<str:number>/", detail.order_detail, name="detail"),
    path("<str:number>/actions/<str:name>/", detail.order_transition, name="transition"),
    path("<str:number>/links/", detail.order_link_issue, name="link_issue"),
    path("<str:number>/links/<int:link_id>/revoke/", detail.order_link_revoke, name="link_revoke"),
]
