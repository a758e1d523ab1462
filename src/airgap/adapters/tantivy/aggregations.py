"""Elasticsearch aggregations on the embedded engine, in Elasticsearch's response shape.

tantivy's own aggregation framework is modelled on Elasticsearch's and runs in native code,
so every aggregation is translated into a tantivy request and its answer reshaped — with the
corrections that make it exact:

* ``terms`` asks tantivy for more buckets than needed, applies Elasticsearch's order (with
  its ``_key`` tie-break), and asks again for every bucket when a tie straddles the cut, so
  the buckets and ``sum_other_doc_count`` are exact (``doc_count_error_upper_bound`` is 0);
* ``range`` runs one tantivy range per requested range (tantivy refuses overlaps and adds
  filler buckets), sorted by ``from`` then ``to`` as Elasticsearch returns them;
* ``date_histogram`` uses milliseconds: fixed intervals (and calendar minute, hour, day and
  Monday-aligned week, which are fixed in UTC) are histograms; calendar month, quarter and
  year become ranges over the calendar's bucket boundaries;
* keys, ``*_as_string`` values and counts get Elasticsearch's types (``1.0`` for a double
  key, an integer ``value_count``, ``key_as_string`` for dates and booleans).

Time zones other than UTC in ``date_histogram`` and metrics over boolean fields are refused
as unsupported; an aggregation Elasticsearch itself refuses (an average of a keyword field)
is refused with Elasticsearch's reason.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from datetime import UTC
from decimal import Decimal
from typing import Any

import attrs

from airgap.adapters.tantivy.dates import (
    MILLIS_PER_UNIT,
    DateFormatError,
    DateFormats,
    calendar_boundaries,
    is_utc,
    parse_time_zone,
)
from airgap.adapters.tantivy.errors import join, rejected, unsupported
from airgap.adapters.tantivy.mapping import FieldKind, FieldSpec
from airgap.adapters.tantivy.query import QueryContext

__all__ = ["AggregationRun", "java_double"]

_ALL_BUCKETS = 1_000_000
# Buckets asked for beyond ``size``: a tie at the cut that they do not resolve costs a second
# pass asking for every bucket.
_EXTRA_BUCKETS = 5
_TOTAL = "airgap_total"  # every document has a _seq value: counting them counts the matches
_MAX_BUCKETS = 65_000
_WEEK_OFFSET = 4 * 86_400_000  # 1970-01-05, the first Monday after the epoch
_FIXED_CALENDAR = {
    "minute": "m",
    "1m": "m",
    "hour": "h",
    "1h": "h",
    "day": "d",
    "1d": "d",
}
_MONTHLY_CALENDAR = {"month": "M", "1M": "M", "quarter": "q", "1q": "q", "year": "y", "1y": "y"}
_NUMERIC_METRICS = frozenset({"avg", "min", "max", "sum", "stats"})
_TEXT_REFUSAL = (
    "Text fields are not optimised for operations that require per-document field data like "
    "aggregations and sorting, so these operations are disabled by default. Please use a "
    "keyword field instead."
)


class _NeedsAllBuckets(Exception):
    """A terms cut fell inside a tie; the node must be asked for every bucket."""

    def __init__(self, node: _Node) -> None:
        super().__init__(node.path)
        self.node = node


def java_double(value: float) -> str:
    """``Double.toString`` as Java writes it (``15.0``, ``1.0E7``, ``1.5E-4``)."""
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    if 1e-3 <= abs(value) < 1e7:
        text = repr(float(value))
        return text if "e" not in text else f"{Decimal(text):f}"
    sign, digits, exponent = Decimal(repr(float(value))).as_tuple()
    assert isinstance(exponent, int)
    figures = "".join(str(d) for d in digits).rstrip("0") or "0"
    power = exponent + len(digits) - 1
    mantissa = figures[0] + "." + (figures[1:] or "0")
    return ("-" if sign else "") + f"{mantissa}E{power}"


@attrs.define
class _Node:
    """One requested aggregation and how to ask tantivy for it."""

    name: str
    kind: str
    path: str
    spec: FieldSpec | None
    params: Mapping[str, Any]
    children: list[_Node]
    meta: Any = None
    tname: str = ""
    exhaustive: bool = False
    # date_histogram details
    interval: int = 0
    offset: int = 0
    calendar_unit: str | None = None
    boundaries: list[int] | None = None
    formats: DateFormats | None = None
    extended: tuple[int | float | None, int | float | None] = (None, None)
    # range details: (from, to, key) in Elasticsearch's order
    ranges: list[tuple[float | None, float | None, str | None]] = attrs.Factory(list)


class AggregationRun:
    """Plans, runs and renders the ``aggs`` of one search."""

    def __init__(self, context: QueryContext, aggs: Mapping[str, Any]) -> None:
        self.ctx = context
        self._counter = 0
        self.nodes = self._plan(aggs, "aggs")

    # -- planning -------------------------------------------------------------------------------

    def _next_name(self) -> str:
        self._counter += 1
        return f"a{self._counter}"

    def _plan(self, aggs: Mapping[str, Any], path: str) -> list[_Node]:
        if not isinstance(aggs, Mapping):
            raise rejected(path, "aggs must be an object")
        return [self._node(str(name), spec, join(path, str(name))) for name, spec in aggs.items()]

    def _node(self, name: str, body: Any, path: str) -> _Node:
        if not isinstance(body, Mapping):
            raise rejected(path, "an aggregation must be an object")
        kinds = [k for k in body if k not in {"aggs", "aggregations", "meta"}]
        if len(kinds) != 1:
            raise rejected(path, "an aggregation holds exactly one aggregation type")
        kind = str(kinds[0])
        params = body[kind]
        kind_path = join(path, kind)
        if kind not in _HANDLED:
            raise unsupported(f"aggregation [{kind}]", kind_path)
        if not isinstance(params, Mapping):
            raise rejected(kind_path, "aggregation parameters must be an object")
        field = params.get("field")
        spec = self.ctx.spec(str(field)) if field is not None else None
        if field is None:
            raise unsupported(f"aggregation [{kind}] without a field", kind_path)
        sub = body.get("aggs", body.get("aggregations"))
        children = self._plan(sub, join(path, "aggs")) if sub else []
        if children and kind not in _BUCKET_KINDS:
            raise rejected(
                path, f"Aggregator [{name}] of type [{kind}] cannot accept sub-aggregations"
            )
        node = _Node(name, kind, kind_path, spec, params, children, body.get("meta"))
        node.tname = self._next_name()
        if spec is not None:
            self._check_field(node, spec)
            if kind == "range":
                self._plan_range(node)
            elif kind == "date_histogram":
                self._plan_date_histogram(node)
        return node

    def _check_field(self, node: _Node, spec: FieldSpec) -> None:
        kind = node.kind
        if spec.name == "_id":
            raise rejected(node.path, "Fielddata access on the _id field is disallowed")
        if spec.kind is FieldKind.TEXT:
            raise rejected(node.path, _TEXT_REFUSAL)
        numeric = spec.kind in (FieldKind.LONG, FieldKind.DOUBLE, FieldKind.DATE)
        if kind in _NUMERIC_METRICS or kind in {"range", "histogram", "date_histogram"}:
            if spec.kind is FieldKind.BOOLEAN:
                raise unsupported(
                    f"[{kind}] aggregation over the boolean field [{spec.name}]", node.path
                )
            if not numeric:
                raise rejected(
                    node.path,
                    f"Field [{spec.name}] of type [{spec.es_type}] is not supported for "
                    f"aggregation [{kind}]",
                )

    def _plan_range(self, node: _Node) -> None:
        ranges = node.params.get("ranges") or []
        parsed: list[tuple[float | None, float | None, str | None]] = []
        for i, entry in enumerate(ranges):
            if not isinstance(entry, Mapping):
                raise rejected(f"{node.path}.ranges[{i}]", "a range must be an object")
            low, high = entry.get("from"), entry.get("to")
            parsed.append(
                (
                    None if low is None else float(low),
                    None if high is None else float(high),
                    None if entry.get("key") is None else str(entry["key"]),
                )
            )
        # Elasticsearch sorts the ranges by from, then to (a stable sort).
        node.ranges = sorted(
            parsed,
            key=lambda r: (-math.inf if r[0] is None else r[0], math.inf if r[1] is None else r[1]),
        )

    def _plan_date_histogram(self, node: _Node) -> None:
        params = node.params
        assert node.spec is not None
        try:
            zone = parse_time_zone(str(params.get("time_zone", "UTC")))
            node.formats = (
                DateFormats.parse(str(params["format"]))
                if "format" in params
                else node.spec.formats or DateFormats.parse(None)
            )
        except DateFormatError as error:
            raise rejected(node.path, str(error)) from error
        if not is_utc(zone):
            raise unsupported("date_histogram with a time_zone other than UTC", node.path)
        if "fixed_interval" in params:
            text = str(params["fixed_interval"])
            number = text.rstrip("smhd")
            unit = text[len(number) :]
            if unit not in MILLIS_PER_UNIT or not number.isdigit():
                raise rejected(node.path, f"failed to parse fixed_interval [{text}]")
            node.interval = int(number) * MILLIS_PER_UNIT[unit]
        elif "calendar_interval" in params:
            calendar = str(params["calendar_interval"])
            if calendar in _FIXED_CALENDAR:
                node.interval = MILLIS_PER_UNIT[_FIXED_CALENDAR[calendar]]
            elif calendar in {"week", "1w"}:
                node.interval = 7 * MILLIS_PER_UNIT["d"]
                node.offset = _WEEK_OFFSET
            elif calendar in _MONTHLY_CALENDAR:
                node.calendar_unit = _MONTHLY_CALENDAR[calendar]
            else:
                raise rejected(node.path, f"The supplied interval [{calendar}] is not supported")
        else:
            raise rejected(node.path, "date_histogram needs calendar_interval or fixed_interval")
        bounds = params.get("extended_bounds") or {}
        node.extended = (
            self._date_bound(node, bounds.get("min")),
            self._date_bound(node, bounds.get("max")),
        )

    def _date_bound(self, node: _Node, value: Any) -> int | None:
        if value is None:
            return None
        assert node.formats is not None
        try:
            return node.formats.to_millis(value)
        except DateFormatError as error:
            raise rejected(node.path, str(error)) from error

    # -- running --------------------------------------------------------------------------------

    def run(self, query: Any, *, count: bool = False) -> tuple[dict[str, Any], int | None]:
        """The ``aggregations`` object for the documents ``query`` matches and, with
        ``count``, how many documents it matches (counted in the same pass)."""
        self._prepare_calendars(query)
        for _attempt in range(8):
            request = self._request(self.nodes)
            if count:
                request[_TOTAL] = {"value_count": {"field": "_seq"}}
            raw = self.ctx.searcher.aggregate(query, request) if request else {}
            try:
                rendered = self._render_level(self.nodes, raw)
            except _NeedsAllBuckets as needed:
                needed.node.exhaustive = True
                continue
            total = round(raw[_TOTAL]["value"] or 0) if count else None
            return rendered, total
        raise unsupported("terms aggregation with unresolvable ties", "aggs")

    def _prepare_calendars(self, query: Any) -> None:
        calendars = [n for n in _walk(self.nodes) if n.calendar_unit and n.spec is not None]
        if not calendars:
            return
        request: dict[str, Any] = {}
        for node in calendars:
            assert node.spec is not None
            request[f"{node.tname}_min"] = {"min": {"field": node.spec.name}}
            request[f"{node.tname}_max"] = {"max": {"field": node.spec.name}}
        found = self.ctx.searcher.aggregate(query, request)
        for node in calendars:
            low = found[f"{node.tname}_min"]["value"]
            high = found[f"{node.tname}_max"]["value"]
            ext_low, ext_high = node.extended
            lows = [v for v in (low, ext_low) if v is not None]
            highs = [v for v in (high, ext_high) if v is not None]
            if not lows or not highs:
                node.boundaries = []
                continue
            assert node.calendar_unit is not None
            try:
                node.boundaries = calendar_boundaries(
                    int(min(lows)), int(max(highs)), node.calendar_unit, UTC, limit=_MAX_BUCKETS
                )
            except DateFormatError as error:
                raise rejected(node.path, str(error)) from error

    def _request(self, nodes: list[_Node]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for node in nodes:
            if node.spec is None:
                continue
            children = self._request(node.children)
            out.update(self._tantivy(node, node.spec, children))
        return out

    def _tantivy(self, node: _Node, spec: FieldSpec, children: dict[str, Any]) -> dict[str, Any]:
        field = spec.name
        params = node.params

        def wrap(body: dict[str, Any]) -> dict[str, Any]:
            return {**body, "aggs": children} if children else body

        if node.kind == "terms":
            size = int(params.get("size", 10))
            min_doc_count = int(params.get("min_doc_count", 1))
            exhaustive = node.exhaustive or min_doc_count == 0
            terms: dict[str, Any] = {
                "field": field,
                "size": _ALL_BUCKETS if exhaustive else size + _EXTRA_BUCKETS,
                "segment_size": _ALL_BUCKETS,
                "min_doc_count": min_doc_count,
            }
            order = self._primary_order(node)
            if order is not None:
                terms["order"] = order
            if "missing" in params:
                terms["missing"] = self._missing(node, spec, params["missing"])
            return {node.tname: wrap({"terms": terms})}
        if node.kind == "range":
            out = {}
            for i, (low, high, _key) in enumerate(node.ranges):
                entry: dict[str, Any] = {"key": "r"}
                if low is not None:
                    entry["from"] = (
                        _integral_bound(low) if spec.kind is not FieldKind.DOUBLE else low
                    )
                if high is not None:
                    entry["to"] = (
                        _integral_bound(high) if spec.kind is not FieldKind.DOUBLE else high
                    )
                out[f"{node.tname}_{i}"] = wrap({"range": {"field": field, "ranges": [entry]}})
            return out
        if node.kind == "histogram":
            histogram: dict[str, Any] = {
                "field": field,
                "interval": float(params["interval"]),
                "min_doc_count": int(params.get("min_doc_count", 0)),
            }
            bounds = params.get("extended_bounds") or {}
            extended = _extended_bounds(bounds.get("min"), bounds.get("max"))
            if extended:
                histogram["extended_bounds"] = extended
            return {node.tname: wrap({"histogram": histogram})}
        if node.kind == "date_histogram":
            if node.calendar_unit is not None:
                if not node.boundaries:
                    return {}
                bounds = node.boundaries
                ranges = [
                    {"from": float(bounds[i]), "to": float(bounds[i + 1]), "key": str(i)}
                    for i in range(len(bounds) - 1)
                ]
                return {node.tname: wrap({"range": {"field": field, "ranges": ranges}})}
            histogram = {
                "field": field,
                "interval": float(node.interval),
                "min_doc_count": int(params.get("min_doc_count", 0)),
            }
            if node.offset:
                histogram["offset"] = float(node.offset)
            extended = _extended_bounds(*node.extended)
            if extended:
                histogram["extended_bounds"] = extended
            return {node.tname: wrap({"histogram": histogram})}
        metric: dict[str, Any] = {"field": field}
        if "missing" in params:
            metric["missing"] = self._missing(node, spec, params["missing"])
        return {node.tname: {node.kind: metric}}

    def _missing(self, node: _Node, spec: FieldSpec, value: Any) -> Any:
        if spec.kind is FieldKind.KEYWORD:
            return str(value).lower() if isinstance(value, bool) else str(value)
        if spec.kind is FieldKind.DATE:
            assert spec.formats is not None
            try:
                return spec.formats.to_millis(value)
            except DateFormatError as error:
                raise rejected(node.path, str(error)) from error
        if spec.kind is FieldKind.BOOLEAN:
            raise unsupported("missing on a boolean field", node.path)
        try:
            number = float(value)
        except (TypeError, ValueError) as error:
            raise rejected(node.path, f"failed to parse missing value [{value}]") from error
        return int(number) if spec.kind is FieldKind.LONG else number

    def _orders(self, node: _Node) -> list[tuple[str, str]]:
        order = node.params.get("order", {"_count": "desc"})
        items = order if isinstance(order, list) else [order]
        out: list[tuple[str, str]] = []
        for item in items:
            ((key, direction),) = item.items()
            out.append((str(key), str(direction)))
        if not any(key == "_key" for key, _ in out):
            out.append(("_key", "asc"))
        return out

    def _primary_order(self, node: _Node) -> dict[str, str] | None:
        key, direction = self._orders(node)[0]
        if key in {"_count", "_key"}:
            return {key: direction}
        child_name, _, prop = key.partition(".")
        child = self._order_child(node, child_name, prop)
        return {f"{child.tname}.{prop}" if prop else child.tname: direction}

    def _order_child(self, node: _Node, name: str, prop: str) -> _Node:
        if ">" in name or "[" in name:
            raise unsupported("ordering terms by a nested aggregation path", node.path)
        child = next((c for c in node.children if c.name == name), None)
        if child is None or child.kind in _BUCKET_KINDS or child.spec is None:
            raise rejected(node.path, f"Invalid aggregation order path [{name}]")
        if child.kind == "stats" and prop not in {"min", "max", "avg", "sum", "count"}:
            raise rejected(
                node.path,
                f"Invalid aggregation order path [{name}]: a multi-value metric needs a value "
                "name such as [.max]",
            )
        if child.kind != "stats" and prop:
            raise rejected(node.path, f"Invalid aggregation order path [{name}.{prop}]")
        return child

    # -- rendering ------------------------------------------------------------------------------

    def _render_level(self, nodes: list[_Node], raw: Mapping[str, Any]) -> dict[str, Any]:
        return {node.name: self._render(node, raw) for node in nodes}

    def _render(self, node: _Node, raw: Mapping[str, Any]) -> dict[str, Any]:
        if node.spec is None:
            out = _empty(node)
        elif node.kind == "terms":
            out = self._render_terms(node, node.spec, raw[node.tname])
        elif node.kind == "range":
            out = self._render_range(node, node.spec, raw)
        elif node.kind == "histogram":
            out = self._render_histogram(node, node.spec, raw[node.tname])
        elif node.kind == "date_histogram":
            out = self._render_date_histogram(node, raw.get(node.tname))
        else:
            out = _metric(node, node.spec, raw[node.tname])
        if node.meta is not None:
            out["meta"] = node.meta
        return out

    def _bucket(
        self, node: _Node, raw: Mapping[str, Any], bucket: dict[str, Any]
    ) -> dict[str, Any]:
        bucket.update(self._render_level(node.children, raw))
        return bucket

    def _render_terms(self, node: _Node, spec: FieldSpec, raw: Mapping[str, Any]) -> dict[str, Any]:
        raw_buckets = list(raw.get("buckets", []))
        total = int(raw.get("sum_other_doc_count", 0)) + sum(
            int(b["doc_count"]) for b in raw_buckets
        )
        buckets = [self._bucket(node, b, _term_key(spec, b)) for b in raw_buckets]
        orders = self._orders(node)
        for key, direction in reversed(orders):
            buckets.sort(
                key=functools.partial(_order_value, key=key, direction=direction),
                reverse=direction == "desc",
            )
        size = int(node.params.get("size", 10))
        primary, direction = orders[0]
        more_exist = int(raw.get("sum_other_doc_count", 0)) > 0 or len(raw_buckets) >= (
            size + _EXTRA_BUCKETS
        )
        if not node.exhaustive and primary != "_key" and more_exist and len(buckets) >= size > 0:
            boundary = _order_value(buckets[size - 1], key=primary, direction=direction)
            values = [_order_value(b, key=primary, direction=direction) for b in buckets]
            worst = min(values) if direction == "desc" else max(values)
            if worst == boundary:
                raise _NeedsAllBuckets(node)
        chosen = buckets[:size]
        return {
            "doc_count_error_upper_bound": 0,
            "sum_other_doc_count": total - sum(int(b["doc_count"]) for b in chosen),
            "buckets": chosen,
        }

    def _render_range(self, node: _Node, spec: FieldSpec, raw: Mapping[str, Any]) -> dict[str, Any]:
        buckets = []
        for i, (low, high, key) in enumerate(node.ranges):
            result = raw[f"{node.tname}_{i}"]
            found = next(b for b in result["buckets"] if b.get("key") == "r")
            buckets.append(self._bucket(node, found, _range_bucket(spec, low, high, key, found)))
        return {"buckets": buckets}

    def _render_histogram(
        self, node: _Node, spec: FieldSpec, raw: Mapping[str, Any]
    ) -> dict[str, Any]:
        buckets = []
        for b in raw.get("buckets", []):
            bucket: dict[str, Any] = {}
            if spec.kind is FieldKind.DATE:
                assert spec.formats is not None
                bucket["key_as_string"] = spec.formats.format(int(b["key"]))
            bucket["key"] = float(b["key"])
            bucket["doc_count"] = int(b["doc_count"])
            buckets.append(self._bucket(node, b, bucket))
        return {"buckets": buckets}

    def _render_date_histogram(self, node: _Node, raw: Mapping[str, Any] | None) -> dict[str, Any]:
        assert node.formats is not None
        entries: list[tuple[int, Mapping[str, Any]]] = []
        if raw is not None and node.calendar_unit is not None:
            assert node.boundaries is not None
            by_key = {b["key"]: b for b in raw.get("buckets", [])}
            for i in range(len(node.boundaries) - 1):
                entries.append((node.boundaries[i], by_key[str(i)]))
            entries = self._trim(node, entries)
        elif raw is not None:
            entries = [(int(b["key"]), b) for b in raw.get("buckets", [])]
        buckets = []
        for key, b in entries:
            bucket = {
                "key_as_string": node.formats.format(key),
                "key": key,
                "doc_count": int(b["doc_count"]),
            }
            buckets.append(self._bucket(node, b, bucket))
        return {"buckets": buckets}

    @staticmethod
    def _trim(
        node: _Node, entries: list[tuple[int, Mapping[str, Any]]]
    ) -> list[tuple[int, Mapping[str, Any]]]:
        min_doc_count = int(node.params.get("min_doc_count", 0))
        if min_doc_count > 0:
            return [e for e in entries if int(e[1]["doc_count"]) >= min_doc_count]
        # Like Elasticsearch: empty buckets only between the first and the last non-empty
        # one, widened to the buckets holding the extended bounds.
        filled = [i for i, (_, b) in enumerate(entries) if int(b["doc_count"]) > 0]
        first = filled[0] if filled else None
        last = filled[-1] if filled else None
        for bound in node.extended:
            if bound is None:
                continue
            holding = max((i for i, (start, _) in enumerate(entries) if start <= bound), default=0)
            first = holding if first is None else min(first, holding)
            last = holding if last is None else max(last, holding)
        if first is None or last is None:
            return []
        return entries[first : last + 1]


_BUCKET_KINDS = frozenset({"terms", "range", "histogram", "date_histogram"})
_HANDLED = _BUCKET_KINDS | _NUMERIC_METRICS | {"cardinality", "value_count"}


def _walk(nodes: list[_Node]) -> list[_Node]:
    out: list[_Node] = []
    for node in nodes:
        out.append(node)
        out.extend(_walk(node.children))
    return out


def _extended_bounds(low: Any, high: Any) -> dict[str, float] | None:
    """tantivy wants both bounds; a missing one repeats the other, which extends nothing."""
    if low is None and high is None:
        return None
    low = high if low is None else low
    high = low if high is None else high
    return {"min": float(low), "max": float(high)}


def _integral_bound(value: float) -> float:
    # Whole-number fields: value >= 2.5 and value < 2.5 mean the same as with 3.
    return float(math.ceil(value))


def _term_key(spec: FieldSpec, raw: Mapping[str, Any]) -> dict[str, Any]:
    key = raw["key"]
    bucket: dict[str, Any] = {}
    if spec.kind is FieldKind.DOUBLE:
        bucket["key"] = float(key)
    elif spec.kind is FieldKind.LONG:
        bucket["key"] = int(key)
    elif spec.kind is FieldKind.DATE:
        assert spec.formats is not None
        bucket["key"] = int(key)
        bucket["key_as_string"] = spec.formats.format(int(key))
    elif spec.kind is FieldKind.BOOLEAN:
        truth = bool(int(key)) if not isinstance(key, str) else key == "true"
        bucket["key"] = 1 if truth else 0
        bucket["key_as_string"] = "true" if truth else "false"
    else:
        bucket["key"] = str(key)
    bucket["doc_count"] = int(raw["doc_count"])
    return bucket


def _order_value(bucket: Mapping[str, Any], *, key: str, direction: str) -> Any:
    """Sort value of a rendered bucket; missing metric values sort last either way."""
    if key == "_count":
        return (0, bucket["doc_count"])
    if key == "_key":
        return (0, bucket["key"])
    name, _, prop = key.partition(".")
    value = bucket[name].get(prop or "value")
    if value is None:
        return (-1, 0) if direction == "desc" else (1, 0)
    return (0, value)


def _format_bound(spec: FieldSpec, value: float) -> str:
    if spec.kind is FieldKind.DATE:
        assert spec.formats is not None
        return spec.formats.format(int(value))
    return java_double(value)


def _range_bucket(
    spec: FieldSpec,
    low: float | None,
    high: float | None,
    key: str | None,
    raw: Mapping[str, Any],
) -> dict[str, Any]:
    if key is None:
        key = (
            f"{'*' if low is None else _format_bound(spec, low)}-"
            f"{'*' if high is None else _format_bound(spec, high)}"
        )
    bucket: dict[str, Any] = {"key": key}
    if low is not None:
        bucket["from"] = low
        if spec.kind is FieldKind.DATE:
            bucket["from_as_string"] = _format_bound(spec, low)
    if high is not None:
        bucket["to"] = high
        if spec.kind is FieldKind.DATE:
            bucket["to_as_string"] = _format_bound(spec, high)
    bucket["doc_count"] = int(raw["doc_count"]) if raw else 0
    return bucket


def _metric(node: _Node, spec: FieldSpec, raw: Mapping[str, Any]) -> dict[str, Any]:
    kind = node.kind
    if kind in {"value_count", "cardinality"}:
        return {"value": round(raw.get("value") or 0)}
    if kind == "stats":
        out: dict[str, Any] = {
            "count": int(raw.get("count") or 0),
            "min": raw.get("min"),
            "max": raw.get("max"),
            "avg": raw.get("avg"),
            "sum": float(raw.get("sum") or 0.0),
        }
        if spec.kind is FieldKind.DATE:
            for name in ("min", "max", "avg", "sum"):
                if out[name] is not None and out["count"]:
                    out[f"{name}_as_string"] = _format_bound(spec, out[name])
        return out
    value = raw.get("value")
    if kind == "sum":
        value = float(value or 0.0)
    result: dict[str, Any] = {"value": None if value is None else float(value)}
    if spec.kind is FieldKind.DATE and value is not None and kind != "sum":
        result["value_as_string"] = _format_bound(spec, float(value))
    return result


def _empty(node: _Node) -> dict[str, Any]:
    """What Elasticsearch answers for an aggregation over a field the index does not map."""
    kind = node.kind
    if kind == "terms":
        return {"doc_count_error_upper_bound": 0, "sum_other_doc_count": 0, "buckets": []}
    if kind in {"histogram", "date_histogram"}:
        return {"buckets": []}
    if kind == "range":
        buckets = []
        for entry in node.params.get("ranges") or []:
            low, high = entry.get("from"), entry.get("to")
            bucket: dict[str, Any] = {
                "key": entry.get("key")
                or f"{'*' if low is None else java_double(float(low))}-"
                f"{'*' if high is None else java_double(float(high))}",
            }
            if low is not None:
                bucket["from"] = float(low)
            if high is not None:
                bucket["to"] = float(high)
            bucket["doc_count"] = 0
            bucket.update({child.name: _empty(child) for child in node.children})
            buckets.append(bucket)
        return {"buckets": buckets}
    if kind in {"value_count", "cardinality"}:
        return {"value": 0}
    if kind == "sum":
        return {"value": 0.0}
    if kind == "stats":
        return {"count": 0, "min": None, "max": None, "avg": None, "sum": 0.0}
    return {"value": None}
