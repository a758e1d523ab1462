"""The search backend: Elasticsearch in production, an embedded engine by default."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from airgap.domain.model.search import SearchResult


class SearchBackend(Protocol):
    """Runs a validated, read-only search.

    Raises :class:`~airgap.domain.model.errors.TransientSearchError` for failures worth
    retrying (timeouts, connection errors) and
    :class:`~airgap.domain.model.errors.PermanentSearchError` for queries that can never
    succeed (syntax, unknown index, a clause the backend does not support).
    """

    name: str

    def search(self, index: str, body: Mapping[str, Any], *, timeout_s: float) -> SearchResult: ...

    def healthy(self) -> bool: ...
