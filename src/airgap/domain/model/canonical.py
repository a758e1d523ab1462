"""Canonical JSON: one spelling for every equivalent JSON value.

Used wherever two sides must agree on a hash without agreeing on key order: the query hash
that binds an answer to its question, the cache key, and the signed manifest. Objects are
written with sorted keys and no insignificant whitespace, strings as UTF-8 (not ``\\u``
escapes), and floats that are whole numbers keep their ``.0`` so ``1`` and ``1.0`` stay
distinct the way Elasticsearch sees them.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any


def canonical_json(value: Any) -> str:
    """Return the canonical JSON text of ``value``.

    Raises :class:`ValueError` for values JSON cannot represent faithfully (NaN, infinities).
    """
    return json.dumps(
        value,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )


def canonical_sha256(value: Any) -> str:
    """SHA-256 (hex) of the UTF-8 canonical JSON of ``value``."""
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()


def is_finite_json_number(value: object) -> bool:
    """True for ints and finite floats (bools are not numbers here)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and math.isfinite(value)
