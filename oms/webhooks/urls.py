from django.urls import path

from oms.webhooks import views

app_name = "webhooks"

urlpatterns = [
    path("", views.endpoint_list, name="list"),
    path("new/", views.endpoint_create, name="create"),
    path("<int:pk>/", views.endpoint_detail, name="detail"),
    path("<int:pk>/edit/", views.endpoint_edit, name="edit"),
    path("<int:pk>/pause/", views.endpoint_pause, name="pause"),
    path("<int:pk>/resume/", views.endpoint_resume, name="resume"),
    path("<int:pk>/archive/", views.endpoint_archive, name="archive"),
    path("<int:pk>/ping/", views.endpoint_ping, name="ping"),
    path("<int:pk>/rotate-secret/", views.endpoint_rotate, name="rotate"),
    path("<int:pk>/deliveries/<uuid:delivery>/", views.delivery_detail, name="delivery"),
    path(
        "<int:pk>/deliveries/<uuid:delivery>/redeliver/",
        views.delivery_redeliver,
        name="redeliver",
    ),
]
