"""Enquiry capture and the enquiry queues: my enquiries, and the team's for managers."""

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from customers.models import Customer
from customers.queries import duplicate_customers
from customers.services import create_customer, next_salesperson
from oms.accounts.roles import Role, has_role
from orders.models import Order
from orders.services import OrderChanged, confirm_order, create_enquiry


def salespeople():
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name=Role.SALES)
        .order_by("first_name", "last_name", "email")
    )


class EnquiryForm(forms.Form):
    """One short form: who is asking (existing or new customer), what for, and who owns it."""

    customer = forms.ModelChoiceField(
        queryset=Customer.objects.active(), required=False, widget=forms.HiddenInput
    )
    new_name = forms.CharField(label="Company name", max_length=200, required=False)
    new_contact_name = forms.CharField(label="Contact name", max_length=200, required=False)
    new_email = forms.EmailField(label="Contact email", required=False)
    new_phone = forms.CharField(label="Contact phone", max_length=40, required=False)
    create_anyway = forms.BooleanField(
        label="This is a different customer; create it anyway", required=False
    )
    title = forms.CharField(label="What they asked for", max_length=200)
    specification = forms.CharField(
        label="Details", widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    kind = forms.ChoiceField(label="Order type", choices=Order.Kind.choices)
    source = forms.ChoiceField(choices=Order.Source.choices)
    requested_date = forms.DateField(
        label="Wanted by",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    owner = forms.ModelChoiceField(
        label="Salesperson",
        queryset=get_user_model().objects.none(),
        required=False,
        empty_label="Next in turn (round-robin)",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = salespeople()
        self.duplicates: list[Customer] = []

    def clean(self):
        data = super().clean()
        if data.get("customer"):
            return data
        if not data.get("new_name"):
            self.add_error("new_name", "Choose an existing customer or name the new one.")
            return data
        if not (data.get("new_email") or data.get("new_phone")):
            self.add_error("new_email", "Give the new customer's email or phone.")
        self.duplicates = duplicate_customers(
            name=data.get("new_name", ""), email=data.get("new_email", "")
        )
        if self.duplicates and not data.get("create_anyway"):
            self.add_error(
                "new_name",
                "A customer with this company name or contact email already exists. "
                "Choose it above, or tick the box to create a new one anyway.",
            )
        return data


@require_http_methods(["GET", "POST"])
@login_required
def enquiry_create(request):
    """Capture an enquiry; the new order opens in the quote builder."""
    if not has_role(request.user, Role.SALES):
        raise PermissionDenied
    form = EnquiryForm(request.POST or None, initial={"source": Order.Source.PHONE})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        # Customer, owner and order commit together: nothing half-saved if one step fails.
        with transaction.atomic():
            customer = data["customer"] or create_customer(
                name=data["new_name"],
                by=request.user,
                contact_name=data["new_contact_name"],
                email=data["new_email"],
                phone=data["new_phone"],
            )
            owner = data["owner"] or next_salesperson() or request.user
            order = create_enquiry(
                customer=customer,
                title=data["title"],
                by=request.user,
                owner=owner,
                specification=data["specification"],
                kind=data["kind"],
                source=data["source"],
                requested_date=data["requested_date"],
            )
        messages.success(request, f"Enquiry {order.number} captured for {owner}.")
        return redirect("quotes:builder", number=order.number)
    status = 422 if request.method == "POST" else 200
    return render(request, "orders/enquiry_form.html", {"form": form}, status=status)


def _with_age(orders) -> list[Order]:
    now = timezone.now()
    rows = list(orders)
    for order in rows:
        order.age_days = (now - order.enquiry_at).days
    return rows


def open_enquiries():
    return (
        Order.objects.filter(status=Order.Status.ENQUIRY)
        .select_related("customer", "owner")
        .order_by("enquiry_at", "id")
    )


@login_required
def enquiry_list(request):
    """My enquiries, oldest first: what still needs a quote or an answer."""
    if not has_role(request.user, Role.SALES):
        raise PermissionDenied
    orders = _with_age(open_enquiries().filter(owner=request.user))
    return render(request, "orders/enquiry_list.html", {"orders": orders, "team": False})


@login_required
def enquiry_team(request):
    """Every open enquiry with its owner, for managers; filter by salesperson."""
    if not has_role(request.user, Role.MANAGER):
        raise PermissionDenied
    orders = open_enquiries()
    owner_id = request.GET.get("owner", "")
    if owner_id.isdigit():
        orders = orders.filter(owner_id=int(owner_id))
    context = {
        "orders": _with_age(orders),
        "team": True,
        "owners": salespeople(),
        "owner_id": owner_id,
    }
    return render(request, "orders/enquiry_list.html", context)


@require_POST
@login_required
def enquiry_confirm(request, number: str):
    """Confirm an order without a quote, where that is how the business works."""
    order = get_object_or_404(Order.objects.visible_to(request.user), number=number)
    try:
        confirm_order(order, by=request.user, reason=request.POST.get("reason", "").strip())
    except (ValidationError, PermissionDenied, OrderChanged) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        return redirect("quotes:builder", number=order.number)
    messages.success(request, f"Order {order.number} confirmed; operations have it now.")
    return redirect(_order_page(order))


def _order_page(order: Order) -> str:
    try:
        return reverse("orders:detail", kwargs={"number": order.number})
    except NoReverseMatch:  # the order page belongs to another workspace
        return reverse("quotes:builder", kwargs={"number": order.number})
