"""What the HTTP layer knows about the call being served: its request id and its caller.

The request id comes from the client's ``X-Request-ID`` header when that is a sensible
token, else it is made here; it is kept in the ASGI scope's state (so error handlers and
hooks find it) and in a context variable (so every log line carries it).
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar
from typing import Any

import attrs

REQUEST_ID_HEADER = "x-request-id"
_STATE_KEY = "airgap_request_id"
# Printable, no spaces or separators that would break a log line or a header; bounded.
_ACCEPTABLE = re.compile(r"[A-Za-z0-9._:\-]{1,128}")

current_request_id: ContextVar[str | None] = ContextVar("airgap_request_id", default=None)


def _from_headers(scope: Any) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            return text if _ACCEPTABLE.fullmatch(text) else None
    return None


def request_id_of(scope: Any) -> str:
    """The request id of this call, fixed on first use."""
    state = scope.setdefault("state", {})
    found = state.get(_STATE_KEY)
    if found is None:
        found = _from_headers(scope) or uuid.uuid4().hex
        state[_STATE_KEY] = found
    return str(found)


@attrs.frozen
class Caller:
    """Where a call came from, for audit entries."""

    ip_address: str | None
    user_agent: str | None
    request_id: str


def caller_of(scope: Any) -> Caller:
    client = scope.get("client")
    agent = None
    for name, value in scope.get("headers", ()):
        if name == b"user-agent":
            agent = value.decode("latin-1")[:500]
            break
    return Caller(
        ip_address=client[0] if client else None,
        user_agent=agent,
        request_id=request_id_of(scope),
    )
