"""A deterministic corpus of hostile and malformed queries (SPEC §13 "Bad input").

Every entry must be refused by :class:`airgap.domain.model.queries.QueryPolicy` with
``QueryPolicyViolation`` before anything reaches a search engine. Entries are built by
combining: forbidden or unknown clauses placed at many paths, forbidden option keys inside
otherwise valid clauses, forbidden aggregation types and keys at several aggregation levels,
keys outside the template, bad indices, bad paging, leading wildcards, non-finite numbers,
oversize values, deep and cyclic-looking nesting, too many clauses or aggregations, bad sorts
and ``_source`` values, and query types that are unknown or do not match the root clause.

Most entries are a single mutation of a valid query (see :data:`VALID_CONTROLS`) and carry
``expect_path``, the path prefix the violation must name, so a test can check the refusal is
for the intended reason and not an accident.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

ALLOWED_INDICES = frozenset({"products", "logs-*"})
"""The whitelist the corpus is written against."""

QUERY_TYPES = (
    "match",
    "term",
    "range",
    "bool",
    "wildcard",
    "fuzzy",
    "aggregation",
    "multi_match",
)

# A valid root clause for each query type; the bases every mutation starts from.
ROOTS: dict[str, dict[str, Any]] = {
    "match": {"match": {"title": "shoe"}},
    "term": {"term": {"brand": "acme"}},
    "range": {"range": {"price": {"gte": 10}}},
    "bool": {"bool": {"must": [{"match": {"title": "shoe"}}]}},
    "wildcard": {"wildcard": {"name": "sh*"}},
    "fuzzy": {"fuzzy": {"name": "shoe"}},
    "aggregation": {"match_all": {}},
    "multi_match": {"multi_match": {"query": "shoe", "fields": ["title", "body"]}},
}
VALID_AGG: dict[str, Any] = {"by_brand": {"terms": {"field": "brand"}}}
VALID_LEAF: dict[str, Any] = {"term": {"brand": "acme"}}


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def base(query_type: str, **extra: Any) -> dict[str, Any]:
    """A valid query of ``query_type`` with ``extra`` keys merged in."""
    params: dict[str, Any] = {"index": "products", "query": _copy(ROOTS[query_type])}
    if query_type == "aggregation":
        params["aggs"] = _copy(VALID_AGG)
    params.update(extra)
    return params


VALID_CONTROLS: list[tuple[str, dict[str, Any]]] = [(t, base(t)) for t in QUERY_TYPES]
"""Unmutated bases: each must validate, so the refusals below are caused by the mutations."""


@dataclass(frozen=True)
class HostileQuery:
    """One corpus entry."""

    label: str
    query_type: object
    params: object
    expect_path: str | None = None
    profile_indices: frozenset[str] | None = None


def _deep_list(depth: int, leaf: Any = 1) -> Any:
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


def _deep_dict(depth: int, key: str = "a") -> Any:
    value: Any = {}
    for _ in range(depth):
        value = {key: value}
    return value


# ---------------------------------------------------------------------------------------------
# Where a clause can be put
# ---------------------------------------------------------------------------------------------


def placements(clause: Any) -> Iterator[tuple[str, dict[str, Any], str]]:
    """Yield ``(query_type, params, path)`` with ``clause`` placed at ``path``."""
    for query_type in QUERY_TYPES:
        params = base(query_type)
        params["query"] = _copy(clause)
        yield query_type, params, "query"
    yield "bool", base("bool", query={"bool": {"must": _copy(clause)}}), "query.bool.must"
    for occur in ("must", "should", "must_not", "filter"):
        body = {occur: [_copy(VALID_LEAF), _copy(clause)]}
        yield "bool", base("bool", query={"bool": body}), f"query.bool.{occur}[1]"
    nested = {"bool": {"filter": [{"bool": {"should": [_copy(VALID_LEAF), _copy(clause)]}}]}}
    yield "bool", base("bool", query=nested), "query.bool.filter[0].bool.should[1]"
    deeper = {"bool": {"must_not": {"bool": {"must": {"bool": {"filter": _copy(clause)}}}}}}
    yield "bool", base("bool", query=deeper), "query.bool.must_not.bool.must.bool.filter"
    with_aggs = {"bool": {"should": [_copy(clause)], "minimum_should_match": 1}}
    yield "aggregation", base("aggregation", query=with_aggs), "query.bool.should[0]"


def few_placements(clause: Any) -> Iterator[tuple[str, dict[str, Any], str]]:
    """A representative subset of :func:`placements` for the larger families."""
    for i, placed in enumerate(placements(clause)):
        if i in {6, 8, 13, 14}:  # aggregation root, bool.must single, nested, deeper
            yield placed


# ---------------------------------------------------------------------------------------------
# Families
# ---------------------------------------------------------------------------------------------

FORBIDDEN_CLAUSES: dict[str, Any] = {
    "script": {"script": {"source": "doc['a'].value > 1"}},
    "script_score": {"query": {"match_all": {}}, "script": {"source": "1"}},
    "function_score": {"query": {"match_all": {}}, "functions": []},
    "percolate": {"field": "query", "document": {"a": 1}},
    "more_like_this": {"fields": ["title"], "like": "shoe"},
    "query_string": {"query": "title:shoe OR _index:secret"},
    "simple_query_string": {"query": "shoe"},
    "geo_distance": {"distance": "1km", "location": [0, 0]},
    "geo_shape": {"location": {"shape": {}}},
    "geo_bounding_box": {"location": {}},
    "geo_polygon": {"location": {}},
    "span_term": {"title": "shoe"},
    "span_near": {"clauses": [], "slop": 1},
    "span_or": {"clauses": []},
    "search_template": {"id": "stored"},
    "template": {"id": "stored", "params": {}},
    "wrapper": {"query": "eyJtYXRjaF9hbGwiOnt9fQ=="},
    "runtime_mappings": {"x": {"type": "long", "script": "emit(1)"}},
    "script_fields": {"x": {"script": "1"}},
    "nested": {"path": "items", "query": {"match_all": {}}},
    "has_child": {"type": "c", "query": {"match_all": {}}},
    "has_parent": {"parent_type": "p", "query": {"match_all": {}}},
    "parent_id": {"type": "c", "id": "1"},
    # Not forbidden by name, simply not on the allow list.
    "dis_max": {"queries": [{"match_all": {}}]},
    "constant_score": {"filter": {"match_all": {}}},
    "boosting": {"positive": {"match_all": {}}, "negative": {"match_all": {}}},
    "intervals": {"title": {}},
    "distance_feature": {"field": "t", "pivot": "1d", "origin": "now"},
    "rank_feature": {"field": "r"},
    "pinned": {"ids": ["1"], "organic": {"match_all": {}}},
    "terms_set": {"tags": {"terms": ["a"]}},
    "combined_fields": {"query": "x", "fields": ["a"]},
    "knn": {"field": "v", "query_vector": [1.0]},
    "shape": {"geometry": {}},
    "match_phrase_prefix": {"title": "sho"},
    "match_bool_prefix": {"title": "sho"},
    "type": {"value": "_doc"},
    "sql": {"query": "SELECT 1"},
    "Match": {"title": "shoe"},
    "": {},
}

FORBIDDEN_OPTION_KEYS: dict[str, Any] = {
    "script": {"source": "1"},
    "script_score": {},
    "function_score": {},
    "percolate": {},
    "runtime_mappings": {},
    "script_fields": {},
    "search_template": {"id": "x"},
    "nested": {"path": "x"},
    "has_child": {},
    "query_string": {"query": "x"},
    "_name": "named",
    "analyzer": "whitespace",
    "unknown_option": 1,
}

# Leaf clauses with a slot for one extra key: (label, builder(extra_key, value) -> clause).
_OPTION_SLOTS: list[tuple[str, Callable[[str, Any], dict[str, Any]]]] = [
    ("match", lambda k, v: {"match": {"title": {"query": "x", k: v}}}),
    ("match_phrase", lambda k, v: {"match_phrase": {"title": {"query": "x", k: v}}}),
    ("term", lambda k, v: {"term": {"brand": {"value": "x", k: v}}}),
    ("range", lambda k, v: {"range": {"price": {"gte": 1, k: v}}}),
    ("wildcard", lambda k, v: {"wildcard": {"name": {"value": "x*", k: v}}}),
    ("prefix", lambda k, v: {"prefix": {"name": {"value": "x", k: v}}}),
    ("regexp", lambda k, v: {"regexp": {"name": {"value": "x.*", k: v}}}),
    ("fuzzy", lambda k, v: {"fuzzy": {"name": {"value": "x", k: v}}}),
    ("multi_match", lambda k, v: {"multi_match": {"query": "x", k: v}}),
    ("exists", lambda k, v: {"exists": {"field": "a", k: v}}),
    ("ids", lambda k, v: {"ids": {"values": ["1"], k: v}}),
    ("match_all", lambda k, v: {"match_all": {k: v}}),
    ("bool", lambda k, v: {"bool": {"must": [{"match_all": {}}], k: v}}),
]

BAD_FIELD_NAMES = [
    "script",
    "script_score",
    "runtime_mappings",
    "_source",
    "_index",
    "_routing",
    "_seq_no",
    "_all",
    "",
    " title",
    "title\n",
    "a\x00b",
    "f" * 256,
    "bad\ud800",
]
_FIELD_SLOTS: list[tuple[str, Callable[[str], dict[str, Any]]]] = [
    ("match", lambda f: {"match": {f: "x"}}),
    ("match_phrase", lambda f: {"match_phrase": {f: "x"}}),
    ("term", lambda f: {"term": {f: "x"}}),
    ("terms", lambda f: {"terms": {f: ["x"]}}),
    ("range", lambda f: {"range": {f: {"gte": 1}}}),
    ("wildcard", lambda f: {"wildcard": {f: "x*"}}),
    ("prefix", lambda f: {"prefix": {f: "x"}}),
    ("regexp", lambda f: {"regexp": {f: "x"}}),
    ("fuzzy", lambda f: {"fuzzy": {f: "x"}}),
    ("exists", lambda f: {"exists": {"field": f}}),
    ("multi_match", lambda f: {"multi_match": {"query": "x", "fields": ["title", f]}}),
]

TOP_LEVEL_KEYS = [
    "aggregations",
    "runtime_mappings",
    "script_fields",
    "script",
    "stored_fields",
    "docvalue_fields",
    "fields",
    "highlight",
    "suggest",
    "profile",
    "explain",
    "track_total_hits",
    "track_scores",
    "post_filter",
    "rescore",
    "collapse",
    "search_after",
    "pit",
    "knn",
    "min_score",
    "timeout",
    "terminate_after",
    "indices_boost",
    "version",
    "seq_no_primary_term",
    "stats",
    "ext",
    "preference",
    "routing",
    "search_type",
    "request_cache",
    "scroll",
    "slice",
    "rank",
    "retriever",
    "Index",
    "QUERY",
    "query ",
    "_source_includes",
    "q",
    "params",
    "source",
    "template",
    "search_template",
    "percolate",
    "nested",
    "",
]

BAD_INDICES: list[Any] = [
    "",
    " ",
    "*",
    "**",
    "logs-*",
    "prod*",
    "?roducts",
    "products,logs-1",
    "products,secret",
    "_all",
    "_any",
    "-products",
    "+products",
    "_products",
    ".security",
    ".kibana",
    ".",
    "..",
    "products ",
    " products",
    "pro ducts",
    "pro\tducts",
    "Products",
    "PRODUCTS",
    "remote:products",
    "cluster:logs-1",
    "<logs-{now/d}>",
    "products/../secret",
    "products/x",
    "a\\b",
    "a|b",
    "a#b",
    'a"b',
    "a<b",
    "secret",
    "orders",
    "logs",
    "logsx-1",
    "x" * 256,
    "a\x00b",
    "a\nb",
    "prod\ud800",
    0,
    1,
    -1,
    1.5,
    math.nan,
    True,
    False,
    None,
    [],
    ["products"],
    {},
    {"name": "products"},
]

BAD_SIZES: list[Any] = [
    -1,
    -1000,
    1001,
    10**6,
    2**63,
    10**400,
    1.0,
    10.5,
    "10",
    "",
    True,
    False,
    None,
    math.nan,
    math.inf,
    -math.inf,
    [10],
    {"v": 10},
]
BAD_FROMS: list[Any] = [-1, 10_001, 10**9, 2.0, "0", True, None, math.nan, [0], {}]
BAD_WINDOWS = [(1000, 9001), (1, 10_000), (500, 9600), (999, 9002), (1000, 10_000)]

WILDCARD_PATTERNS = ["*", "*x", "?x", "**x", "*x*", "?", "??", "*.*", "?*", "*\\*"]
REGEXP_PATTERNS = [
    ".*",
    ".*x",
    ".+",
    ".+x",
    ".?x",
    ".{1,3}x",
    "*x",
    "+x",
    "?x",
    "(.*)x",
    "((.*))",
    "@",
    "@&x",
    "~x",
    "[^a]x",
    "(.+|x)",
]

BAD_QUERY_TYPES: list[Any] = [
    "MATCH",
    "Match",
    "sql",
    "script",
    "query_string",
    "",
    " ",
    "match ",
    None,
    0,
    1,
    True,
    1.5,
    math.nan,
    [],
    ["match"],
    {},
    {"type": "match"},
    b"match",
    "aggregations",
    "terms",
    "match_phrase",
    "nested",
    "bool\x00",
]

NON_FINITE = [math.nan, math.inf, -math.inf]
_NUMBER_SLOTS: list[tuple[str, Callable[[float], tuple[str, dict[str, Any], str]]]] = [
    ("match", lambda v: ("match", base("match", query={"match": {"t": v}}), "query.match.t")),
    (
        "match.query",
        lambda v: ("match", base("match", query={"match": {"t": {"query": v}}}), "query.match"),
    ),
    ("term", lambda v: ("term", base("term", query={"term": {"n": v}}), "query.term.n")),
    (
        "term.value",
        lambda v: ("term", base("term", query={"term": {"n": {"value": v}}}), "query.term"),
    ),
    ("terms", lambda v: ("term", base("term", query={"terms": {"n": [1, v]}}), "query.terms.n")),
    (
        "range.gte",
        lambda v: ("range", base("range", query={"range": {"n": {"gte": v}}}), "query.range"),
    ),
    (
        "range.lt",
        lambda v: ("range", base("range", query={"range": {"n": {"gt": 1, "lt": v}}}), "query"),
    ),
    (
        "match_all.boost",
        lambda v: ("aggregation", base("aggregation", query={"match_all": {"boost": v}}), "query"),
    ),
    (
        "bool.boost",
        lambda v: ("bool", base("bool", query={"bool": {"boost": v}}), "query.bool.boost"),
    ),
    (
        "multi_match.tie_breaker",
        lambda v: (
            "multi_match",
            base("multi_match", query={"multi_match": {"query": "x", "tie_breaker": v}}),
            "query.multi_match",
        ),
    ),
    (
        "fuzzy.value",
        lambda v: ("fuzzy", base("fuzzy", query={"fuzzy": {"n": {"value": v}}}), "query.fuzzy"),
    ),
    (
        "histogram.interval",
        lambda v: (
            "aggregation",
            base("aggregation", aggs={"h": {"histogram": {"field": "p", "interval": v}}}),
            "aggs.h",
        ),
    ),
    (
        "range_agg.from",
        lambda v: (
            "aggregation",
            base("aggregation", aggs={"r": {"range": {"field": "p", "ranges": [{"from": v}]}}}),
            "aggs.r",
        ),
    ),
    (
        "terms_agg.missing",
        lambda v: (
            "aggregation",
            base("aggregation", aggs={"t": {"terms": {"field": "p", "missing": v}}}),
            "aggs.t",
        ),
    ),
    (
        "sort.missing",
        lambda v: ("match", base("match", sort=[{"p": {"missing": v}}]), "sort[0]"),
    ),
    (
        "meta",
        lambda v: (
            "aggregation",
            base("aggregation", aggs={"m": {"max": {"field": "p"}, "meta": {"x": [v]}}}),
            "aggs.m.meta",
        ),
    ),
    (
        "extended_bounds",
        lambda v: (
            "aggregation",
            base(
                "aggregation",
                aggs={
                    "h": {"histogram": {"field": "p", "interval": 1, "extended_bounds": {"min": v}}}
                },
            ),
            "aggs.h",
        ),
    ),
]

AGG_TYPES_REFUSED = [
    "scripted_metric",
    "bucket_script",
    "bucket_selector",
    "bucket_sort",
    "nested",
    "reverse_nested",
    "children",
    "parent",
    "geo_distance",
    "geo_bounds",
    "geohash_grid",
    "geotile_grid",
    "top_hits",
    "significant_terms",
    "significant_text",
    "filter",
    "filters",
    "global",
    "composite",
    "sampler",
    "adjacency_matrix",
    "ip_range",
    "date_range",
    "missing",
    "percentiles",
    "weighted_avg",
    "matrix_stats",
    "rare_terms",
    "multi_terms",
    "script",
    "aggregations",
]
AGG_BODY_KEYS: dict[str, Any] = {
    "script": {"source": "1"},
    "script_score": {},
    "runtime_mappings": {},
    "include": ".*",
    "exclude": ["a"],
    "shard_size": 10,
    "execution_hint": "map",
    "params": {},
    "lang": "painless",
    "nested": {},
}
AGG_BODIES: dict[str, dict[str, Any]] = {
    "terms": {"field": "brand"},
    "range": {"field": "p", "ranges": [{"to": 1}]},
    "histogram": {"field": "p", "interval": 1},
    "date_histogram": {"field": "t", "calendar_interval": "1d"},
    "avg": {"field": "p"},
    "cardinality": {"field": "p"},
    "stats": {"field": "p"},
}


def _agg_at_level(agg: Any, level: int) -> tuple[dict[str, Any], str]:
    """An ``aggs`` object holding ``agg`` at nesting ``level`` (1 = top), and its path."""
    aggs: dict[str, Any] = {"target": agg}
    path = "aggs.target"
    for _ in range(level - 1):
        aggs = {"outer": {"terms": {"field": "brand"}, "aggs": aggs}}
        path = "aggs.outer." + path
    return aggs, path


def _nested_bool(levels: int, occur: str = "must", as_list: bool = True) -> dict[str, Any]:
    clause: dict[str, Any] = {"match_all": {}}
    for _ in range(levels):
        clause = {"bool": {occur: [clause] if as_list else clause}}
    return clause


def _agg_chain(levels: int) -> dict[str, Any]:
    agg: dict[str, Any] = {"terms": {"field": "f"}}
    for _ in range(levels - 1):
        agg = {"terms": {"field": "f"}, "aggs": {"x": agg}}
    return {"x": agg}


def _generate() -> Iterator[HostileQuery]:
    # Forbidden, unsupported and unknown clause types at every placement.
    for name, body in FORBIDDEN_CLAUSES.items():
        for query_type, params, path in placements({name: body}):
            yield HostileQuery(
                f"clause {name!r} at {path} ({query_type})", query_type, params, path
            )

    # Forbidden option keys inside otherwise valid clauses.
    for key, value in FORBIDDEN_OPTION_KEYS.items():
        for slot, build in _OPTION_SLOTS:
            for query_type, params, path in few_placements(build(key, value)):
                yield HostileQuery(f"{key!r} inside {slot} at {path}", query_type, params, path)

    # Forbidden, metadata and malformed field names.
    for field in BAD_FIELD_NAMES:
        for slot, build_field in _FIELD_SLOTS:
            for query_type, params, path in few_placements(build_field(field)):
                yield HostileQuery(f"field {field!r} in {slot} at {path}", query_type, params, path)

    # Terms lookup reads another index.
    lookup = {"terms": {"user": {"index": "users", "id": "1", "path": "followers"}}}
    for query_type, params, path in placements(lookup):
        yield HostileQuery(f"terms lookup at {path}", query_type, params, path)

    # Keys outside the template.
    for key in TOP_LEVEL_KEYS:
        for query_type in QUERY_TYPES:
            params = base(query_type, **{key: {"x": 1}})
            yield HostileQuery(f"top-level {key!r} ({query_type})", query_type, params, key)

    # Bad indices, and a missing one.
    for index in BAD_INDICES:
        for query_type in QUERY_TYPES:
            params = base(query_type, index=index)
            yield HostileQuery(f"index {index!r} ({query_type})", query_type, params, "index")
    for query_type in QUERY_TYPES:
        params = base(query_type)
        del params["index"]
        yield HostileQuery(f"no index ({query_type})", query_type, params, "index")
    for index, profile in [
        ("logs-1", {"products"}),
        ("products", {"logs-*"}),
        ("products", set()),
        ("logs-2", {"logs-1"}),
        ("logs-1", {"logs-1x", "log-*"}),
        ("orders", {"orders"}),
    ]:
        for query_type in QUERY_TYPES:
            yield HostileQuery(
                f"index {index!r} outside profile {sorted(profile)} ({query_type})",
                query_type,
                base(query_type, index=index),
                "index",
                frozenset(profile),
            )

    # Paging.
    for query_type in QUERY_TYPES:
        for size in BAD_SIZES:
            yield HostileQuery(f"size {size!r}", query_type, base(query_type, size=size), "size")
        for start in BAD_FROMS:
            params = base(query_type, **{"from": start})
            yield HostileQuery(f"from {start!r}", query_type, params, "from")
        for size, start in BAD_WINDOWS:
            params = base(query_type, size=size, **{"from": start})
            yield HostileQuery(f"window {start}+{size}", query_type, params, "from")

    # Leading wildcards in wildcard and regexp patterns, in several shapes and places.
    for kind, patterns in (("wildcard", WILDCARD_PATTERNS), ("regexp", REGEXP_PATTERNS)):
        for pattern in patterns:
            shapes: list[tuple[str, Any, str]] = [
                ("string", pattern, ""),
                ("value", {"value": pattern}, ".value"),
                ("boosted", {"value": pattern, "boost": 2}, ".value"),
                ("case", {"value": pattern, "case_insensitive": True}, ".value"),
            ]
            for shape, spec, suffix in shapes:
                clause = {kind: {"name": spec}}
                placed = [
                    ("wildcard", base("wildcard", query=clause), "query"),
                    (
                        "bool",
                        base("bool", query={"bool": {"filter": [clause]}}),
                        "query.bool.filter[0]",
                    ),
                    (
                        "bool",
                        base("bool", query=_wrap_in_bools(clause)),
                        "query" + ".bool.must" * 3,
                    ),
                ]
                for query_type, params, path in placed:
                    expected = f"{path}.{kind}.name{suffix}"
                    yield HostileQuery(
                        f"leading {kind} {pattern!r} as {shape} at {path}",
                        query_type,
                        params,
                        expected,
                    )

    # Non-finite numbers.
    for value in NON_FINITE:
        for slot, make in _NUMBER_SLOTS:
            query_type, params, path = make(value)
            yield HostileQuery(f"{value!r} in {slot}", query_type, params, path)

    # Oversize strings and names.
    long_text = "x" * 10_001
    oversize: list[tuple[str, str, dict[str, Any], str]] = [
        ("match value", "match", base("match", query={"match": {"t": long_text}}), "query.match.t"),
        ("term value", "term", base("term", query={"term": {"t": long_text}}), "query.term.t"),
        ("wildcard", "wildcard", base("wildcard", query={"wildcard": {"t": long_text}}), "query"),
        (
            "ids value",
            "bool",
            base("bool", query={"bool": {"must": {"ids": {"values": ["x" * 513]}}}}),
            "query",
        ),
        (
            "agg name",
            "aggregation",
            base("aggregation", aggs={"n" * 129: {"max": {"field": "p"}}}),
            "aggs",
        ),
        ("sort field", "match", base("match", sort=["f" * 256]), "sort[0]"),
        ("source", "match", base("match", _source=["f" * 256]), "_source[0]"),
        (
            "multi_match query",
            "multi_match",
            base("multi_match", query={"multi_match": {"query": long_text}}),
            "query",
        ),
        (
            "range format",
            "range",
            base("range", query={"range": {"t": {"gte": 1, "format": "y" * 256}}}),
            "query",
        ),
        (
            "time zone",
            "range",
            base("range", query={"range": {"t": {"gte": 1, "time_zone": "z" * 65}}}),
            "query",
        ),
        (
            "agg missing",
            "aggregation",
            base("aggregation", aggs={"a": {"terms": {"field": "p", "missing": long_text}}}),
            "aggs.a",
        ),
    ]
    for label, query_type, params, path in oversize:
        yield HostileQuery(f"oversize {label}", query_type, params, path)

    # Too many terms, ids, clauses, aggregations.
    for count in (1025, 2000, 100_000):
        params = base("term", query={"terms": {"t": list(range(count))}})
        yield HostileQuery(f"{count} terms", "term", params, "query.terms.t")
        ids = {"ids": {"values": [str(i) for i in range(count)]}}
        yield HostileQuery(
            f"{count} ids", "bool", base("bool", query={"bool": {"must": ids}}), "query"
        )
    for count in (64, 65, 100, 1000, 100_000):
        should = [{"term": {"t": i}} for i in range(min(count, 1000))] * max(1, count // 1000)
        params = base("bool", query={"bool": {"should": should}})
        yield HostileQuery(f"{len(should)} should clauses", "bool", params, "query.bool.should")
    for width in (33, 40, 64):
        split = {"bool": {"must": [{"bool": {"should": [_copy(VALID_LEAF)] * width}}] * 2}}
        yield HostileQuery(f"2x{width} clauses split", "bool", base("bool", query=split), "query")
    for count in (33, 50, 65, 1000):
        aggs = {f"a{i}": {"max": {"field": "p"}} for i in range(count)}
        params = base("aggregation", aggs=aggs)
        yield HostileQuery(f"{count} aggregations", "aggregation", params, "aggs.a")
    for count in (20, 40):
        sub = {f"s{i}": {"avg": {"field": "p"}} for i in range(count)}
        parents: dict[str, Any] = {
            f"t{i}": {"terms": {"field": "b"}, "aggs": sub} for i in range(2)
        }
        params = base("aggregation", aggs=parents)
        yield HostileQuery(f"2x{count} sub-aggregations", "aggregation", params, "aggs.t")
    for count in (33, 200):
        params = base("aggregation", query=_copy(ROOTS["bool"]))
        params["aggs"] = {f"a{i}": {"max": {"field": "p"}} for i in range(count)}
        yield HostileQuery(f"{count} aggregations with a bool query", "aggregation", params, "aggs")

    # Deep nesting: compound clauses, aggregations, raw JSON.
    for levels in [*range(9, 41), 100, 1000, 10_000]:
        params = base("bool", query=_nested_bool(levels))
        yield HostileQuery(f"bool nested {levels} deep", "bool", params, "query")
    for occur in ("should", "must_not", "filter"):
        for levels in range(9, 21):
            for as_list in (True, False):
                params = base("bool", query=_nested_bool(levels, occur, as_list))
                yield HostileQuery(
                    f"bool.{occur} nested {levels} deep (list={as_list})", "bool", params, "query"
                )
    for levels in [*range(9, 21), 100, 5000]:
        params = base("aggregation", aggs=_agg_chain(levels))
        yield HostileQuery(f"aggs nested {levels} deep", "aggregation", params, "aggs")
    for depth in (50, 500, 10_000):
        deep_positions: list[tuple[str, str, dict[str, Any], str]] = [
            (
                "match value",
                "match",
                base("match", query={"match": {"t": _deep_list(depth)}}),
                "query",
            ),
            (
                "terms list",
                "term",
                base("term", query={"terms": {"t": _deep_list(depth)}}),
                "query",
            ),
            ("size", "match", base("match", size=_deep_list(depth)), "size"),
            ("from", "match", base("match", **{"from": _deep_dict(depth)}), "from"),
            ("index", "match", base("match", index=_deep_list(depth, "products")), "index"),
            ("query", "match", base("match", query=_deep_dict(depth, "match")), "query"),
            (
                "bool must",
                "bool",
                base("bool", query={"bool": {"must": _deep_list(depth, {})}}),
                "query",
            ),
            ("sort", "match", base("match", sort=_deep_list(depth, "price")), "sort"),
            ("_source", "match", base("match", _source=_deep_dict(depth, "includes")), "_source"),
            (
                "meta",
                "aggregation",
                base("aggregation", aggs={"m": {"max": {"field": "p"}, "meta": _deep_dict(depth)}}),
                "aggs",
            ),
            ("aggs", "aggregation", base("aggregation", aggs=_deep_dict(depth, "aggs")), "aggs"),
            (
                "range bound",
                "range",
                base("range", query={"range": {"t": {"gte": _deep_list(depth)}}}),
                "query",
            ),
            ("params", "match", _deep_dict(depth, "query"), "index"),
            ("query_params list", "match", _deep_list(depth), ""),
        ]
        for label, query_type, params, path in deep_positions:
            yield HostileQuery(f"raw nesting {depth} in {label}", query_type, params, path)

    # Aggregations: refused types, refused keys, sub-aggregations under metrics, bad values.
    for agg_type in AGG_TYPES_REFUSED:
        for level in (1, 2, 3):
            aggs, path = _agg_at_level({agg_type: {"field": "p"}}, level)
            params = base("aggregation", aggs=aggs)
            yield HostileQuery(
                f"agg type {agg_type!r} at level {level}", "aggregation", params, path
            )
    for key, value in AGG_BODY_KEYS.items():
        for agg_type, body in AGG_BODIES.items():
            for level in (1, 2, 3):
                aggs, path = _agg_at_level({agg_type: {**_copy(body), key: value}}, level)
                params = base("aggregation", aggs=aggs)
                yield HostileQuery(
                    f"{key!r} in {agg_type} agg at level {level}", "aggregation", params, path
                )
    for agg_type, body in AGG_BODIES.items():
        for key, value in (
            ("script", "1"),
            ("aggregations", {}),
            ("meta", "x"),
            ("bucket_script", {}),
        ):
            aggs, path = _agg_at_level({agg_type: _copy(body), key: value}, 1)
            yield HostileQuery(
                f"{key!r} next to {agg_type}", "aggregation", base("aggregation", aggs=aggs), path
            )
    for metric in ("avg", "min", "max", "sum", "stats", "cardinality", "value_count"):
        agg = {metric: {"field": "p"}, "aggs": {"x": {"max": {"field": "p"}}}}
        aggs, path = _agg_at_level(agg, 1)
        yield HostileQuery(
            f"sub-aggregation under {metric}", "aggregation", base("aggregation", aggs=aggs), path
        )
    bad_agg_values: list[tuple[str, Any]] = [
        ("terms size 0", {"terms": {"field": "b", "size": 0}}),
        ("terms size 1001", {"terms": {"field": "b", "size": 1001}}),
        ("terms size str", {"terms": {"field": "b", "size": "10"}}),
        ("terms order script", {"terms": {"field": "b", "order": {"_script": "asc"}}}),
        ("terms order bad", {"terms": {"field": "b", "order": {"_count": "sideways"}}}),
        ("terms no field", {"terms": {"size": 10}}),
        ("terms field meta", {"terms": {"field": "_index"}}),
        ("histogram interval 0", {"histogram": {"field": "p", "interval": 0}}),
        ("histogram interval neg", {"histogram": {"field": "p", "interval": -5}}),
        ("histogram interval str", {"histogram": {"field": "p", "interval": "1d"}}),
        ("histogram no interval", {"histogram": {"field": "p"}}),
        (
            "date_histogram both",
            {"date_histogram": {"field": "t", "calendar_interval": "1d", "fixed_interval": "1d"}},
        ),
        ("date_histogram none", {"date_histogram": {"field": "t"}}),
        ("date_histogram cal", {"date_histogram": {"field": "t", "calendar_interval": "5d"}}),
        ("date_histogram fixed", {"date_histogram": {"field": "t", "fixed_interval": "1M"}}),
        ("date_histogram legacy", {"date_histogram": {"field": "t", "interval": "1d"}}),
        ("range no ranges", {"range": {"field": "p"}}),
        ("range empty", {"range": {"field": "p", "ranges": []}}),
        ("range not list", {"range": {"field": "p", "ranges": {"from": 1}}}),
        ("range empty item", {"range": {"field": "p", "ranges": [{}]}}),
        ("range str bound", {"range": {"field": "p", "ranges": [{"from": "a"}]}}),
        ("two types", {"avg": {"field": "p"}, "sum": {"field": "p"}}),
        ("no type", {}),
        ("not an object", "avg"),
    ]
    for label, agg in bad_agg_values:
        for level in (1, 2):
            aggs, path = _agg_at_level(agg, level)
            yield HostileQuery(
                f"agg {label} at level {level}", "aggregation", base("aggregation", aggs=aggs), path
            )
    for name in ["", "a[0]", "a>b", "]", "[", "n" * 129, "a\nb", "x\ud800"]:
        aggs = {name: {"max": {"field": "p"}}}
        yield HostileQuery(
            f"agg name {name!r}", "aggregation", base("aggregation", aggs=aggs), "aggs"
        )
    for aggs_value in (None, [], "terms", 1, [VALID_AGG]):
        yield HostileQuery(
            f"aggs {aggs_value!r}", "aggregation", base("aggregation", aggs=aggs_value), "aggs"
        )
    yield HostileQuery("aggregation without aggs", "aggregation", {"index": "products"}, "aggs")
    yield HostileQuery(
        "aggregation with empty aggs", "aggregation", base("aggregation", aggs={}), "aggs"
    )

    # Sort.
    bad_sorts: list[tuple[Any, str]] = [
        ({"_script": {"type": "number", "script": "1"}}, "sort._script"),
        ([{"_script": {"type": "number", "script": {"source": "1"}}}], "sort[0]._script"),
        (["_score", {"_script": {}}], "sort[1]._script"),
        ([{"_geo_distance": {"loc": [0, 0]}}], "sort[0]._geo_distance"),
        ("_script", "sort"),
        (["script"], "sort[0]"),
        ([{"price": "up"}], "sort[0].price"),
        ([{"price": {"order": "asc", "nested": {"path": "x"}}}], "sort[0].price.nested"),
        ([{"price": {"order": "asc", "script": "x"}}], "sort[0].price.script"),
        ([{"price": {"mode": "first"}}], "sort[0].price.mode"),
        ([{"price": {"numeric_type": "long"}}], "sort[0].price.numeric_type"),
        ([{"a": "asc", "b": "asc"}], "sort[0]"),
        ([{}], "sort[0]"),
        ([1], "sort[0]"),
        ([None], "sort[0]"),
        ("_index", "sort"),
        (["_seq_no"], "sort[0]"),
        (None, "sort"),
        (5, "sort"),
        (["x"] * 65, "sort"),
        ([{"price": math.nan}], "sort[0].price"),
    ]
    for sort, path in bad_sorts:
        for query_type in ("match", "bool", "aggregation"):
            yield HostileQuery(f"sort {sort!r}", query_type, base(query_type, sort=sort), path)

    # _source.
    bad_sources: list[tuple[Any, str]] = [
        (None, "_source"),
        (1, "_source"),
        ("", "_source"),
        ([1], "_source[0]"),
        (["a", ""], "_source[1]"),
        ({"include": ["a"]}, "_source.include"),
        ({"exclude": ["a"]}, "_source.exclude"),
        ({"includes": [None]}, "_source.includes[0]"),
        ({"excludes": {"a": 1}}, "_source.excludes"),
        ({"script": "x"}, "_source.script"),
        (["a\x00"], "_source[0]"),
        (["a"] * 1025, "_source"),
        ({"includes": "a", "runtime_mappings": {}}, "_source.runtime_mappings"),
    ]
    for source, path in bad_sources:
        for query_type in ("match", "term"):
            yield HostileQuery(
                f"_source {source!r}", query_type, base(query_type, _source=source), path
            )

    # Query types: unknown, or not matching the root clause.
    for query_type in BAD_QUERY_TYPES:
        for params_type in ("match", "aggregation"):
            yield HostileQuery(
                f"query_type {query_type!r} on {params_type}",
                query_type,
                base(params_type),
                "query_type",
            )
    mismatch_roots: list[dict[str, Any]] = [
        {"match": {"t": "x"}},
        {"match_phrase": {"t": "x"}},
        {"term": {"t": "x"}},
        {"terms": {"t": ["x"]}},
        {"range": {"t": {"gte": 1}}},
        {"bool": {}},
        {"wildcard": {"t": "x*"}},
        {"prefix": {"t": "x"}},
        {"regexp": {"t": "x"}},
        {"fuzzy": {"t": "x"}},
        {"multi_match": {"query": "x"}},
        {"match_all": {}},
        {"exists": {"field": "t"}},
        {"ids": {"values": ["1"]}},
    ]
    accepted = {
        "match": {"match", "match_phrase"},
        "term": {"term", "terms"},
        "range": {"range"},
        "bool": {"bool"},
        "wildcard": {"wildcard", "prefix", "regexp"},
        "fuzzy": {"fuzzy"},
        "multi_match": {"multi_match"},
    }
    for query_type, roots in accepted.items():
        for root in mismatch_roots:
            if next(iter(root)) in roots:
                continue
            yield HostileQuery(
                f"{query_type} with root {next(iter(root))}",
                query_type,
                base(query_type, query=root),
                "query",
            )
        params = base(query_type)
        del params["query"]
        yield HostileQuery(f"{query_type} without query", query_type, params, "query")

    # query_params that are not objects, or have non-string keys.
    for params_value in (None, [], "index=products", 1, 1.5, True, [base("match")], b"{}", (1,)):
        yield HostileQuery(f"query_params {params_value!r}", "match", params_value, "")
    for odd_key in (1, ("a",), None, 1.5):
        odd: dict[Any, Any] = {**base("match"), odd_key: 2}
        yield HostileQuery(f"key {odd_key!r}", "match", odd, "")

    # Shapes that are not JSON at all, in clause positions.
    for value in ((1, 2), {1, 2}, b"x", 1j, object, frozenset()):
        yield HostileQuery(
            f"term value {type(value).__name__}",
            "term",
            base("term", query={"term": {"t": value}}),
            "query.term.t",
        )
        yield HostileQuery(
            f"query {type(value).__name__}", "match", base("match", query=value), "query"
        )


def _wrap_in_bools(clause: dict[str, Any]) -> dict[str, Any]:
    return {"bool": {"must": {"bool": {"must": {"bool": {"must": clause}}}}}}


def fingerprint(value: object) -> str:
    """A canonical text for any JSON-like value, built without recursion.

    Dict keys are sorted by their own fingerprint, so two entries differing only in key order
    count as one; NaN and infinities get stable spellings.
    """
    out: list[str] = []
    # Work items are either values to render or literal tokens to emit.
    stack: list[tuple[bool, Any]] = [(False, value)]
    while stack:
        is_token, item = stack.pop()
        if is_token:
            out.append(item)
            continue
        if isinstance(item, dict):
            entries = sorted(item.items(), key=lambda kv: repr(kv[0]))
            stack.append((True, "}"))
            for key, sub in reversed(entries):
                stack.append((True, ","))
                stack.append((False, sub))
                stack.append((True, f"{type(key).__name__}:{key!r}="))
            stack.append((True, "{"))
        elif isinstance(item, list):
            stack.append((True, "]"))
            for sub in reversed(item):
                stack.append((True, ","))
                stack.append((False, sub))
            stack.append((True, "["))
        elif isinstance(item, int) and not isinstance(item, bool) and abs(item) > 10**30:
            out.append(f"int:huge:{item.bit_length()}:{item % 1_000_003}")
        else:
            out.append(f"{type(item).__name__}:{item!r}")
    return "".join(out)


def entry_key(entry: HostileQuery) -> str:
    """What makes two corpus entries the same query."""
    profile = sorted(entry.profile_indices) if entry.profile_indices is not None else None
    return f"{fingerprint(entry.query_type)}|{profile!r}|{fingerprint(entry.params)}"


def build_corpus() -> list[HostileQuery]:
    """The corpus, in a stable order, with duplicate queries dropped."""
    seen: set[str] = set()
    corpus: list[HostileQuery] = []
    for entry in _generate():
        key = entry_key(entry)
        if key not in seen:
            seen.add(key)
            corpus.append(entry)
    return corpus
