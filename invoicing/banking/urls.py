from django.urls import path

from invoicing.banking import views

app_name = "banking"
urlpatterns = [
    path("", views.statement_list, name="statements"),
    path("upload/", views.statement_upload, name="upload"),
    path("<int:pk>/", views.statement_detail, name="statement"),
    path("lines/<int:pk>/confirm/", views.line_confirm, name="line_confirm"),
    path("lines/<int:pk>/change/", views.line_change, name="line_change"),
    path("lines/<int:pk>/reject/", views.line_reject, name="line_reject"),
    path("lines/<int:pk>/ignore/", views.line_ignore, name="line_ignore"),
]
