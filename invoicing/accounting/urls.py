from django.urls import path

from invoicing.accounting import views

app_name = "accounting"

urlpatterns = [
    path("", views.xero_settings, name="settings"),
    path("connect/", views.xero_connect, name="connect"),
    path("callback", views.xero_callback, name="callback"),
    path("disconnect/", views.xero_disconnect, name="disconnect"),
    path("mappings/", views.mapping_update, name="mappings"),
    path("sync/", views.sync_list, name="sync_list"),
    path("sync/<int:pk>/retry/", views.sync_retry, name="sync_retry"),
    path("log/", views.sync_log, name="sync_log"),
    path("webhook", views.xero_webhook, name="webhook"),
]
