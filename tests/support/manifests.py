"""Forging manifests in tests: what a liar (or an operator fixing a file by hand) does after
editing a manifest, computed from ``docs/transfer-format.md`` rather than with the code under
test, so the tests also pin the definition."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def manifest_sha256(data: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of the manifest without ``signature`` and
    ``manifest_sha256`` (sorted keys, no whitespace, UTF-8)."""
    covered = {k: v for k, v in data.items() if k not in ("signature", "manifest_sha256")}
    canonical = json.dumps(covered, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def resealed(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with its ``manifest_sha256`` recomputed."""
    return {**data, "manifest_sha256": manifest_sha256(data)}
