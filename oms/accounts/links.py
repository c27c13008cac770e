"""Links to pages that may not exist yet.

Navigation rows and home-page panels name the pages they point to by URL name. A name that
does not resolve (a workspace not built yet, or a URL that needs arguments we lack) is
skipped instead of breaking the page.
"""

from typing import Any

from django.urls import NoReverseMatch, reverse


def url_or_none(name: str, *args: Any, **kwargs: Any) -> str | None:
    """The path for URL `name`, or None when no such URL is defined."""
    try:
        return reverse(name, args=args or None, kwargs=kwargs or None)
    except NoReverseMatch:
        return None


def first_url(*names: str, **kwargs: Any) -> str | None:
    """The path of the first of `names` that resolves with `kwargs`, or None."""
    for name in names:
        url = url_or_none(name, **kwargs)
        if url is not None:
            return url
    return None
