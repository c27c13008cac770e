from django.urls import path

from oms.automation import views

app_name = "automation"

urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/badge/", views.inbox_badge, name="badge"),
    path("inbox/read-all/", views.inbox_read_all, name="read_all"),
    path("inbox/<int:pk>/read/", views.notification_read, name="notification_read"),
    path("rules/", views.rule_list, name="rules"),
    path("rules/new/", views.rule_create, name="rule_create"),
    path("rules/<int:pk>/", views.rule_edit, name="rule_edit"),
    path("rules/<int:pk>/toggle/", views.rule_toggle, name="rule_toggle"),
    path("decisions/", views.decision_queue, name="decisions"),
]
