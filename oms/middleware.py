"""Request guards shared by every app."""

import json

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

NUL = "\x00"
# Bodies Django parses into request.POST.
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _carries_nul(data) -> bool:
    return any(NUL in key or any(NUL in value for value in data.getlist(key)) for key in data)


def _json_carries_lone_surrogate(body: bytes) -> bool:
    """True when valid JSON escapes half a UTF-16 pair (\\ud800): Python decodes it to a
    string that can be neither stored in PostgreSQL nor written back out as UTF-8."""
    try:
        data = json.loads(body)
    except ValueError:
        return False  # not JSON at all: the view's parser answers that with a 400
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


class RefuseUnstorableTextMiddleware:
    """Refuse, with a 400, input no text we keep may contain: a NUL character in a form or
    query string (PostgreSQL cannot store it), or a lone surrogate in a JSON body. Turning
    it away at the door means no view or service can half-write it or answer with a 500.

    Form bodies are read only where Django's CSRF check reads them too: views exempt from
    it (signed machine-to-machine webhooks) read their raw body themselves. A JSON body is
    read as bytes, which leaves it readable for the view."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        if _carries_nul(request.GET):
            return self._refuse(request)
        if request.content_type == "application/json":
            if request.body and _json_carries_lone_surrogate(request.body):
                return self._refuse_json()
            return None
        if getattr(view_func, "csrf_exempt", False):
            return None
        if request.content_type in FORM_TYPES and _carries_nul(request.POST):
            return self._refuse(request)
        return None

    @staticmethod
    def _refuse(request: HttpRequest) -> HttpResponse:
        return render(request, "bad_input.html", status=400)

    @staticmethod
    def _refuse_json() -> HttpResponse:
        message = "The request contains text that is not valid Unicode (a lone surrogate)."
        return HttpResponse(
            json.dumps({"detail": message}), status=400, content_type="application/json"
        )
