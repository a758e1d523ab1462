"""The export guard (SPEC §4): what of a search answer may leave the response network.

A per-index policy drops fields, masks fields (replaces their value), caps the number of
hits and caps the size of the answer in bytes; an index without a policy of its own gets the
default one. The guard works on Elasticsearch-shaped bodies and counts what it did, so the
result's metadata can say so.

Fields are dotted paths into each hit's ``_source`` (``supplier.email``), matched the way
Elasticsearch reads documents: through arrays of objects, and whether the source nests
objects (``{"supplier": {"email": …}}``) or spells the path in one key
(``{"supplier.email": …}``). A ``*`` segment matches any one key. Dropping or masking a path
covers everything under it.

A field must not leak by another way out either. The guard is given the query, so it also
removes, from the answer, aggregations computed on a guarded field (a ``terms`` aggregation
would list every value) and each hit's ``sort`` values when the query sorts by one.

The byte cap measures the compact UTF-8 JSON of the body. When the body is over it, hits are
removed from the end, then aggregations, then everything but the totals; the cap is never
smaller than :data:`MIN_RESULT_BYTES`, so what is left always fits.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from airgap.domain.model.errors import ValidationFailed

MIN_RESULT_BYTES = 1024
_GUARD_KEYS = ("drop_fields", "mask_fields", "max_hits", "max_result_bytes")
_FILE_KEYS = ("indices", "default")
_AGG_STRUCTURE = frozenset({"aggs", "aggregations", "meta"})


class ExportGuardInvalid(ValidationFailed):
    """An export-guard configuration that cannot be used; ``path`` names the bad part."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path


def _segments(path: str) -> tuple[str, ...]:
    return tuple(path.split("."))


def _valid_path(path: object) -> bool:
    return isinstance(path, str) and bool(path) and all(_segments(path))


def _covers(pattern: tuple[str, ...], parts: tuple[str, ...]) -> bool:
    """True when ``parts`` (a field's segments) is ``pattern`` or lies under it."""
    if len(parts) < len(pattern):
        return False
    return all(p in ("*", k) for p, k in zip(pattern, parts, strict=False))


def _frozen_paths(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


def _masks(value: Mapping[str, Any]) -> dict[str, Any]:
    return dict(value)


@attrs.frozen
class IndexGuard:
    """One index's policy; the empty policy lets everything through."""

    drop_fields: tuple[str, ...] = attrs.field(default=(), converter=_frozen_paths)
    mask_fields: Mapping[str, Any] = attrs.field(factory=dict, converter=_masks)
    max_hits: int | None = None
    max_result_bytes: int | None = None

    def __attrs_post_init__(self) -> None:
        for path in (*self.drop_fields, *self.mask_fields):
            if not _valid_path(path):
                raise ExportGuardInvalid("", f"{path!r} is not a field path")
        both = sorted(set(self.drop_fields) & set(self.mask_fields))
        if both:
            raise ExportGuardInvalid("", f"{both[0]!r} is both dropped and masked")
        if self.max_hits is not None and self.max_hits < 0:
            raise ExportGuardInvalid("", "max_hits must not be negative")
        if self.max_result_bytes is not None and self.max_result_bytes < MIN_RESULT_BYTES:
            raise ExportGuardInvalid("", f"max_result_bytes must be at least {MIN_RESULT_BYTES}")

    @property
    def active(self) -> bool:
        return bool(
            self.drop_fields
            or self.mask_fields
            or self.max_hits is not None
            or self.max_result_bytes is not None
        )

    def guards_field(self, field: str) -> bool:
        """True when ``field`` (as a query names it: ``supplier_email.keyword``) is dropped
        or masked, or lies under a dropped or masked path."""
        parts = _segments(field)
        return any(_covers(_segments(p), parts) for p in (*self.drop_fields, *self.mask_fields))


@attrs.frozen
class GuardReport:
    """What the guard removed or changed in one answer."""

    dropped_fields: int = 0
    masked_fields: int = 0
    hits_removed: int = 0
    truncated: bool = False  # the byte cap removed something
    dropped_aggregations: int = 0

    def metadata(self) -> dict[str, Any]:
        """The result metadata entry (``{"export_guard": {…}}``)."""
        return {"export_guard": attrs.asdict(self)}


@attrs.frozen
class GuardedAnswer:
    """The body that may leave, and what was done to it (None when no policy applied)."""

    body: Mapping[str, Any]
    report: GuardReport | None


def _index_guards(value: Mapping[str, IndexGuard]) -> dict[str, IndexGuard]:
    return dict(value)


@attrs.frozen
class ExportGuard:
    """Policies by index name, and the default for every other index."""

    indices: Mapping[str, IndexGuard] = attrs.field(factory=dict, converter=_index_guards)
    default: IndexGuard = IndexGuard()

    def for_index(self, index: str) -> IndexGuard:
        return self.indices.get(index, self.default)

    def apply(
        self, index: str, body: Mapping[str, Any], query: Mapping[str, Any] | None = None
    ) -> GuardedAnswer:
        """Guard ``body``, the answer to ``query`` (the validated params: ``aggs`` and
        ``sort`` are read) on ``index``. ``body`` itself is never changed."""
        guard = self.for_index(index)
        if not guard.active:
            return GuardedAnswer(body, None)
        out: dict[str, Any] = json.loads(_dumps(body))  # a deep copy, in JSON's own types
        query = query or {}
        dropped = masked = hits_removed = aggs_dropped = 0
        truncated = False

        hits = _hit_list(out)
        if guard.max_hits is not None and len(hits) > guard.max_hits:
            hits_removed += len(hits) - guard.max_hits
            del hits[guard.max_hits :]
        sorts_guarded = any(guard.guards_field(f) for f in _sort_fields(query.get("sort")))
        drops = [_segments(p) for p in guard.drop_fields]
        masks = [(_segments(p), v) for p, v in guard.mask_fields.items()]
        for hit in hits:
            if not isinstance(hit, dict):
                continue
            source = hit.get("_source")
            if isinstance(source, dict):
                for path in drops:
                    dropped += _drop(source, path)
                for path, value in masks:
                    masked += _mask(source, path, value)
            if sorts_guarded and "sort" in hit:
                del hit["sort"]
                dropped += 1
        requested_aggs = query.get("aggs") or query.get("aggregations")
        answered_aggs = out.get("aggregations")
        if isinstance(requested_aggs, Mapping) and isinstance(answered_aggs, dict):
            aggs_dropped += _guard_aggregations(guard, requested_aggs, answered_aggs)

        cap = guard.max_result_bytes
        if cap is not None:
            size = _size(out)
            if size > cap:
                truncated = True
                removed, aggs = _fit(out, hits, size, cap)
                hits_removed += removed
                aggs_dropped += aggs
        report = GuardReport(dropped, masked, hits_removed, truncated, aggs_dropped)
        return GuardedAnswer(out, report)

    @classmethod
    def from_mapping(cls, data: object) -> ExportGuard:
        """The guard a configuration describes (the JSON of ``AIRGAP_EXPORT_GUARD``)::

            {"indices": {"products": {"drop_fields": ["internal_notes"],
                                      "mask_fields": {"supplier_email": "***"},
                                      "max_hits": 100, "max_result_bytes": 1048576}},
             "default": {...}}

        An index's entry sets the keys it names; the others come from ``default``. Raises
        :class:`ExportGuardInvalid` naming the first problem."""
        top = _object(data, "")
        _known_keys(top, _FILE_KEYS, "")
        default_spec = _object(top.get("default", {}), "default")
        default = _index_guard(default_spec, "default", {})
        indices: dict[str, IndexGuard] = {}
        for name, spec in _object(top.get("indices", {}), "indices").items():
            if not name:
                raise ExportGuardInvalid("indices", "an index name must not be empty")
            where = f"indices.{name}"
            indices[name] = _index_guard(_object(spec, where), where, default_spec)
        return cls(indices, default)


# --- applying -----------------------------------------------------------------------------


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def _size(value: Any) -> int:
    return len(_dumps(value).encode("utf-8"))


def _hit_list(body: dict[str, Any]) -> list[Any]:
    hits = body.get("hits")
    if isinstance(hits, dict) and isinstance(hits.get("hits"), list):
        found: list[Any] = hits["hits"]
        return found
    return []


def _key_parts(key: str) -> tuple[str, ...]:
    return tuple(key.split("."))


def _drop(node: Any, path: tuple[str, ...]) -> int:
    """Remove every value at ``path`` under ``node``; returns how many keys were removed."""
    if isinstance(node, list):
        return sum(_drop(item, path) for item in node)
    if not isinstance(node, dict):
        return 0
    removed = 0
    for key in list(node):
        parts = _key_parts(key)
        depth = min(len(parts), len(path))
        if not _covers(path[:depth], parts[:depth]):
            continue
        if len(parts) >= len(path):
            del node[key]
            removed += 1
        else:
            removed += _drop(node[key], path[len(parts) :])
    return removed


def _mask(node: Any, path: tuple[str, ...], value: Any) -> int:
    """Replace every value at ``path`` under ``node`` by ``value``; returns how many."""
    if isinstance(node, list):
        return sum(_mask(item, path, value) for item in node)
    if not isinstance(node, dict):
        return 0
    masked = 0
    for key in list(node):
        parts = _key_parts(key)
        depth = min(len(parts), len(path))
        if not _covers(path[:depth], parts[:depth]):
            continue
        if len(parts) >= len(path):
            node[key] = json.loads(_dumps(value))
            masked += 1
        else:
            masked += _mask(node[key], path[len(parts) :], value)
    return masked


def _sort_fields(sort: object) -> list[str]:
    specs = sort if isinstance(sort, list) else [sort] if sort is not None else []
    fields: list[str] = []
    for spec in specs:
        if isinstance(spec, str):
            fields.append(spec)
        elif isinstance(spec, Mapping):
            fields.extend(str(k) for k in spec)
    return fields


def _aggregation_field(spec: Mapping[str, Any]) -> list[str]:
    fields = []
    for kind, body in spec.items():
        if kind not in _AGG_STRUCTURE and isinstance(body, Mapping):
            field = body.get("field")
            if isinstance(field, str):
                fields.append(field)
    return fields


def _guard_aggregations(
    guard: IndexGuard, requested: Mapping[str, Any], answered: dict[str, Any]
) -> int:
    """Remove the answers of aggregations on guarded fields, at every level; returns how
    many were removed."""
    removed = 0
    for name, spec in requested.items():
        if name not in answered or not isinstance(spec, Mapping):
            continue
        if any(guard.guards_field(f) for f in _aggregation_field(spec)):
            del answered[name]
            removed += 1
            continue
        sub = spec.get("aggs") or spec.get("aggregations")
        result = answered[name]
        if not isinstance(sub, Mapping) or not isinstance(result, dict):
            continue
        buckets = result.get("buckets")
        bucket_list = buckets.values() if isinstance(buckets, dict) else buckets or []
        for bucket in bucket_list:
            if isinstance(bucket, dict):
                removed += _guard_aggregations(guard, sub, bucket)
    return removed


def _fit(out: dict[str, Any], hits: list[Any], size: int, cap: int) -> tuple[int, int]:
    """Shrink ``out`` (``size`` bytes) to ``cap`` bytes: hits from the end, then the
    aggregations, then all but the totals. Returns (hits removed, aggregations removed)."""
    removed = aggs = 0
    sizes = [_size(h) for h in hits]
    while hits and size > cap:
        hits.pop()
        size -= sizes.pop() + (1 if hits else 0)  # and the comma before it
        removed += 1
    if size > cap and isinstance(out.get("aggregations"), dict):
        aggs += len(out.pop("aggregations"))
        size = _size(out)
    if size > cap:
        hits_part = out.get("hits")
        skeleton: dict[str, Any] = {k: out[k] for k in ("took", "timed_out") if k in out}
        if isinstance(hits_part, dict):
            skeleton["hits"] = {k: hits_part[k] for k in ("total", "max_score") if k in hits_part}
            skeleton["hits"]["hits"] = []
        removed += len(hits)
        hits.clear()
        out.clear()
        out.update(skeleton)
        if _size(out) > cap:  # totals of an absurd size: say nothing rather than too much
            out.clear()
            out["hits"] = {"hits": []}
    return removed, aggs


# --- configuration -------------------------------------------------------------------------


def _object(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ExportGuardInvalid(where, f"must be an object, not {_kind(value)}")
    return value


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _known_keys(spec: Mapping[str, Any], allowed: tuple[str, ...], where: str) -> None:
    for key in spec:
        if key not in allowed:
            prefix = f"{where}." if where else ""
            raise ExportGuardInvalid(
                f"{prefix}{key}", f"unknown key (expected one of {', '.join(allowed)})"
            )


def _limit(value: object, where: str, minimum: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ExportGuardInvalid(where, f"must be a whole number or null, not {_kind(value)}")
    if value < minimum:
        raise ExportGuardInvalid(where, f"must be at least {minimum}")
    return value


def _index_guard(spec: Mapping[str, Any], where: str, default: Mapping[str, Any]) -> IndexGuard:
    _known_keys(spec, _GUARD_KEYS, where)
    merged = {**default, **spec}
    drop = merged.get("drop_fields", [])
    if not isinstance(drop, list):
        raise ExportGuardInvalid(f"{where}.drop_fields", f"must be a list, not {_kind(drop)}")
    for n, path in enumerate(drop):
        if not _valid_path(path):
            raise ExportGuardInvalid(
                f"{where}.drop_fields[{n}]", f"{path!r} is not a field path like 'a.b'"
            )
    mask = _object(merged.get("mask_fields", {}), f"{where}.mask_fields")
    for path in mask:
        if not _valid_path(path):
            raise ExportGuardInvalid(
                f"{where}.mask_fields", f"{path!r} is not a field path like 'a.b'"
            )
    both = sorted(set(drop) & set(mask))
    if both:
        raise ExportGuardInvalid(where, f"field {both[0]!r} is both dropped and masked")
    return IndexGuard(
        drop_fields=tuple(drop),
        mask_fields=dict(mask),
        max_hits=_limit(merged.get("max_hits"), f"{where}.max_hits", 0),
        max_result_bytes=_limit(
            merged.get("max_result_bytes"), f"{where}.max_result_bytes", MIN_RESULT_BYTES
        ),
    )
