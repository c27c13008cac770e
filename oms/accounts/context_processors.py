"""Navigation: the menu each role sees, its own queues first.

To add a page to the menu, add one row to NAVIGATION: (label, URL name, roles that see it;
None means every signed-in user). A row whose URL name is not defined yet is skipped, and a
user's own role's rows are listed before the rest.
"""

from django.conf import settings
from django.http import HttpRequest

from oms.accounts.links import url_or_none
from oms.accounts.roles import Role, has_role

NAVIGATION: list[tuple[str, str, tuple[Role, ...] | None]] = [
    ("Home", "accounts:home", None),
    ("Pipeline", "orders:pipeline", (Role.MANAGER,)),
    ("Metrics", "orders:metrics", (Role.MANAGER,)),
    ("New enquiry", "orders:enquiry_create", (Role.SALES,)),
    ("My enquiries", "orders:enquiries", (Role.SALES,)),
    ("Quotes awaiting", "quotes:awaiting", (Role.SALES,)),
    ("Team enquiries", "orders:team_enquiries", (Role.MANAGER,)),
    ("Work queue", "orders:queue", (Role.OPERATIONS,)),
    ("Dispatch", "orders:dispatch", (Role.OPERATIONS,)),
    ("Draft invoices", "invoicing:drafts", (Role.FINANCE,)),
    ("Overdue", "invoicing:overdue", (Role.FINANCE,)),
    ("Receivables", "invoicing:receivables", (Role.FINANCE,)),
    ("Bank", "banking:statements", (Role.FINANCE,)),
    ("Orders", "orders:search", (Role.SALES, Role.OPERATIONS, Role.FINANCE)),
    ("Customers", "customers:list", (Role.SALES, Role.OPERATIONS, Role.FINANCE)),
    ("Products", "imports:products", (Role.SALES, Role.OPERATIONS, Role.FINANCE)),
    ("Xero", "accounting:settings", (Role.FINANCE,)),
    ("Decisions", "automation:decisions", (Role.SALES,)),
    ("Automations", "automation:rules", (Role.MANAGER,)),
    ("API tokens", "api:tokens", (Role.SALES, Role.OPERATIONS, Role.FINANCE)),
    ("Import", "imports:start", (Role.MANAGER,)),
    ("Webhooks", "webhooks:list", (Role.MANAGER,)),
]


def _own_first(user, roles: tuple[Role, ...] | None) -> int:
    if roles is None:
        return 0
    return 1 if user.primary_role in roles else 2


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "company_name": settings.COMPANY["name"]}
    rows = [
        (label, url_or_none(name), roles)
        for label, name, roles in NAVIGATION
        if roles is None or has_role(user, *roles)
    ]
    rows = sorted(
        ((label, url, roles) for label, url, roles in rows if url),
        key=lambda row: _own_first(user, row[2]),
    )
    active = _best_match(request.path, [url for _, url, _ in rows])
    items = [{"label": label, "url": url, "active": url == active} for label, url, _ in rows]
    return {"nav_items": items, "Role": Role, "company_name": settings.COMPANY["name"]}


def _best_match(path: str, urls: list[str]) -> str | None:
    """The menu entry for `path`: an exact match, else the longest URL it lies under."""
    if path in urls:
        return path
    under = [url for url in urls if url != "/" and path.startswith(url)]
    return max(under, key=len) if under else None
