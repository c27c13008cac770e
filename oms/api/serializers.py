"""The API's shapes. Read serializers render models; input serializers only check the
shape of a request. Nothing here saves: views hand checked input to the services."""

from django.contrib.auth import get_user_model
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from customers.models import Contact, Customer
from invoicing.models import Invoice, InvoiceLine, Payment
from oms.accounts.roles import Role
from orders.models import Order, OrderLine, Product, TimelineEvent
from quotes.models import Quote

# Bounds that keep input inside what the database columns hold.
MONEY = {"max_digits": 12, "decimal_places": 2}
QUANTITY = {"max_digits": 12, "decimal_places": 3}
PERCENT = {"max_digits": 5, "decimal_places": 2, "min_value": 0, "max_value": 100}
MAX_ID = 2**62


def _person(user) -> str | None:
    return user.email if user is not None else None


# --- customers -----------------------------------------------------------------------------


class ContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = ["id", "name", "email", "phone", "role", "archived_at"]


class CustomerSerializer(serializers.ModelSerializer):
    account_manager = serializers.SerializerMethodField()
    contacts = ContactSerializer(many=True, read_only=True)

    class Meta:
        model = Customer
        fields = [
            "id",
            "name",
            "segment",
            "account_manager",
            "billing_address",
            "delivery_address",
            "payment_terms_days",
            "currency",
            "tax_number",
            "external_ref",
            "created_at",
            "archived_at",
            "contacts",
        ]

    def get_account_manager(self, customer: Customer) -> str | None:
        return _person(customer.account_manager)


class CustomerCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    segment = serializers.ChoiceField(choices=Customer.Segment.choices, default="trade")
    contact_name = serializers.CharField(max_length=200, required=False, default="")
    email = serializers.EmailField(required=False, default="")
    phone = serializers.CharField(max_length=40, required=False, default="")
    billing_address = serializers.CharField(
        max_length=2000, required=False, default="", allow_blank=True
    )
    delivery_address = serializers.CharField(
        max_length=2000, required=False, default="", allow_blank=True
    )

    def validate_name(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("Give the company name.")
        return value


# --- products ------------------------------------------------------------------------------


class ProductSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ["id", "code", "name", "kind", "unit", "unit_price", "tax_rate", "active"]


# --- orders --------------------------------------------------------------------------------


class OrderLineSerializer(serializers.ModelSerializer):
    gross_amount = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)

    class Meta:
        model = OrderLine
        fields = [
            "id",
            "position",
            "product",
            "description",
            "quantity",
            "unit",
            "unit_price",
            "discount_percent",
            "tax_rate",
            "delivered_quantity",
            "net_amount",
            "tax_amount",
            "gross_amount",
        ]


class OrderSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    owner = serializers.SerializerMethodField()
    assignee = serializers.SerializerMethodField()
    lines = OrderLineSerializer(many=True, read_only=True)

    class Meta:
        model = Order
        fields = [
            "number",
            "title",
            "status",
            "status_label",
            "customer",
            "customer_name",
            "owner",
            "assignee",
            "kind",
            "source",
            "specification",
            "delivery_address",
            "requested_date",
            "agreed_date",
            "special_instructions",
            "po_reference",
            "currency",
            "net_total",
            "tax_total",
            "gross_total",
            "hold_reason",
            "hold_resume_date",
            "closed_reason",
            "created_at",
            "updated_at",
            "status_changed_at",
            "lines",
        ]

    def get_owner(self, order: Order) -> str | None:
        return _person(order.owner)

    def get_assignee(self, order: Order) -> str | None:
        return _person(order.assignee)


class TransitionSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    needs_reason = serializers.BooleanField()


class OrderDetailSerializer(OrderSerializer):
    actions = serializers.SerializerMethodField()

    class Meta(OrderSerializer.Meta):
        fields = [*OrderSerializer.Meta.fields, "actions"]

    @extend_schema_field(TransitionSerializer(many=True))
    def get_actions(self, order: Order) -> list[dict]:
        """The transitions the caller may POST now, as the order page shows its buttons."""
        from oms.api.transitions import transitions_for

        return transitions_for(order, self.context["request"].user)


class OrderFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Order.Status.choices, required=False)
    customer = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)
    updated_since = serializers.DateTimeField(
        required=False, help_text="Only orders changed at or after this time (ISO 8601)."
    )


class LineInputSerializer(serializers.Serializer):
    product = serializers.PrimaryKeyRelatedField(
        queryset=Product.objects.all(), required=False, allow_null=True
    )
    description = serializers.CharField(max_length=500, required=False, allow_blank=True)
    quantity = serializers.DecimalField(**QUANTITY, min_value=0)
    unit = serializers.CharField(max_length=16, required=False, allow_blank=True)
    unit_price = serializers.DecimalField(**MONEY, min_value=0, required=False)
    discount_percent = serializers.DecimalField(**PERCENT, required=False)
    tax_rate = serializers.DecimalField(**PERCENT, required=False)

    def validate_quantity(self, value):
        if value <= 0:
            raise serializers.ValidationError("The quantity must be more than zero.")
        return value

    def validate(self, data: dict) -> dict:
        if not data.get("product"):
            errors = {}
            if not (data.get("description") or "").strip():
                errors["description"] = "Give a description or a product."
            if data.get("unit_price") is None:
                errors["unit_price"] = "Give a unit price or a product."
            if errors:
                raise serializers.ValidationError(errors)
        return data


class EnquiryCreateSerializer(serializers.Serializer):
    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.active())
    title = serializers.CharField(max_length=200)
    specification = serializers.CharField(
        max_length=10000, required=False, default="", allow_blank=True
    )
    kind = serializers.ChoiceField(choices=Order.Kind.choices, default=Order.Kind.PRODUCT)
    source = serializers.ChoiceField(choices=Order.Source.choices, default=Order.Source.OTHER)
    requested_date = serializers.DateField(required=False, allow_null=True, default=None)
    delivery_address = serializers.CharField(
        max_length=2000, required=False, default="", allow_blank=True
    )
    po_reference = serializers.CharField(
        max_length=64, required=False, default="", allow_blank=True
    )
    owner = serializers.SlugRelatedField(
        slug_field="email",
        queryset=get_user_model().objects.filter(is_active=True, groups__name=Role.SALES),
        required=False,
        allow_null=True,
        default=None,
        help_text="The salesperson's email; by default the next salesperson in turn.",
    )
    lines = LineInputSerializer(many=True, required=False, default=list)

    def validate_title(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("Say what the customer asked for.")
        return value.strip()


class OrderUpdateSerializer(serializers.Serializer):
    """The details anyone working the order may change while it is open and not on hold."""

    title = serializers.CharField(max_length=200, required=False)
    specification = serializers.CharField(max_length=10000, required=False, allow_blank=True)
    delivery_address = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    requested_date = serializers.DateField(required=False, allow_null=True)
    agreed_date = serializers.DateField(required=False, allow_null=True)
    special_instructions = serializers.CharField(max_length=10000, required=False, allow_blank=True)
    po_reference = serializers.CharField(max_length=64, required=False, allow_blank=True)

    def validate_title(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("An order needs a title.")
        return value.strip()

    def validate(self, data: dict) -> dict:
        if not data:
            raise serializers.ValidationError("Send at least one field to change.")
        return data


class OrderLinesSerializer(serializers.Serializer):
    lines = LineInputSerializer(many=True, help_text="The whole new set of lines.")


class TransitionInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, required=False, default="", allow_blank=True)
    status = serializers.ChoiceField(
        choices=Order.Status.choices,
        required=False,
        help_text="The state you saw; if the order has moved on since, the answer is 409.",
    )
    resume_date = serializers.DateField(required=False, allow_null=True, help_text="hold only")
    received_by = serializers.CharField(
        max_length=200, required=False, default="", allow_blank=True, help_text="deliver only"
    )
    proof = serializers.CharField(
        max_length=2000, required=False, default="", allow_blank=True, help_text="deliver only"
    )

    def validate_resume_date(self, value):
        if value is not None and value < timezone.localdate():
            raise serializers.ValidationError("The expected resume date cannot be in the past.")
        return value


class TimelineEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_label", read_only=True)

    class Meta:
        model = TimelineEvent
        fields = [
            "id",
            "kind",
            "created_at",
            "actor",
            "from_state",
            "to_state",
            "message",
            "details",
        ]


# --- quotes --------------------------------------------------------------------------------


class QuoteSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(read_only=True)
    order = serializers.CharField(source="order.number", read_only=True)
    lines = serializers.JSONField(source="lines_snapshot", read_only=True)

    class Meta:
        model = Quote
        fields = [
            "id",
            "reference",
            "order",
            "version",
            "status",
            "valid_until",
            "terms",
            "notes",
            "lines",
            "net_total",
            "tax_total",
            "gross_total",
            "created_at",
            "sent_at",
            "sent_to",
            "accepted_at",
            "accepted_by_name",
            "accepted_po",
            "declined_at",
            "decline_reason",
            "expired_at",
        ]


class QuoteFilterSerializer(serializers.Serializer):
    order = serializers.RegexField(r"^[A-Za-z0-9-]{1,32}$", required=False)
    status = serializers.ChoiceField(choices=Quote.Status.choices, required=False)


class QuoteCreateSerializer(serializers.Serializer):
    order = serializers.RegexField(r"^[A-Za-z0-9-]{1,32}$", help_text="The order's number.")
    valid_until = serializers.DateField(required=False, allow_null=True, default=None)
    terms = serializers.CharField(max_length=10000, required=False, default="", allow_blank=True)
    notes = serializers.CharField(max_length=10000, required=False, default="", allow_blank=True)


class QuoteSendSerializer(serializers.Serializer):
    to = serializers.EmailField(required=False, default="", allow_blank=True)


class QuoteAcceptSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, help_text="Who accepted for the customer.")
    po = serializers.CharField(max_length=64, required=False, default="", allow_blank=True)


class QuoteDeclineSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, required=False, default="", allow_blank=True)


# --- invoices and payments -----------------------------------------------------------------


class InvoiceLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = InvoiceLine
        fields = [
            "id",
            "position",
            "description",
            "quantity",
            "unit_price",
            "discount_percent",
            "tax_rate",
            "net_amount",
            "tax_amount",
        ]


class InvoiceSerializer(serializers.ModelSerializer):
    order = serializers.CharField(source="order.number", read_only=True)
    outstanding = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)
    lines = InvoiceLineSerializer(many=True, read_only=True)

    class Meta:
        model = Invoice
        fields = [
            "id",
            "number",
            "kind",
            "status",
            "order",
            "customer",
            "credited_invoice",
            "currency",
            "issue_date",
            "due_date",
            "net_total",
            "tax_total",
            "gross_total",
            "amount_paid",
            "amount_credited",
            "outstanding",
            "disputed",
            "created_at",
            "approved_at",
            "sent_at",
            "paid_at",
            "lines",
        ]


class InvoiceFilterSerializer(QuoteFilterSerializer):
    status = serializers.ChoiceField(choices=Invoice.Status.choices, required=False)


class PaymentSerializer(serializers.ModelSerializer):
    invoice_number = serializers.CharField(source="invoice.number", read_only=True)
    order = serializers.CharField(source="invoice.order.number", read_only=True)

    class Meta:
        model = Payment
        fields = [
            "id",
            "invoice",
            "invoice_number",
            "order",
            "amount",
            "date",
            "method",
            "reference",
            "created_at",
        ]


class PaymentFilterSerializer(serializers.Serializer):
    invoice = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)


class PaymentCreateSerializer(serializers.Serializer):
    invoice = serializers.PrimaryKeyRelatedField(queryset=Invoice.objects.none())
    amount = serializers.DecimalField(**MONEY, min_value=0)
    date = serializers.DateField(required=False, allow_null=True, default=None)
    method = serializers.ChoiceField(
        choices=Payment.Method.choices, default=Payment.Method.BANK_TRANSFER
    )
    reference = serializers.CharField(max_length=128, required=False, default="", allow_blank=True)

    def validate_amount(self, value):
        if value <= 0:
            raise serializers.ValidationError("The payment amount must be more than zero.")
        return value

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Only invoices the caller may see can be paid; others are "does not exist".
        request = self.context.get("request")
        if request is not None:
            self.fields["invoice"].queryset = Invoice.objects.visible_to(request.user)
