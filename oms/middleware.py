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
    it away at the door means no view or service can half-write it or answer with a 500.

    Form bodies are read only where Django's CSRF check reads them too: views exempt from
    it (signed machine-to-machine webhooks) read their raw body themselves."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        if _carries_nul(request.GET):
            return self._refuse(request)
        if getattr(view_func, "csrf_exempt", False):
            return None
        if request.content_type in FORM_TYPES and _carries_nul(request.POST):
            return self._refuse(request)
        return None

    @staticmethod
    def _refuse(request: HttpRequest) -> HttpResponse:
        return render(request, "bad_input.html", status=400)
