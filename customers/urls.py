from django.urls import path

from customers import views

app_name = "customers"

urlpatterns = [
    path("typeahead/", views.customer_typeahead, name="typeahead"),
]
