from django.urls import path

from orders.views import (
    changes,
    detail,
    enquiries,
    fieldwork,
    metrics,
    operations,
    pipeline,
    search,
    tracking,
)

app_name = "orders"

urlpatterns = [
    path("enquiries/", enquiries.enquiry_list, name="enquiries"),
    path("enquiries/new/", enquiries.enquiry_create, name="enquiry_create"),
    path("enquiries/team/", enquiries.enquiry_team, name="team_enquiries"),
    path("<str:number>/confirm-without-quote/", enquiries.enquiry_confirm, name="enquiry_confirm"),
    path("search/", search.order_search, name="search"),
    path("pipeline/", pipeline.order_pipeline, name="pipeline"),
    path("metrics/", metrics.order_metrics, name="metrics"),
    path("metrics/<slug:table>.csv", metrics.order_metrics_export, name="metrics_export"),
    path("queue/", operations.order_queue, name="queue"),
    path("dispatch/", fieldwork.dispatch_board, name="dispatch"),
    path("changes/<str:token>/", changes.public_change_request, name="public_change_request"),
    path("<str:number>/assign/", operations.order_assign, name="assign"),
    path("<str:number>/production/", operations.order_production_run, name="production_run"),
    path("<str:number>/deliveries/", operations.order_line_delivery, name="line_delivery"),
    path("<str:number>/fulfilment/", operations.order_fulfilment, name="fulfilment"),
    path("<str:number>/milestones/", operations.milestone_add, name="milestone_add"),
    path(
        "<str:number>/milestones/<int:milestone_id>/sign-off/",
        operations.milestone_sign_off,
        name="milestone_sign_off",
    ),
    path("<str:number>/visits/", fieldwork.visit_schedule, name="visit_schedule"),
    path("<str:number>/job/", fieldwork.job_sheet, name="job_sheet"),
    path("<str:number>/job/notes/", fieldwork.job_note, name="job_note"),
    path("<str:number>/job/photos/", fieldwork.photo_upload, name="photo_upload"),
    path("<str:number>/job/sign-off/", fieldwork.job_sign_off, name="job_sign_off"),
    path(
        "<str:number>/files/<int:attachment_id>/",
        fieldwork.attachment_download,
        name="attachment",
    ),
    path("<str:number>/changes/new/", changes.change_create, name="change_create"),
    path("<str:number>/changes/<int:change_id>/send/", changes.change_send, name="change_send"),
    path(
        "<str:number>/changes/<int:change_id>/approve/",
        changes.change_approve,
        name="change_approve",
    ),
    path(
        "<str:number>/changes/<int:change_id>/reject/", changes.change_reject, name="change_reject"
    ),
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
