"""Request glue for the audit log: who is asking (for changes recorded by signals), every
refusal (403) the site gives, and every spreadsheet export handed out (CSV or Excel
downloads), wherever the view lives."""

from contextvars import ContextVar

from oms.audit.models import AuditEntry

current_request: ContextVar = ContextVar("audit_current_request", default=None)

EXPORT_TYPES = (
    "text/csv",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-excel",
)


def is_export(response) -> bool:
    content_type = response.get("Content-Type", "").split(";")[0].strip().lower()
    return response.status_code == 200 and content_type in EXPORT_TYPES


def _filename(response) -> str:
    disposition = response.get("Content-Disposition", "")
    _, _, name = disposition.partition("filename=")
    return name.strip().strip('"')[:200]


class AuditMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current_request.set(request)
        try:
            response = self.get_response(request)
        finally:
            current_request.reset(token)
        if response.status_code == 403:
            self._record(request, AuditEntry.Action.PERMISSION_DENIED)
        elif is_export(response):
            self._record(request, AuditEntry.Action.EXPORT, filename=_filename(response))
        return response

    @staticmethod
    def _record(request, action: str, **details) -> None:
        from oms.audit.services import record_audit

        match = request.resolver_match
        record_audit(
            action,
            request=request,
            method=request.method,
            view=getattr(match, "view_name", "") or "",
            query=request.META.get("QUERY_STRING", "")[:300],
            **details,
        )
