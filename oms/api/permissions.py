"""Who may call the API: people with a staff role, each endpoint narrowing it as the UI does."""

from rest_framework.permissions import BasePermission

from oms.accounts.roles import Role, has_role

STAFF = (Role.SALES, Role.OPERATIONS, Role.FINANCE)


class HasRole(BasePermission):
    """Any staff role by default. A view narrows it with `required_roles`, and per action
    with `action_roles` ({"create": (Role.SALES,)}), checked before any input is read."""

    message = "Your role may not use this part of the API."

    def has_permission(self, request, view) -> bool:
        roles = getattr(view, "required_roles", STAFF)
        roles = getattr(view, "action_roles", {}).get(getattr(view, "action", None), roles)
        return has_role(request.user, *roles)
