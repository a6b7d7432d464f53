"""AWS Signature Version 4, as far as a stand-in checks it: the ``Authorization`` header's
shape (``AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/bedrock/aws4_request,
SignedHeaders=..., Signature=<64 hex>``) and the access key id it names. The signature itself
is not verified (the secret key is the caller's). Bedrock API keys (``Authorization: Bearer``)
are taken too."""

from __future__ import annotations

import re

from starlette.requests import Request

from ...errors import MockVendorError
from ...http import bearer

ALGORITHM = "AWS4-HMAC-SHA256"
SERVICE = "bedrock"
_PART = re.compile(r"\s*(Credential|SignedHeaders|Signature)=([^,\s]*)\s*")


def _incomplete(message: str) -> MockVendorError:
    return MockVendorError(message, status=403, kind="IncompleteSignatureException")


def credential(auth: str) -> list[str]:
    """The ``Credential=`` scope's five parts (access key id, date, region, service, terminator)."""
    m = re.search(r"Credential=([^,\s]*)", auth)
    return m[1].split("/") if m else []


def check(request: Request) -> MockVendorError | None:
    """The 403 AWS answers a malformed ``Authorization`` header with (None if it is well formed,
    a Bearer key, or absent: a missing one is judged with the configured keys)."""
    auth = request.headers.get("authorization")
    if not auth or bearer(request):
        return None
    algorithm, _, rest = auth.strip().partition(" ")
    if algorithm != ALGORITHM:
        return _incomplete(f"Authorization header requires the '{ALGORITHM}' algorithm (or 'Bearer' with a Bedrock "
                           "API key).")
    parts = dict(m.groups() for m in (_PART.fullmatch(p) for p in rest.split(",")) if m)
    for name in ("Credential", "SignedHeaders", "Signature"):
        if not parts.get(name):
            return _incomplete(f"Authorization header requires '{name}' parameter. Authorization={auth.split()[0]}")
    scope = parts["Credential"].split("/")
    if len(scope) != 5 or not scope[0] or not re.fullmatch(r"\d{8}", scope[1]) or scope[4] != "aws4_request":
        return _incomplete("Credential should be scoped to a valid scope: <access key id>/<yyyymmdd>/<region>/"
                           f"{SERVICE}/aws4_request.")
    if scope[3] != SERVICE:
        return MockVendorError(f"Credential should be scoped to correct service: '{SERVICE}'.", status=403,
                               kind="InvalidSignatureException")
    if not re.fullmatch(r"[0-9a-f]{64}", parts["Signature"]):
        return _incomplete("Signature must be 64 lower-case hexadecimal characters.")
    if "x-amz-date" not in request.headers and "date" not in request.headers:
        return _incomplete("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
    return None


def access_key(request: Request) -> str | None:
    """The caller's key: the access key id a SigV4 header names, or a Bedrock API key (Bearer)."""
    token = bearer(request)
    if token:
        return token
    auth = request.headers.get("authorization") or ""
    scope = credential(auth) if auth.startswith(ALGORITHM) else []
    return scope[0] or None if scope else None
