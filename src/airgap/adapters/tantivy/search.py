"""One search on an embedded index, answered in Elasticsearch's response shape.

``hits.total`` is always exact (``relation: "eq"``). Hits come in Elasticsearch's order:
by score (ties in index order) unless ``sort`` says otherwise. A single-field sort with
missing values last — the common case — is done by tantivy over the field's column; any
other sort (several keys, ``missing: "_first"`` or a substitute value, ``_score`` ascending)
reads the matching documents' sort values and orders them here, which is exact but costs
time proportional to the number of matches.
"""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import orjson
import tantivy

from airgap.adapters.tantivy.aggregations import AggregationRun
from airgap.adapters.tantivy.errors import rejected, unsupported
from airgap.adapters.tantivy.index import EmbeddedIndex
from airgap.adapters.tantivy.mapping import FieldKind, FieldSpec
from airgap.adapters.tantivy.query import QueryContext, QueryTranslator

__all__ = ["MAX_RESULT_WINDOW", "execute"]

MAX_RESULT_WINDOW = 10_000
"""Elasticsearch's default ``index.max_result_window``: ``from + size`` may not exceed it."""

_BODY_KEYS = frozenset({"query", "aggs", "aggregations", "size", "from", "sort", "_source"})
_TEXT_SORT = (
    "Text fields are not optimised for operations that require per-document field data like "
    "aggregations and sorting, so these operations are disabled by default. Please use a "
    "keyword field instead."
)
_LONG_MAX = 2**63 - 1
_LONG_MIN = -(2**63)


@attrs.frozen
class _SortKey:
    field: str  # a field name, "_score" or "_doc"
    descending: bool
    spec: FieldSpec | None = None
    missing: Any = "_last"

    @property
    def on_score(self) -> bool:
        return self.field == "_score"


@attrs.frozen
class _Hit:
    address: Any
    score: float | None
    sort: list[Any] | None = None


def execute(index: EmbeddedIndex, body: Mapping[str, Any], *, now_millis: int) -> dict[str, Any]:
    """Run ``body`` (the Elasticsearch search body) and return the response body."""
    started = time.perf_counter()
    for key in body:
        if key not in _BODY_KEYS:
            raise unsupported(f"search option [{key}]", str(key))
    size = _non_negative(body.get("size", 10), "size")
    start = _non_negative(body.get("from", 0), "from")
    if start + size > MAX_RESULT_WINDOW:
        raise rejected(
            "from",
            f"Result window is too large, from + size must be less than or equal to: "
            f"[{MAX_RESULT_WINDOW}] but was [{start + size}]",
        )
    searcher = index.searcher()
    context = QueryContext(
        mapping=index.mapping,
        schema=index.schema,
        searcher=searcher,
        analyzer=index.analyzer,
        terms=index.terms,
        now_millis=now_millis,
    )
    query = QueryTranslator(context).build(body.get("query", {"match_all": {}}))
    keys = _sort_keys(body.get("sort"), context, index.multi_valued)
    aggs = body.get("aggs", body.get("aggregations"))
    aggregations = AggregationRun(context, aggs) if aggs else None
    counted: int | None = None
    aggregated: dict[str, Any] | None = None
    if size == 0:
        # Only the count is wanted: take it from the index or the aggregation pass instead of
        # a separate scoring search.
        if body.get("query") in (None, {"match_all": {}}):
            counted = int(searcher.num_docs)
        if aggregations is not None:
            aggregated, total_from_aggs = aggregations.run(query, count=counted is None)
            counted = counted if total_from_aggs is None else total_from_aggs
    hits: list[_Hit] = []
    max_score: float | None = None
    if counted is not None:
        total = counted
    else:
        total, hits, max_score = _collect(searcher, query, keys, start, size)
    rendered = _render_hits(index.name, searcher, hits, body.get("_source", True))
    response: dict[str, Any] = {
        "took": 0,
        "timed_out": False,
        "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
        "hits": {
            "total": {"value": total, "relation": "eq"},
            "max_score": max_score,
            "hits": rendered,
        },
    }
    if aggregations is not None:
        if aggregated is None:
            aggregated, _ = aggregations.run(query)
        response["aggregations"] = aggregated
    response["took"] = int((time.perf_counter() - started) * 1000)
    return response


def _non_negative(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise rejected(path, f"[{path}] must be a non-negative integer, got {value!r}")
    return value


# ---------------------------------------------------------------------------------------------
# Sorting
# ---------------------------------------------------------------------------------------------


def _sort_keys(sort: Any, context: QueryContext, multi_valued: frozenset[str]) -> list[_SortKey]:
    if sort is None:
        return []
    items = sort if isinstance(sort, list) else [sort]
    keys: list[_SortKey] = []
    for position, item in enumerate(items):
        path = f"sort[{position}]"
        options: Mapping[str, Any] = {}
        if isinstance(item, str):
            field = item
        elif isinstance(item, Mapping) and len(item) == 1:
            ((field, spec),) = item.items()
            if isinstance(spec, str):
                options = {"order": spec}
            elif isinstance(spec, Mapping):
                options = spec
            else:
                raise rejected(path, "a sort option must be an order or an object")
        else:
            raise rejected(path, "a sort entry is a field name or {field: order}")
        field = str(field)
        default_order = "desc" if field == "_score" else "asc"
        descending = str(options.get("order", default_order)) == "desc"
        if field in {"_score", "_doc"}:
            keys.append(_SortKey(field, descending))
            continue
        spec = context.spec(field)
        if spec is None:
            if "unmapped_type" not in options:
                raise rejected(path, f"No mapping found for [{field}] in order to sort on")
            keys.append(_SortKey(field, descending, None, options.get("missing", "_last")))
            continue
        if spec.name == "_id":
            raise rejected(path, "Fielddata access on the _id field is disallowed")
        if spec.kind is FieldKind.TEXT:
            raise rejected(path, _TEXT_SORT)
        if spec.name in multi_valued:
            raise unsupported(
                f"sorting on [{field}], which holds several values per document", path
            )
        keys.append(
            _SortKey(field, descending, spec, _missing(options.get("missing", "_last"), spec, path))
        )
    # A sort by _score descending alone is the default relevance order.
    if len(keys) == 1 and keys[0].on_score and keys[0].descending:
        return []
    return keys


def _missing(value: Any, spec: FieldSpec, path: str) -> Any:
    if value in ("_last", "_first"):
        return value
    if spec.kind in (FieldKind.LONG, FieldKind.DATE):
        if spec.kind is FieldKind.DATE:
            assert spec.formats is not None
            return spec.formats.to_millis(value)
        return int(float(value))
    if spec.kind is FieldKind.DOUBLE:
        return float(value)
    if spec.kind is FieldKind.BOOLEAN:
        return value in (True, "true")
    return str(value)


def _collect(
    searcher: Any, query: Any, keys: list[_SortKey], start: int, size: int
) -> tuple[int, list[_Hit], float | None]:
    if not keys:
        return _by_score(searcher, query, start, size)
    if (
        len(keys) == 1
        and not keys[0].on_score
        and keys[0].missing == "_last"
        and (keys[0].spec is not None or keys[0].field == "_doc")
    ):
        return _by_column(searcher, query, keys[0], start, size)
    return _sorted_here(searcher, query, keys, start, size)


def _by_score(
    searcher: Any, query: Any, start: int, size: int
) -> tuple[int, list[_Hit], float | None]:
    result = searcher.search(query, limit=max(size, 1), offset=start, count=True)
    total = int(result.count)
    hits = [_Hit(address, float(score)) for score, address in result.hits] if size else []
    max_score: float | None = None
    if total and size:
        if start == 0:
            max_score = hits[0].score if hits else None
        else:
            top = searcher.search(query, limit=1, count=False).hits
            max_score = float(top[0][0]) if top else None
    return total, hits, max_score


def _by_column(
    searcher: Any, query: Any, key: _SortKey, start: int, size: int
) -> tuple[int, list[_Hit], float | None]:
    # tantivy orders by a fast field with documents lacking a value last in both directions,
    # which is Elasticsearch's default "missing": "_last".
    field = "_seq" if key.field == "_doc" else key.field
    result = searcher.search(
        query,
        limit=max(size, 1),
        offset=start,
        count=True,
        order_by_field=field,
        order=tantivy.Order.Desc if key.descending else tantivy.Order.Asc,
    )
    hits = (
        [_Hit(address, None, [_sort_value(key, value)]) for value, address in result.hits]
        if size
        else []
    )
    return int(result.count), hits, None


def _sorted_here(
    searcher: Any, query: Any, keys: list[_SortKey], start: int, size: int
) -> tuple[int, list[_Hit], float | None]:
    total = int(searcher.search(query, limit=1, count=True).count)
    if total == 0:
        return 0, [], None
    scored = searcher.search(query, limit=total, count=False).hits
    addresses = [address for _, address in scored]
    scores = [float(score) for score, _ in scored]
    # _seq is the load order: Elasticsearch's _doc order and its final tie-break.
    sequence: list[int] = searcher.fast_field_values("_seq", addresses)
    values = [_column(searcher, query, total, key, addresses, sequence) for key in keys]
    order = sorted(range(total), key=sequence.__getitem__)
    # Stable sorts from the last key to the first give the compound order.
    for key, column in reversed(list(zip(keys, values, strict=True))):
        order = _sort_by(order, key, column, scores, sequence)
    on_score = any(k.on_score for k in keys)
    hits = []
    for row in order[start : start + size]:
        shown = [
            scores[row]
            if key.on_score
            else sequence[row]
            if key.field == "_doc"
            else _sort_value(key, column[row])
            for key, column in zip(keys, values, strict=True)
        ]
        hits.append(_Hit(addresses[row], scores[row] if on_score else None, shown))
    return total, hits, max(scores) if on_score else None


def _column(
    searcher: Any,
    query: Any,
    total: int,
    key: _SortKey,
    addresses: list[Any],
    sequence: list[int],
) -> list[Any]:
    """The values of a sort key's field, aligned with ``addresses`` (None where missing)."""
    spec = key.spec
    if spec is None:
        return [None] * total
    if spec.kind is not FieldKind.KEYWORD:
        column: list[Any] = searcher.fast_field_values(spec.name, addresses)
        return column
    # Keyword columns cannot be read by address; an ordered search returns them instead.
    found = searcher.search(query, limit=total, count=False, order_by_field=spec.name).hits
    found_sequence = searcher.fast_field_values("_seq", [address for _, address in found])
    by_sequence = dict(zip(found_sequence, (value for value, _ in found), strict=True))
    return [by_sequence.get(seq) for seq in sequence]


def _sort_by(
    order: list[int], key: _SortKey, column: list[Any], scores: list[float], sequence: list[int]
) -> list[int]:
    """``order`` stably sorted by one sort key. Missing values go first or last whatever the
    direction (Elasticsearch's ``_first``/``_last``) or sort as the given substitute."""
    if key.on_score:
        return sorted(order, key=scores.__getitem__, reverse=key.descending)
    if key.field == "_doc":
        return sorted(order, key=sequence.__getitem__, reverse=key.descending)
    if key.missing not in {"_last", "_first"}:
        filled = [key.missing if v is None else v for v in column]
        return sorted(order, key=filled.__getitem__, reverse=key.descending)
    present = [row for row in order if column[row] is not None]
    absent = [row for row in order if column[row] is None]
    present.sort(key=column.__getitem__, reverse=key.descending)
    return present + absent if key.missing == "_last" else absent + present


def _sort_value(key: _SortKey, value: Any) -> Any:
    """A hit's ``sort`` entry as Elasticsearch prints it (missing values as the sentinel
    Elasticsearch sorts them by)."""
    spec = key.spec
    if value is None:
        if key.missing not in ("_last", "_first"):
            value = key.missing
        else:
            high = (key.missing == "_last") != key.descending
            if spec is None or spec.kind is FieldKind.KEYWORD:
                return None
            if spec.kind is FieldKind.DOUBLE:
                return "Infinity" if high else "-Infinity"
            return _LONG_MAX if high else _LONG_MIN
    if isinstance(value, bool):
        return 1 if value else 0
    if spec is not None and spec.kind is FieldKind.DOUBLE:
        return float(value)
    return value


# ---------------------------------------------------------------------------------------------
# Hits and _source filtering
# ---------------------------------------------------------------------------------------------


def _render_hits(
    index_name: str, searcher: Any, hits: Sequence[_Hit], source: Any
) -> list[dict[str, Any]]:
    includes, excludes, wanted = _source_filter(source)
    out: list[dict[str, Any]] = []
    for hit in hits:
        doc = searcher.doc(hit.address)
        rendered: dict[str, Any] = {
            "_index": index_name,
            "_id": doc.get_first("_id"),
            "_score": hit.score,
        }
        if wanted:
            document = orjson.loads(doc.get_first("_source"))
            if includes or excludes:
                document = _filter_object(document, "", includes, excludes)
            rendered["_source"] = document
        if hit.sort is not None:
            rendered["sort"] = hit.sort
        out.append(rendered)
    return out


def _patterns(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def _source_filter(source: Any) -> tuple[list[str], list[str], bool]:
    if source is False:
        return [], [], False
    if source is True or source is None:
        return [], [], True
    if isinstance(source, Mapping):
        return _patterns(source.get("includes")), _patterns(source.get("excludes")), True
    return _patterns(source), [], True


def _matches(path: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(path, p) for p in patterns)


def _may_hold(path: str, patterns: Sequence[str]) -> bool:
    """Whether something below ``path`` could match one of ``patterns``."""
    prefix = path + "."
    for pattern in patterns:
        literal = pattern.split("*", 1)[0].split("?", 1)[0]
        if literal.startswith(prefix) or prefix.startswith(literal):
            return True
    return False


def _filter_object(
    value: Mapping[str, Any], prefix: str, includes: Sequence[str], excludes: Sequence[str]
) -> dict[str, Any]:
    """Elasticsearch's ``_source`` filtering: a path is kept when it (or an ancestor)
    matches an include pattern (or there are none) and neither it nor an ancestor matches
    an exclude pattern; objects left empty by filtering disappear."""
    out: dict[str, Any] = {}
    for key, item in value.items():
        path = f"{prefix}{key}"
        if _matches(path, excludes):
            continue
        if not includes or _matches(path, includes):
            kept = _filter_value(item, path, [], excludes)
        elif _may_hold(path, includes):
            kept = _filter_value(item, path, includes, excludes)
            if kept in ({}, []) and item not in ({}, []):
                continue
            if not isinstance(item, Mapping | list):
                continue
        else:
            continue
        out[key] = kept
    return out


def _filter_value(value: Any, path: str, includes: Sequence[str], excludes: Sequence[str]) -> Any:
    if isinstance(value, Mapping):
        return _filter_object(value, f"{path}.", includes, excludes)
    if isinstance(value, list):
        items = [_filter_value(v, path, includes, excludes) for v in value]
        if includes:
            items = [
                v for v, raw in zip(items, value, strict=True) if isinstance(raw, Mapping) and v
            ]
        return items
    return value
