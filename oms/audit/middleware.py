"""Request glue for the audit log: who is asking (for changes recorded by signals) and
every refusal (403) the site gives."""

from contextvars import ContextVar

from oms.audit.models import AuditEntry

current_request: ContextVar = ContextVar("audit_current_request", default=None)


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
            from oms.audit.services import record_audit

            record_audit(
                AuditEntry.Action.PERMISSION_DENIED,
                request=request,
                method=request.method,
                view=getattr(request.resolver_match, "view_name", "") or "",
            )
        return response
