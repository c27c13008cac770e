from django.urls import reverse

from oms.accounts.roles import Role, has_role

# (label, url name, roles that see it). Order within a role's menu: its own queues first.
NAVIGATION = [
    ("Home", "accounts:home", None),
]


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = [
        {"label": label, "url": reverse(name), "active": request.path == reverse(name)}
        for label, name, roles in NAVIGATION
        if roles is None or has_role(user, *roles)
    ]
    return {"nav_items": items, "Role": Role}
