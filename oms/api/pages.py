"""The staff page for API tokens: create one (its secret shown once), list and revoke."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from oms.accounts.roles import Role, has_role
from oms.api import queries, services
from oms.api.models import ApiToken


@require_http_methods(["GET", "POST"])
@login_required
def token_list(request):
    """Your tokens (every token, for managers) and a form to create one. The new secret
    is rendered in this response only; it is never stored or shown again."""
    if not has_role(request.user, *services.STAFF_ROLES):
        raise PermissionDenied("Your role may not use the API.")
    secret, error, status = "", "", 200
    name = ""
    if request.method == "POST":
        name = request.POST.get("name", "")
        try:
            token, secret = services.create_api_token(name=name, by=request.user)
        except ValidationError as exc:
            error, status = " ".join(exc.messages), 422
        else:
            name = ""
            messages.success(request, f"Token “{token.name}” created. Copy it now.")
    context = {
        "tokens": queries.tokens_for_page(request.user),
        "secret": secret,
        "error": error,
        "name": name,
        "sees_all": has_role(request.user, Role.MANAGER),
    }
    response = render(request, "api/token_list.html", context, status=status)
    if secret:
        response["Cache-Control"] = "no-store"
    return response


@require_POST
@login_required
def token_revoke(request, pk: int):
    token = get_object_or_404(ApiToken.objects.visible_to(request.user), pk=pk)
    services.revoke_api_token(token, by=request.user)
    messages.success(request, f"Token “{token.name}” revoked; it no longer works.")
    return redirect("api:tokens")
