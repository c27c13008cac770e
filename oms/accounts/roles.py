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


# The Django-admin permissions each role's work needs: (app label, actions). Managers get
# every action on every project app; roles see what they work with and change their own.
PROJECT_APPS = ("customers", "orders", "quotes", "invoicing", "accounting", "automation", "links")
ROLE_PERMISSIONS = {
    Role.SALES: {
        "customers": "view add change",
        "orders": "view add change",
        "quotes": "view add change",
    },
    Role.OPERATIONS: {"customers": "view", "orders": "view change", "quotes": "view"},
    Role.FINANCE: {
        "customers": "view change",
        "orders": "view",
        "quotes": "view",
        "invoicing": "view add change",
        "accounting": "view add change",
    },
    Role.MANAGER: {app: "view add change" for app in PROJECT_APPS},
}


def ensure_roles(**_kwargs) -> None:
    """Create the role groups with their permissions. Runs after every migrate (and after a
    test database flush), so the roles exist on any database the code runs against."""
    from django.contrib.auth.models import Group, Permission

    for role, grants in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role.value)
        wanted = Permission.objects.none()
        for app_label, actions in grants.items():
            codenames = [
                p
                for p in Permission.objects.filter(content_type__app_label=app_label).values_list(
                    "codename", flat=True
                )
                if p.split("_", 1)[0] in actions.split()
            ]
            wanted |= Permission.objects.filter(
                content_type__app_label=app_label, codename__in=codenames
            )
        group.permissions.set(wanted)
