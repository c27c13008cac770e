from django.urls import path

from orders.views import enquiries

app_name = "orders"

urlpatterns = [
    path("enquiries/", enquiries.enquiry_list, name="enquiries"),
    path("enquiries/new/", enquiries.enquiry_create, name="enquiry_create"),
    path("enquiries/team/", enquiries.enquiry_team, name="team_enquiries"),
    path("<str:number>/confirm-without-quote/", enquiries.enquiry_confirm, name="enquiry_confirm"),
]
