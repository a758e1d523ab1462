"""One JSON shape for every error: ``{"error": {"code", "message", "details"?, "request_id"}}``.

Domain errors are mapped by their stable ``code``; Litestar's own errors (validation, unknown
route, wrong method, body too large) are reshaped to the same form; anything unexpected is
logged with its traceback and answered ``500 internal`` without one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

import msgspec
import structlog
from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    MethodNotAllowedException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    SerializationException,
    ValidationException,
)
from litestar.openapi.datastructures import ResponseSpec
from sqlalchemy.exc import IntegrityError

from airgap.domain.model.errors import (
    AuthenticationFailed,
    DomainError,
    QueryPolicyViolation,
    RateLimitExceeded,
)
from airgap.entrypoints.http.common.context import request_id_of
from airgap.entrypoints.http.common.rate_limits import remember_decision

log = structlog.get_logger("airgap.http")

STATUS_OF_CODE: Mapping[str, int] = {
    "validation_error": 422,
    "query_policy_violation": 422,
    "unauthenticated": 401,
    "forbidden": 403,
    "not_found": 404,
    "conflict": 409,
    "illegal_transition": 409,
    "rate_limited": 429,
    "batch_rejected": 422,
    "search_rejected": 422,
    "search_unavailable": 503,
}
"""HTTP status of each domain error code; a code not listed is a client error (400)."""

ERROR_CODE_KEY = "airgap_error_code"
"""Where :func:`error_response` leaves the code of the error it answered with."""

_CODE_OF_STATUS: Mapping[int, str] = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal",
    503: "unavailable",
}


class ErrorDetail(msgspec.Struct, omit_defaults=True):
    """What went wrong. ``code`` is stable and meant for programs; ``message`` for people."""

    code: str
    message: str
    request_id: str
    details: dict[str, Any] | None = None


class ErrorBody(msgspec.Struct):
    """Every error response has this body."""

    error: ErrorDetail


def error_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI entries documenting ``statuses`` with the error body (for ``responses=``)."""
    return {
        status: ResponseSpec(
            data_container=ErrorBody,
            description=HTTPStatus(status).phrase,
            generate_examples=False,
        )
        for status in statuses
    }


def error_response(
    request: Request[Any, Any, Any],
    status: int,
    code: str,
    message: str,
    *,
    details: dict[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response[ErrorBody]:
    """The error body, with the request id of the call (its code is kept in the scope too,
    for whatever records the call afterwards: the audit trail)."""
    request.scope.setdefault("state", {})[ERROR_CODE_KEY] = code
    body = ErrorBody(ErrorDetail(code, message, request_id_of(request.scope), details))
    return Response(
        content=body,
        status_code=status,
        headers=dict(headers or {}),
        media_type=MediaType.JSON,
    )


def domain_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    """A deliberate domain failure, mapped by its code."""
    if not isinstance(exc, DomainError):  # pragma: no cover - registered for DomainError only
        return internal_error_handler(request, exc)
    status = STATUS_OF_CODE.get(exc.code, 400)
    details: dict[str, Any] | None = None
    headers: dict[str, str] = {}
    if isinstance(exc, QueryPolicyViolation):
        details = {"path": exc.path, "reason": exc.reason}
    elif isinstance(exc, RateLimitExceeded):
        headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
        if exc.decision is not None:
            remember_decision(request.scope, exc.decision)
    elif isinstance(exc, AuthenticationFailed):
        headers["WWW-Authenticate"] = 'Bearer realm="airgap"'
    return error_response(request, status, exc.code, exc.message, details=details, headers=headers)


_JSON_PATH = re.compile(r" - at `\$(?:\.data)?\.?([^`]*)`")


def _validation_errors(exc: ValidationException) -> list[dict[str, Any]]:
    """``[{path, message, source}]`` from Litestar's validation error (msgspec's message
    names the exact JSON path when there is one)."""
    cause = str(exc.__cause__ or "")
    found = _JSON_PATH.search(cause)
    errors: list[dict[str, Any]] = []
    extra = exc.extra if isinstance(exc.extra, Sequence) else []
    for item in extra:
        if not isinstance(item, Mapping):
            continue
        key = str(item.get("key", ""))
        message = str(item.get("message", "invalid value"))
        raw_source = item.get("source", "")
        source = str(getattr(raw_source, "value", raw_source))
        if source == "body" and message == f"'{key}'":
            message = "a JSON request body is required"
            key = ""
        path = found.group(1) if found and source == "body" and len(extra) == 1 else key
        errors.append({"path": path, "message": message, "source": source})
    return errors or [{"path": "", "message": exc.detail, "source": ""}]


def http_exception_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    """Litestar's own errors, in the shared shape."""
    if not isinstance(exc, HTTPException):  # pragma: no cover - registered for HTTPException
        return internal_error_handler(request, exc)
    headers = dict(exc.headers or {})
    if isinstance(exc, ValidationException):
        errors = _validation_errors(exc)
        first = errors[0]
        where = f" at {first['path']}" if first["path"] else ""
        return error_response(
            request,
            422,
            "validation_error",
            f"{first['message']}{where}",
            details={"path": first["path"], "errors": errors},
        )
    if isinstance(exc, NotFoundException):
        return error_response(request, 404, "not_found", "no such resource")
    if isinstance(exc, MethodNotAllowedException):
        return error_response(
            request, 405, "method_not_allowed", "method not allowed here", headers=headers
        )
    if isinstance(exc, NotAuthorizedException):
        headers.setdefault("WWW-Authenticate", 'Bearer realm="airgap"')
        return error_response(request, 401, "unauthenticated", exc.detail, headers=headers)
    if isinstance(exc, PermissionDeniedException):
        return error_response(request, 403, "forbidden", exc.detail)
    status = exc.status_code
    if status >= 500:
        return internal_error_handler(request, exc)
    code = _CODE_OF_STATUS.get(status, "bad_request")
    message = exc.detail or HTTPStatus(status).phrase
    if status == 400:
        # e.g. "JSON is malformed: …": say what was wrong with the body, nothing internal.
        message = message.split("\n", 1)[0][:300]
    return error_response(request, status, code, message, headers=headers)


def serialization_error_handler(
    request: Request[Any, Any, Any], exc: Exception
) -> Response[ErrorBody]:
    """A body read by hand (``await request.json()``) that is not JSON: the client's fault."""
    message = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else "malformed body"
    return error_response(request, 400, "bad_request", message)


def integrity_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    """A write refused by a unique or foreign-key constraint (two callers raced for the
    same e-mail address, say) is a conflict, not a server error."""
    constraint = getattr(getattr(getattr(exc, "orig", None), "diag", None), "constraint_name", None)
    details = {"constraint": constraint} if constraint else None
    log.info("constraint violation", constraint=constraint)
    return error_response(
        request, 409, "conflict", "conflicts with an existing record", details=details
    )


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    """Anything unexpected: logged with its traceback, answered without one."""
    log.error(
        "unhandled error",
        method=request.method,
        path=request.url.path,
        exc_info=(type(exc), exc, exc.__traceback__),
    )
    return error_response(request, 500, "internal", "internal error; the request id is logged")


def exception_handlers() -> dict[type[Exception] | int, Any]:
    """The handlers to give Litestar (most specific class wins)."""
    return {
        DomainError: domain_error_handler,
        HTTPException: http_exception_handler,
        SerializationException: serialization_error_handler,
        IntegrityError: integrity_error_handler,
        Exception: internal_error_handler,
    }
