from django import template

from oms.automation.queries import unread_count as _unread_count

register = template.Library()


@register.simple_tag
def unread_count(user) -> int:
    """Unread in-app notifications of `user` (the header's inbox badge)."""
    return _unread_count(user)
