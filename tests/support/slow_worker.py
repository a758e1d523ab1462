"""``airgap response worker`` whose search backend takes its time: each search first sleeps
``AIRGAP_TEST_SLOW_SEARCH_SECONDS`` (default 60). The tests use it to find a worker in the
middle of a job, then kill or stop it. Run as ``python slow_worker.py [worker options]``."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping
from typing import Any

from airgap.adapters.tantivy.backend import TantivySearchBackend
from airgap.domain.model.search import SearchResult
from airgap.entrypoints.cli.main import main

_search = TantivySearchBackend.search


def _slow_search(
    self: TantivySearchBackend, index: str, body: Mapping[str, Any], *, timeout_s: float
) -> SearchResult:
    time.sleep(float(os.environ.get("AIRGAP_TEST_SLOW_SEARCH_SECONDS", "60")))
    return _search(self, index, body, timeout_s=timeout_s)


if __name__ == "__main__":
    TantivySearchBackend.search = _slow_search  # type: ignore[method-assign]
    sys.argv = ["airgap", "response", "worker", *sys.argv[1:]]
    main()
