"""The embedded search backend: the :class:`~airgap.ports.search.SearchBackend` port on
tantivy, for development, tests and ``airgap up``.

It serves the indices it was given (or found under a data directory), answers the query
subset of SPEC §6 in Elasticsearch's response shape, and refuses anything else with a
:class:`~airgap.domain.model.errors.PermanentSearchError` naming the clause. Searches run
concurrently without locks (indices are immutable once built); replacing an index swaps
one reference. ``timeout_s`` cannot interrupt the engine mid-search — searches on the
embedded data sets take well under a millisecond — so it is accepted and not enforced.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from airgap.adapters.tantivy.index import EmbeddedIndex, index_directories
from airgap.adapters.tantivy.search import execute
from airgap.domain.model.errors import PermanentSearchError
from airgap.domain.model.search import SearchResult

__all__ = ["TantivySearchBackend"]


def _wall_clock_millis() -> int:
    return int(time.time() * 1000)


class TantivySearchBackend:
    """Answers searches from embedded tantivy indices."""

    name = "tantivy"

    def __init__(
        self,
        indices: Iterable[EmbeddedIndex] = (),
        *,
        now_millis: Callable[[], int] = _wall_clock_millis,
    ) -> None:
        self._indices: dict[str, EmbeddedIndex] = {}
        self._lock = threading.Lock()
        self._now_millis = now_millis
        for index in indices:
            self.add(index)

    @classmethod
    def open(cls, data_dir: Path, **options: Any) -> TantivySearchBackend:
        """Serve every index written under ``data_dir`` by ``airgap search load``."""
        return cls([EmbeddedIndex.open(path) for path in index_directories(data_dir)], **options)

    def add(self, index: EmbeddedIndex) -> None:
        """Serve ``index``, replacing one of the same name."""
        with self._lock:
            self._indices = {**self._indices, index.name: index}

    def index(self, name: str) -> EmbeddedIndex:
        try:
            return self._indices[name]
        except KeyError:
            raise PermanentSearchError(
                f"index_not_found_exception: no such index [{name}]"
            ) from None

    @property
    def index_names(self) -> list[str]:
        return sorted(self._indices)

    def search(self, index: str, body: Mapping[str, Any], *, timeout_s: float) -> SearchResult:
        target = self.index(index)
        try:
            response = execute(target, body, now_millis=self._now_millis())
        except PermanentSearchError:
            raise
        except (ValueError, TypeError, KeyError, OverflowError, ArithmeticError) as error:
            # The engine refused something the translation let through (e.g. too many
            # buckets): never retry it, and say what it was.
            raise PermanentSearchError(
                f"the embedded engine refused the search: {error}"
            ) from error
        except BaseException as error:
            # tantivy reports internal assertion failures as pyo3's PanicException, which
            # derives from BaseException; anything else (KeyboardInterrupt...) propagates.
            if type(error).__name__ != "PanicException":
                raise
            raise PermanentSearchError(
                f"the embedded engine failed on the search: {error}"
            ) from None
        return SearchResult.from_body(response)

    def healthy(self) -> bool:
        """True when there is at least one index and every index answers."""
        if not self._indices:
            return False
        try:
            for index in self._indices.values():
                index.searcher().num_docs  # noqa: B018 - touching the index is the check
        except Exception:
            return False
        return True
