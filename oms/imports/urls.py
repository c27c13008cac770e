from django.urls import path

from oms.imports import views

app_name = "imports"
urlpatterns = [
    path("", views.import_start, name="start"),
    path("<int:pk>/columns/", views.import_mapping, name="mapping"),
    path("<int:pk>/preview/", views.import_preview, name="preview"),
    path("<int:pk>/run/", views.import_run, name="run"),
    path("<int:pk>/", views.import_detail, name="detail"),
    path("<int:pk>/summary.csv", views.import_summary_csv, name="summary_csv"),
    path("export/<str:kind>.<str:fmt>", views.export_list, name="export"),
    path("products/", views.product_list, name="products"),
]
