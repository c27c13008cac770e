"""The JSON API's endpoints. Thin, like every view: check access, parse input with a
serializer, call one service or query, render the result. Errors become status codes in
oms.api.exceptions."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from customers.models import Customer
from customers.services import create_customer, next_salesperson
from invoicing import services as invoicing
from invoicing.models import Invoice
from oms.accounts.roles import Role
from oms.api import queries
from oms.api import serializers as s
from oms.api.exceptions import TransitionNotAllowed
from oms.api.transitions import (
    TRANSITION_SERVICES,
    is_allowed_now,
    needs_reason,
    transitions_from_state,
)
from orders import services as orders
from orders.models import Order
from quotes import services as quotes
from quotes.models import Quote

NUMERIC_ID = r"[0-9]{1,18}"
ORDER_NUMBER = r"[A-Za-z0-9-]{1,32}"


class Error(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()


class InvalidInput(Error):
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class Conflict(Error):
    current_state = serializers.CharField(required=False)
    allowed_transitions = s.TransitionSerializer(many=True, required=False)


ERRORS = {
    400: OpenApiResponse(InvalidInput, description="Invalid fields, with a message per field."),
    403: OpenApiResponse(Error, description="Your role may not do this."),
    404: OpenApiResponse(Error, description="No such object, or not one you may see."),
}
CONFLICT = {409: OpenApiResponse(Conflict, description="Not allowed in the current state.")}


def _checked(serializer_class, data, **context):
    serializer = serializer_class(data=data, context=context)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# --- customers and products ----------------------------------------------------------------


class CustomerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Customers you may see, each with its contacts."""

    serializer_class = s.CustomerSerializer
    lookup_value_regex = NUMERIC_ID
    action_roles = {"create": (Role.SALES,)}

    def get_queryset(self):
        return queries.customers_for_api(self.request.user)

    @extend_schema(
        request=s.CustomerCreateSerializer, responses={201: s.CustomerSerializer, **ERRORS}
    )
    def create(self, request):
        """Add a customer with its primary contact (sales). A salesperson becomes its
        account manager, so it stays theirs to see."""
        data = _checked(s.CustomerCreateSerializer, request.data)
        is_salesperson = Role.SALES in request.user.role_names
        customer = create_customer(
            by=request.user,
            account_manager=request.user if is_salesperson else None,
            **data,
        )
        customer = Customer.objects.prefetch_related("contacts").get(pk=customer.pk)
        return Response(s.CustomerSerializer(customer).data, status=status.HTTP_201_CREATED)


class ProductViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The catalogue: active products in the list; archived ones still open by id."""

    serializer_class = s.ProductSerializer
    lookup_value_regex = NUMERIC_ID

    def get_queryset(self):
        return queries.products_for_api(include_archived=self.action != "list")


# --- orders --------------------------------------------------------------------------------


class OrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Orders you may see, by number, with their lines and current state."""

    lookup_field = "number"
    lookup_value_regex = ORDER_NUMBER
    # Transitions check their own role rule (the state machine's permission=).
    action_roles = {
        "create": (Role.SALES,),
        "partial_update": (Role.SALES, Role.OPERATIONS),
        "lines": (Role.SALES,),
    }

    def get_queryset(self):
        if self.action == "list":
            filters = _checked(s.OrderFilterSerializer, self.request.query_params)
            return queries.orders_for_api(self.request.user, **filters)
        return queries.orders_for_api(self.request.user)

    def get_serializer_class(self):
        return s.OrderSerializer if self.action == "list" else s.OrderDetailSerializer

    @extend_schema(
        parameters=[s.OrderFilterSerializer],
        responses={200: s.OrderSerializer(many=True), 400: ERRORS[400]},
    )
    def list(self, request, *args, **kwargs):
        """Filter by `status`, `customer` (id) and `updated_since`; newest change first."""
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=s.EnquiryCreateSerializer, responses={201: s.OrderDetailSerializer, **ERRORS}
    )
    def create(self, request):
        """Capture an enquiry (sales), optionally with its lines; it begins at `enquiry`."""
        data = _checked(s.EnquiryCreateSerializer, request.data)
        lines = data.pop("lines")
        # Order and lines commit together: nothing half-saved if a line is refused.
        with transaction.atomic():
            owner = data.pop("owner") or next_salesperson() or request.user
            order = orders.create_enquiry(by=request.user, owner=owner, **data)
            if lines:
                order = orders.set_order_lines(order, lines, by=request.user)
        return self._render(request, order, status.HTTP_201_CREATED)

    @extend_schema(
        request=s.OrderUpdateSerializer, responses={200: s.OrderDetailSerializer, **ERRORS}
    )
    def partial_update(self, request, number: str):
        """Change details (sales, operations); refused on hold or once closed. Each change
        is on the timeline with its old and new value."""
        order = self.get_object()
        data = _checked(s.OrderUpdateSerializer, request.data)
        return self._render(request, orders.update_order(order, by=request.user, **data))

    @extend_schema(
        request=s.OrderLinesSerializer, responses={200: s.OrderDetailSerializer, **ERRORS}
    )
    @action(detail=True, methods=["put"], url_path="lines", url_name="lines")
    def lines(self, request, number: str):
        """Replace the lines of an enquiry or quoted order (sales); totals are recomputed."""
        order = self.get_object()
        data = _checked(s.OrderLinesSerializer, request.data)
        return self._render(request, orders.set_order_lines(order, data["lines"], by=request.user))

    @extend_schema(
        request=s.TransitionInputSerializer,
        responses={200: s.OrderDetailSerializer, **ERRORS, **CONFLICT},
        parameters=[
            OpenApiParameter(
                "name", OpenApiTypes.STR, OpenApiParameter.PATH, enum=[*TRANSITION_SERVICES]
            )
        ],
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"transitions/(?P<name>[a-z_]{1,32})",
        url_name="transition",
    )
    def transition(self, request, number: str, name: str):
        """Move the order on by name, through the same service as the order page's buttons.
        409 lists the transitions allowed from the current state."""
        order = self.get_object()
        service = TRANSITION_SERVICES.get(name)
        if service is None:
            raise NotFound(f"No transition '{name}'. Known: {', '.join(TRANSITION_SERVICES)}.")
        data = _checked(s.TransitionInputSerializer, request.data)
        seen = data.pop("status", None)
        if seen and seen != order.status:
            raise orders.OrderChanged(order)
        self._ensure_allowed(order, name)
        kwargs = self._transition_arguments(order, name, data)
        try:
            order = service(order, by=request.user, **kwargs)
        except DjangoValidationError:
            # Someone may have moved the order between our check and the service's lock.
            self._ensure_allowed(Order.objects.get(pk=order.pk), name)
            raise
        return self._render(request, order)

    @staticmethod
    def _ensure_allowed(order: Order, name: str) -> None:
        if not is_allowed_now(order, name):
            raise TransitionNotAllowed(
                detail=orders.describe_refusal(order, name),
                current_state=order.status,
                allowed=transitions_from_state(order),
            )

    @staticmethod
    def _transition_arguments(order: Order, name: str, data: dict) -> dict:
        reason = data["reason"].strip()
        if needs_reason(order, name) and not reason:
            raise serializers.ValidationError(
                {"reason": [f"Give a reason to {name.replace('_', ' ')}."]}
            )
        kwargs = {"reason": reason}
        if name == "hold":
            kwargs["resume_date"] = data.get("resume_date")
        if name == "deliver":
            kwargs["received_by"] = data["received_by"].strip()
            kwargs["proof"] = data["proof"].strip()
        return kwargs

    @extend_schema(responses={200: s.TimelineEventSerializer(many=True), 404: ERRORS[404]})
    @action(detail=True, methods=["get"], url_path="timeline", url_name="timeline")
    def timeline(self, request, number: str):
        """The order's history, oldest first: who did what, when and why."""
        order = get_object_or_404(Order.objects.visible_to(request.user), number=number)
        page = self.paginate_queryset(queries.timeline_for_api(order))
        return self.get_paginated_response(s.TimelineEventSerializer(page, many=True).data)

    def _render(self, request, order: Order, code: int = status.HTTP_200_OK) -> Response:
        fresh = queries.orders_for_api(request.user).filter(pk=order.pk).first()
        if fresh is None:  # given to another salesperson: visible to them, not the caller
            fresh = Order.objects.prefetch_related("lines").get(pk=order.pk)
        return Response(
            s.OrderDetailSerializer(fresh, context={"request": request}).data, status=code
        )


# --- quotes --------------------------------------------------------------------------------


class QuoteViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Quotes of the orders you may see. Drafting, sending, and recording the customer's
    answer take the same services (and sales role) as the quote builder."""

    serializer_class = s.QuoteSerializer
    lookup_value_regex = NUMERIC_ID
    # The quote builder is sales' work; the services leave that check to their callers.
    action_roles = {name: (Role.SALES,) for name in ("create", "send", "accept", "decline")}

    def get_queryset(self):
        if self.action == "list":
            filters = _checked(s.QuoteFilterSerializer, self.request.query_params)
            return queries.quotes_for_api(self.request.user, **filters)
        return queries.quotes_for_api(self.request.user)

    @extend_schema(parameters=[s.QuoteFilterSerializer])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=s.QuoteCreateSerializer, responses={201: s.QuoteSerializer, **ERRORS})
    def create(self, request):
        """Draft the next quote version for an order (sales)."""
        data = _checked(s.QuoteCreateSerializer, request.data)
        order = Order.objects.visible_to(request.user).filter(number=data.pop("order")).first()
        if order is None:
            raise serializers.ValidationError(
                {"order": ["No order with this number that you may see."]}
            )
        quote = quotes.create_quote(order, by=request.user, **data)
        return Response(s.QuoteSerializer(quote).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=s.QuoteSendSerializer, responses={200: s.QuoteSerializer, **ERRORS, **CONFLICT}
    )
    @action(detail=True, methods=["post"], url_name="send")
    def send(self, request, pk: str):
        """Send a draft to the customer: the order's lines are frozen into it."""
        data = _checked(s.QuoteSendSerializer, request.data)
        return self._act(lambda quote: quotes.send_quote(quote, by=request.user, **data))

    @extend_schema(
        request=s.QuoteAcceptSerializer, responses={200: s.QuoteSerializer, **ERRORS, **CONFLICT}
    )
    @action(detail=True, methods=["post"], url_name="accept")
    def accept(self, request, pk: str):
        """The customer accepted (by phone or email): the order is confirmed."""
        data = _checked(s.QuoteAcceptSerializer, request.data)
        return self._act(lambda quote: quotes.accept_quote(quote, by=request.user, **data))

    @extend_schema(
        request=s.QuoteDeclineSerializer, responses={200: s.QuoteSerializer, **ERRORS, **CONFLICT}
    )
    @action(detail=True, methods=["post"], url_name="decline")
    def decline(self, request, pk: str):
        """The customer said no: the quote is declined and the order lost."""
        data = _checked(s.QuoteDeclineSerializer, request.data)
        return self._act(lambda quote: quotes.decline_quote(quote, by=request.user, **data))

    def _act(self, service) -> Response:
        quote = service(self.get_object())
        quote = Quote.objects.select_related("order").get(pk=quote.pk)
        return Response(s.QuoteSerializer(quote).data)


# --- invoices and payments (finance) -------------------------------------------------------


class InvoiceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Invoices and credit notes, for finance; approving and sending as on the invoice page."""

    serializer_class = s.InvoiceSerializer
    lookup_value_regex = NUMERIC_ID
    required_roles = (Role.FINANCE,)

    def get_queryset(self):
        if self.action == "list":
            filters = _checked(s.InvoiceFilterSerializer, self.request.query_params)
            return queries.invoices_for_api(self.request.user, **filters)
        return queries.invoices_for_api(self.request.user)

    @extend_schema(parameters=[s.InvoiceFilterSerializer])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=None, responses={200: s.InvoiceSerializer, **ERRORS, **CONFLICT})
    @action(detail=True, methods=["post"], url_name="approve")
    def approve(self, request, pk: str):
        """Issue a draft: it is numbered, dated and from then on unchangeable."""
        return self._act(lambda invoice: invoicing.approve_invoice(invoice, by=request.user))

    @extend_schema(request=None, responses={200: s.InvoiceSerializer, **ERRORS, **CONFLICT})
    @action(detail=True, methods=["post"], url_name="send")
    def send(self, request, pk: str):
        """Send an approved invoice to the customer (again, if it was sent before)."""
        return self._act(lambda invoice: invoicing.send_invoice(invoice, by=request.user))

    def _act(self, service) -> Response:
        invoice = service(self.get_object())
        return Response(s.InvoiceSerializer(self.get_queryset().get(pk=invoice.pk)).data)


class PaymentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Money received against invoices, for finance. Payments are facts: never changed."""

    serializer_class = s.PaymentSerializer
    lookup_value_regex = NUMERIC_ID
    required_roles = (Role.FINANCE,)

    def get_queryset(self):
        if self.action == "list":
            filters = _checked(s.PaymentFilterSerializer, self.request.query_params)
            return queries.payments_for_api(self.request.user, **filters)
        return queries.payments_for_api(self.request.user)

    @extend_schema(parameters=[s.PaymentFilterSerializer])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=s.PaymentCreateSerializer, responses={201: s.PaymentSerializer, **ERRORS}
    )
    def create(self, request):
        """Record a payment against an issued invoice; the invoice and order settle."""
        data = _checked(s.PaymentCreateSerializer, request.data, request=request)
        invoice: Invoice = data.pop("invoice")
        payment = invoicing.record_payment(invoice, by=request.user, **data)
        payment = self.get_queryset().get(pk=payment.pk)
        return Response(s.PaymentSerializer(payment).data, status=status.HTTP_201_CREATED)


def unknown_endpoint(request, *args, **kwargs) -> JsonResponse:
    return JsonResponse(
        {"detail": f"No API endpoint at {request.path}; see /api/v1/docs.", "code": "not_found"},
        status=404,
    )


# --- documentation -------------------------------------------------------------------------


class ApiDocsView(SpectacularSwaggerSplitView):
    """Swagger UI from the vendored assets; its start-up script is a separate request, so
    the page runs under a Content Security Policy that allows no inline code."""

    template_name = "api/swagger_ui.html"
    url_name = "api:schema"
    permission_classes = []
