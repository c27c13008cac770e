"""Request guards shared by every app."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

NUL = "\x00"
# Bodies Django parses into request.POST; JSON is left to the API's own validation.
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _carries_nul(data) -> bool:
    return any(NUL in key or any(NUL in value for value in data.getlist(key)) for key in data)


class RefuseNulBytesMiddleware:
    """Refuse, with a 400 and a readable page, any form or query string holding a NUL
    character. No text we keep may contain one and PostgreSQL cannot store it, so turning
    it away at the door means no view or service can half-write it or answer with a 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _carries_nul(request.GET) or (
            request.content_type in FORM_TYPES and _carries_nul(request.POST)
        ):
            return render(request, "bad_input.html", status=400)
        return self.get_response(request)
