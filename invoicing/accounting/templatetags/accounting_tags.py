"""{% xero_banner %}: the "reconnect Xero" banner, for any page finance sees."""

from django import template

from oms.accounts.roles import Role, has_role

register = template.Library()


@register.inclusion_tag("accounting/_xero_banner.html", takes_context=True)
def xero_banner(context) -> dict:
    from invoicing.accounting.services import current_connection

    request = context.get("request")
    user = getattr(request, "user", None)
    if not has_role(user, Role.FINANCE):
        return {"connection": None}
    return {"connection": current_connection(), "csrf_token": context.get("csrf_token")}
