"""The four staff roles. Each is a Django group; managers may do everything."""

from django.db.models import TextChoices


class Role(TextChoices):
    SALES = "Sales"
    OPERATIONS = "Operations"
    FINANCE = "Finance"
    MANAGER = "Manager"


def has_role(user, *roles: Role) -> bool:
    """True for an active user in any of `roles`, or a manager or superuser (they may do all)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    names = user.role_names
    return Role.MANAGER in names or any(role in names for role in roles)
