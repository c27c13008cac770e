"""One exception handler: the project's errors become the API's status codes and JSON.

400  invalid input: {"detail": ..., "errors": {"field": ["message", ...]}}
401  no or bad token           403  the role may not        404  unknown or not yours
409  not allowed in the order's current state (with the allowed transitions listed),
     or the order changed under the caller (OrderChanged)
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from orders.services import OrderChanged

NON_FIELD = "non_field_errors"


class TransitionNotAllowed(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "transition_not_allowed"

    def __init__(self, *, detail: str, current_state: str, allowed: list[dict]):
        super().__init__(detail)
        self.current_state = current_state
        self.allowed = allowed


def api_exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        return _invalid(_django_errors(exc))
    if isinstance(exc, OrderChanged):
        return Response(
            {"detail": str(exc), "code": "order_changed"}, status=status.HTTP_409_CONFLICT
        )
    if isinstance(exc, TransitionNotAllowed):
        return Response(
            {
                "detail": str(exc.detail),
                "code": exc.default_code,
                "current_state": exc.current_state,
                "allowed_transitions": exc.allowed,
            },
            status=exc.status_code,
        )
    if isinstance(exc, exceptions.ValidationError):
        errors = exc.detail if isinstance(exc.detail, dict) else {NON_FIELD: exc.detail}
        return _invalid(_flatten(errors))
    response = exception_handler(exc, context)
    if response is not None and isinstance(response.data, dict) and "detail" in response.data:
        response.data["code"] = getattr(response.data["detail"], "code", "error")
    return response


def _django_errors(exc: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {
            (NON_FIELD if field == "__all__" else field): messages
            for field, messages in exc.message_dict.items()
        }
    return {NON_FIELD: exc.messages}


def _flatten(errors, prefix: str = "") -> dict[str, list[str]]:
    """Nested serializer errors as dotted field names: {"lines.0.quantity": [...]}."""
    flat: dict[str, list[str]] = {}
    items = errors.items() if isinstance(errors, dict) else enumerate(errors)
    for key, value in items:
        name = f"{prefix}{key}"
        if isinstance(value, dict) or (
            isinstance(value, list) and value and isinstance(value[0], dict | list)
        ):
            flat.update(_flatten(value, f"{name}."))
        elif isinstance(value, list):
            if value:
                flat[name] = [str(message) for message in value]
        else:
            flat[name] = [str(value)]
    return flat


def _invalid(errors: dict[str, list[str]]) -> Response:
    if list(errors) == [NON_FIELD]:
        detail = " ".join(errors[NON_FIELD])
    else:
        detail = "Some fields are not valid: " + ", ".join(sorted(errors)) + "."
    return Response(
        {"detail": detail, "code": "invalid", "errors": errors},
        status=status.HTTP_400_BAD_REQUEST,
    )
