from django.urls import path

from quotes import views

app_name = "quotes"

urlpatterns = [
    path("awaiting/", views.quotes_awaiting, name="awaiting"),
    path("products/", views.product_options, name="products"),
    path("order/<str:number>/", views.quote_builder, name="builder"),
    path("<int:pk>/", views.quote_detail, name="detail"),
    path("<int:pk>/pdf/", views.quote_pdf, name="pdf"),
    path("<int:pk>/revise/", views.quote_revise, name="revise"),
    path("<int:pk>/accept-by-phone/", views.quote_accept_by_phone, name="accept_by_phone"),
    path("<int:pk>/decline/", views.quote_decline, name="decline"),
    path("<int:pk>/pause-followups/", views.quote_pause_followups, name="pause_followups"),
    path("<int:pk>/resume-followups/", views.quote_resume_followups, name="resume_followups"),
    path("<int:pk>/resend/", views.quote_resend, name="resend"),
    # The customer's pages: no login, a signed single-purpose link instead.
    path("q/<str:token>/", views.quote_public, name="public"),
    path("q/<str:token>/pdf/", views.quote_public_pdf, name="public_pdf"),
    path("q/<str:token>/accept/", views.quote_public_accept, name="public_accept"),
    path("q/<str:token>/decline/", views.quote_public_decline, name="public_decline"),
]
