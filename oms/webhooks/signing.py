"""Webhook signatures: HMAC-SHA256 of "<timestamp>.<body>" with the endpoint's secret.

The header reads X-OMS-Signature: t=<unix seconds>,v1=<hex digest>, with one v1 per
secret in use (two for a while after a rotation). Signing the timestamp with the body lets
a receiver refuse a captured request replayed later.
"""

import hashlib
import hmac


def signature(secret: str, timestamp: int, body: str) -> str:
    message = f"{timestamp}.{body}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secrets: list[str], timestamp: int, body: str) -> str:
    signatures = ",".join(f"v1={signature(secret, timestamp, body)}" for secret in secrets)
    return f"t={timestamp},{signatures}"
