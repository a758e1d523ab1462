"""Webhook delivery with httpx, and the webhook directory read from a JSON file.

The directory file maps a user id or a username to an ``http(s)`` URL::

    {"alice": "https://hooks.example.org/airgap", "7d5c…": "https://…"}

A delivery is one POST of the notice as JSON, with ``Idempotency-Key: <request id>`` so a
receiver can drop a repeat (deliveries are retried, hence at least once). Connection errors,
timeouts, 429 and 5xx are transient; any other non-2xx answer is permanent.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from pathlib import Path

import httpx

from airgap.ports.notifications import CompletionNotice, DeliveryFailed


class HttpNotifier:
    def __init__(self, *, timeout_s: float = 10.0, client: httpx.Client | None = None) -> None:
        self._client = client or httpx.Client(timeout=timeout_s, follow_redirects=False)

    def deliver(self, url: str, notice: CompletionNotice) -> None:
        try:
            answer = self._client.post(
                url,
                json=dict(notice.as_json()),
                headers={
                    "Idempotency-Key": str(notice.request_id),
                    "User-Agent": "airgap-notifier",
                },
            )
        except httpx.TransportError as error:
            raise DeliveryFailed(f"{type(error).__name__}: {error}", transient=True) from error
        if answer.is_success:
            return
        transient = answer.status_code == 429 or answer.status_code >= 500
        raise DeliveryFailed(f"webhook answered {answer.status_code}", transient=transient)

    def close(self) -> None:
        self._client.close()


class FileWebhooks:
    """``Webhooks`` from a JSON file (read once; restart the worker to change it)."""

    def __init__(self, hooks: Mapping[str, str]) -> None:
        self._hooks = dict(hooks)

    @classmethod
    def load(cls, path: Path) -> FileWebhooks:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in data.items()
        ):
            raise ValueError(f"{path}: expected a JSON object of user -> URL strings")
        for user, url in data.items():
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"{path}: the webhook of {user!r} is not an http(s) URL")
        return cls(data)

    def url_for(self, user_id: uuid.UUID, username: str) -> str | None:
        return self._hooks.get(str(user_id)) or self._hooks.get(username)
