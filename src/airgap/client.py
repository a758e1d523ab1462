"""A small typed client for the request network's API (httpx), for programs that embed
airgap::

    from airgap.client import AirgapClient

    with AirgapClient.signed_in("https://airgap.example", "alice", "…") as client:
        submitted = client.submit("match", {"index": "products", "query": {"match": {...}}})
        answer = client.wait(submitted.id, timeout=600)
        print(answer.result_count, answer.result_data)

or ``AirgapClient(base_url, api_key="ak_live_…")``. An answer takes a crossing of the air
gap, so :meth:`AirgapClient.wait` polls the status with exponential back-off (and honours
``Retry-After``). Errors raise :class:`ApiError` carrying the API's stable ``code``.

This module depends on httpx only, not on the rest of airgap.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

import httpx

__all__ = [
    "AirgapClient",
    "Answer",
    "ApiError",
    "Page",
    "RateLimited",
    "RequestCancelled",
    "RequestInfo",
    "Tokens",
]

T = TypeVar("T")

FINAL_STATUSES = frozenset({"completed", "failed", "cancelled"})


class ApiError(Exception):
    """The API refused a call; ``code`` is stable (``validation_error``, ``not_found``, …)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        request_id: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.request_id = request_id
        self.details = dict(details or {})


class RateLimited(ApiError):
    """``429``: ``retry_after`` seconds until a submission would be admitted."""

    def __init__(self, *args: Any, retry_after: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.retry_after = retry_after


class RequestCancelled(Exception):
    """The request being waited for was cancelled; it will never be answered."""


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_in: int


@dataclass(frozen=True)
class Answer:
    """A request's answer: results in Elasticsearch's shape, or a failure in ``error``."""

    request_id: uuid.UUID
    status: str  # "completed" or "failed"
    result_data: dict[str, Any] | None
    result_count: int | None
    execution_time_ms: int | None
    cache_hit: bool
    from_cache: bool
    received_at: datetime | None
    error: str | None
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def hits(self) -> list[dict[str, Any]]:
        """``result_data.hits.hits`` (empty for a failure)."""
        data = self.result_data or {}
        found = data.get("hits", {}).get("hits", [])
        return list(found) if isinstance(found, list) else []

    @classmethod
    def of(cls, body: Mapping[str, Any]) -> Answer:
        return cls(
            request_id=uuid.UUID(body["request_id"]),
            status=body["status"],
            result_data=body.get("result_data"),
            result_count=body.get("result_count"),
            execution_time_ms=body.get("execution_time_ms"),
            cache_hit=bool(body.get("cache_hit")),
            from_cache=bool(body.get("from_cache")),
            received_at=_time(body.get("received_at")),
            error=body.get("error"),
            metadata=dict(body.get("metadata") or {}),
        )


@dataclass(frozen=True)
class RequestInfo:
    """A request as the API reports it (``answer`` only where the API includes it)."""

    id: uuid.UUID
    status: str
    created_at: datetime | None
    query_type: str | None = None
    query_params: dict[str, Any] | None = None
    priority: int | None = None
    error_message: str | None = None
    answer: Answer | None = None

    @property
    def done(self) -> bool:
        return self.status in FINAL_STATUSES

    @classmethod
    def of(cls, body: Mapping[str, Any]) -> RequestInfo:
        response = body.get("response")
        return cls(
            id=uuid.UUID(body["id"]),
            status=body["status"],
            created_at=_time(body.get("created_at")),
            query_type=body.get("query_type"),
            query_params=body.get("query_params"),
            priority=body.get("priority"),
            error_message=body.get("error_message"),
            answer=None if not response else Answer.of(response),
        )


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class AirgapClient:
    """One API, one credential: a bearer token (after :meth:`login`) or an API key."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        access_token: str | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url.rstrip("/") + "/api/v1", timeout=timeout, transport=transport
        )
        self._api_key = api_key
        self._access_token = access_token
        self._refresh_token: str | None = None
        self._sleep = sleep

    @classmethod
    def signed_in(cls, base_url: str, username: str, password: str, **kwargs: Any) -> Self:
        client = cls(base_url, **kwargs)
        client.login(username, password)
        return client

    # --- plumbing ----------------------------------------------------------------------

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _headers(self) -> dict[str, str]:
        if self._access_token is not None:
            return {"Authorization": f"Bearer {self._access_token}"}
        if self._api_key is not None:
            return {"X-API-Key": self._api_key}
        return {}

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        answer = self._http.request(method, path, headers=self._headers(), **kwargs)
        if answer.status_code == 401 and self._refresh_token is not None:
            # The access token expired: rotate once and try again.
            self.refresh()
            answer = self._http.request(method, path, headers=self._headers(), **kwargs)
        if answer.status_code >= 400:
            raise _error(answer)
        return answer

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        return self._call(method, path, **kwargs).json()

    # --- signing in --------------------------------------------------------------------

    def login(self, username: str, password: str) -> Tokens:
        answer = self._http.post("/auth/login", json={"username": username, "password": password})
        if answer.status_code >= 400:
            raise _error(answer)
        return self._keep(answer.json())

    def refresh(self) -> Tokens:
        """Rotate the token pair (the old refresh token stops working)."""
        if self._refresh_token is None:
            raise RuntimeError("not signed in with a password; nothing to refresh")
        answer = self._http.post("/auth/refresh", json={"refresh_token": self._refresh_token})
        if answer.status_code >= 400:
            self._refresh_token = None
            raise _error(answer)
        return self._keep(answer.json())

    def logout(self) -> None:
        if self._refresh_token is None:
            return
        self._call("POST", "/auth/logout", json={"refresh_token": self._refresh_token})
        self._access_token = self._refresh_token = None

    def _keep(self, body: Mapping[str, Any]) -> Tokens:
        tokens = Tokens(body["access_token"], body["refresh_token"], int(body["expires_in"]))
        self._access_token, self._refresh_token = tokens.access_token, tokens.refresh_token
        return tokens

    # --- requests ----------------------------------------------------------------------

    def submit(
        self,
        query_type: str,
        query_params: Mapping[str, Any],
        *,
        priority: int | None = None,
        max_age_seconds: int | None = None,
    ) -> RequestInfo:
        """Submit a search; it is ``pending`` (or at once ``completed`` when
        ``max_age_seconds`` found a fresh stored answer). Raises :class:`RateLimited`."""
        body: dict[str, Any] = {"query_type": query_type, "query_params": dict(query_params)}
        if priority is not None:
            body["priority"] = priority
        if max_age_seconds is not None:
            body["max_age_seconds"] = max_age_seconds
        return RequestInfo.of(self._json("POST", "/requests", json=body))

    def status(self, request_id: uuid.UUID | str) -> RequestInfo:
        return RequestInfo.of(self._json("GET", f"/requests/{request_id}/status"))

    def get(self, request_id: uuid.UUID | str) -> RequestInfo:
        """The request with its answer, when there is one."""
        return RequestInfo.of(self._json("GET", f"/requests/{request_id}"))

    def answer(self, request_id: uuid.UUID | str) -> Answer:
        """The answer; :class:`ApiError` ``not_found`` while there is none yet."""
        return Answer.of(self._json("GET", f"/requests/{request_id}/response"))

    def cancel(self, request_id: uuid.UUID | str) -> RequestInfo:
        """Cancel a pending request (``conflict`` once it has been exported)."""
        return RequestInfo.of(self._json("DELETE", f"/requests/{request_id}"))

    def list(
        self, *, status: str | None = None, limit: int = 50, offset: int = 0
    ) -> Page[RequestInfo]:
        """Your requests, newest first."""
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        if status is not None:
            params["status"] = status
        body = self._json("GET", "/requests", params=params)
        return Page(
            items=[RequestInfo.of(item) for item in body["items"]],
            total=body["total"],
            limit=body["limit"],
            offset=body["offset"],
        )

    def wait(
        self,
        request_id: uuid.UUID | str,
        *,
        timeout: float = 600.0,
        first_delay: float = 0.5,
        max_delay: float = 30.0,
        factor: float = 2.0,
    ) -> Answer:
        """Poll until the request is answered and return the answer (which may be a
        failure: look at ``Answer.status``). Delays grow by ``factor`` up to ``max_delay``
        with a little jitter; a 429 waits its ``Retry-After``. Raises :class:`TimeoutError`
        after ``timeout`` seconds and :class:`RequestCancelled` for a cancelled request."""
        deadline = time.monotonic() + timeout
        delay = first_delay
        while True:
            try:
                info = self.status(request_id)
            except RateLimited as limited:
                info, delay = None, max(delay, limited.retry_after)
            if info is not None and info.status == "cancelled":
                raise RequestCancelled(f"request {request_id} was cancelled")
            if info is not None and info.done:
                return self.answer(request_id)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"request {request_id} was not answered in {timeout} s")
            self._sleep(min(delay * random.uniform(0.9, 1.1), remaining))  # noqa: S311
            delay = min(delay * factor, max_delay)


def _error(answer: httpx.Response) -> ApiError:
    try:
        error = answer.json()["error"]
        code, message = str(error["code"]), str(error["message"])
        request_id, details = error.get("request_id"), error.get("details")
    except (ValueError, KeyError, TypeError):
        code, message, request_id, details = "http_error", answer.text[:200], None, None
    if answer.status_code == 429:
        retry_after = float(answer.headers.get("Retry-After", "1"))
        return RateLimited(
            answer.status_code,
            code,
            message,
            request_id=request_id,
            details=details,
            retry_after=retry_after,
        )
    return ApiError(answer.status_code, code, message, request_id=request_id, details=details)
