"""Property tests for the query policy (SPEC §6, §13 "Bad input").

1. Arbitrary JSON (and arbitrary query types) either validates or raises QueryPolicyViolation.
2. Queries built only from allowed clauses, within the caps, always validate.
3. Reordering the keys of a valid query changes neither its hash nor its template.
4. A deterministic corpus of ≥ 1,000 distinct hostile queries is refused, entry by entry.
"""

from __future__ import annotations

import copy
import math
import random
from collections.abc import Callable
from typing import Any

import pytest
from hostile_queries import ALLOWED_INDICES, VALID_CONTROLS, HostileQuery, build_corpus, entry_key
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from airgap.domain.model.canonical import canonical_json
from airgap.domain.model.errors import QueryPolicyViolation
from airgap.domain.model.queries import QueryLimits, QueryPolicy, QueryType, ValidatedQuery

POLICY = QueryPolicy(allowed_indices=ALLOWED_INDICES)
LIMITS = QueryLimits()
SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

# ---------------------------------------------------------------------------------------------
# Arbitrary JSON
# ---------------------------------------------------------------------------------------------

# Keys drawn partly from the policy's own vocabulary, so random objects reach deep validation
# paths instead of failing on the first unknown key.
VOCABULARY = [
    "index", "query", "aggs", "size", "from", "sort", "_source", "bool", "must", "should",
    "must_not", "filter", "match", "match_phrase", "multi_match", "term", "terms", "range",
    "wildcard", "prefix", "regexp", "fuzzy", "exists", "match_all", "ids", "values", "value",
    "field", "fields", "gte", "lt", "boost", "interval", "ranges", "order", "meta", "avg",
    "histogram", "date_histogram", "calendar_interval", "includes", "script", "nested",
    "minimum_should_match", "products", "title", "_id", "_score", "asc", "fuzziness",
]  # fmt: skip

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([math.nan, math.inf, -math.inf, 2**63, -(2**63) - 1])
    # Built lazily: repr() of a 5000-digit int raises, and hypothesis reprs sampled values.
    | st.builds(pow, st.just(10), st.just(5000))
    | st.text(max_size=12)
    | st.sampled_from(VOCABULARY)
)
json_keys = st.sampled_from(VOCABULARY) | st.text(max_size=8)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(json_keys, children, max_size=4)
    ),
    max_leaves=25,
)
query_types = st.sampled_from([t.value for t in QueryType]) | json_values


def validate_or_violation(query_type: object, params: object) -> ValidatedQuery | None:
    """Validate; a violation is a fine answer, any other exception fails the test."""
    try:
        return POLICY.validate(query_type, params)
    except QueryPolicyViolation as error:
        violation = error
    assert isinstance(violation.path, str)
    assert violation.reason
    # The message goes into logs and JSON error bodies, so it must be valid UTF-8 text.
    str(violation).encode("utf-8")
    return None


@SETTINGS
@given(query_type=query_types, params=json_values)
def test_arbitrary_json_is_validated_or_refused(query_type: object, params: object) -> None:
    validate_or_violation(query_type, params)


@SETTINGS
@given(
    query_type=query_types,
    query=json_values,
    aggs=json_values,
    extra=st.dictionaries(st.sampled_from(["size", "from", "sort", "_source"]), json_values),
)
def test_arbitrary_json_under_the_template_keys(
    query_type: object, query: object, aggs: object, extra: dict[str, object]
) -> None:
    validate_or_violation(query_type, {"index": "products", "query": query, "aggs": aggs, **extra})


# ---------------------------------------------------------------------------------------------
# Valid queries
# ---------------------------------------------------------------------------------------------

# Words the policy reserves even as field names (they name scripting features).
RESERVED = {
    "script", "script_score", "function_score", "percolate", "runtime_mappings",
    "script_fields", "search_template", "more_like_this", "query_string",
    "simple_query_string", "wrapper", "scripted_metric", "bucket_script", "bucket_selector",
}  # fmt: skip
fields = st.from_regex(r"[a-z][a-z0-9_]{0,10}(\.[a-z][a-z0-9_]{0,6})?", fullmatch=True).filter(
    lambda f: f not in RESERVED
) | st.sampled_from(["_id", "geo_location", "parent", "nested", "span_x", "template"])
agg_names = st.from_regex(r"[a-zA-Z][a-zA-Z0-9_-]{0,20}", fullmatch=True)
texts = st.text(max_size=30).filter(lambda s: s.isprintable())
numbers = st.integers(min_value=-(2**53), max_value=2**53) | st.floats(
    allow_nan=False, allow_infinity=False, width=64
)
scalars = texts | numbers | st.booleans()
boosts = st.integers(min_value=0, max_value=10) | st.floats(min_value=0, max_value=10)
fuzziness = st.sampled_from([0, 1, 2, "AUTO", "AUTO:3,6", "1"])
msm = st.sampled_from([1, 2, -1, "1", "75%", "-25%", "3<90%"])
safe_patterns = st.from_regex(r"[a-z0-9][a-z0-9*?]{0,10}", fullmatch=True)
safe_regexps = st.from_regex(r"[a-z0-9][a-z0-9.*+]{0,10}", fullmatch=True)


def field_clause(kind: str, specs: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(lambda f, s: {kind: {f: s}}, fields, specs)


def options(
    required: dict[str, st.SearchStrategy[Any]], optional: dict[str, st.SearchStrategy[Any]]
) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(required, optional=optional)


LEAVES: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "match": field_clause(
        "match",
        scalars
        | options(
            {"query": scalars},
            {
                "operator": st.sampled_from(["and", "or"]),
                "fuzziness": fuzziness,
                "minimum_should_match": msm,
                "boost": boosts,
                "lenient": st.booleans(),
                "zero_terms_query": st.sampled_from(["none", "all"]),
                "prefix_length": st.integers(0, 5),
                "max_expansions": st.integers(1, 100),
            },
        ),
    ),
    "match_phrase": field_clause(
        "match_phrase",
        texts | options({"query": texts}, {"slop": st.integers(0, 5), "boost": boosts}),
    ),
    "multi_match": st.builds(
        lambda body: {"multi_match": body},
        options(
            {"query": scalars},
            {
                "fields": st.lists(
                    st.builds(lambda f, b: f + b, fields, st.sampled_from(["", "^2", "^1.5"])),
                    min_size=1,
                    max_size=4,
                ),
                "type": st.sampled_from(["best_fields", "most_fields", "cross_fields"]),
                "operator": st.sampled_from(["and", "or"]),
                "tie_breaker": st.floats(0, 1),
                "boost": boosts,
            },
        ),
    ),
    "term": field_clause(
        "term",
        scalars | options({"value": scalars}, {"boost": boosts, "case_insensitive": st.booleans()}),
    ),
    "terms": st.builds(
        lambda f, values: {"terms": {f: values}}, fields, st.lists(scalars, max_size=10)
    ),
    "range": field_clause(
        "range",
        options(
            {},
            {
                "gte": numbers | texts,
                "lt": numbers,
                "gt": numbers,
                "lte": texts,
                "format": st.just("strict_date_optional_time"),
                "time_zone": st.sampled_from(["UTC", "+01:00", "Europe/Paris"]),
                "boost": boosts,
            },
        ),
    ),
    "wildcard": field_clause(
        "wildcard",
        safe_patterns | options({"value": safe_patterns}, {"boost": boosts}),
    ),
    "prefix": field_clause("prefix", texts | options({"value": texts}, {"boost": boosts})),
    "regexp": field_clause(
        "regexp",
        safe_regexps | options({"value": safe_regexps}, {"flags": st.just("ALL"), "boost": boosts}),
    ),
    "fuzzy": field_clause(
        "fuzzy",
        texts
        | options(
            {"value": texts},
            {
                "fuzziness": fuzziness,
                "prefix_length": st.integers(0, 3),
                "transpositions": st.booleans(),
            },
        ),
    ),
    "exists": st.builds(lambda f: {"exists": {"field": f}}, fields),
    "match_all": st.just({"match_all": {}})
    | st.builds(lambda b: {"match_all": {"boost": b}}, boosts),
    "ids": st.builds(lambda v: {"ids": {"values": v}}, st.lists(texts.filter(bool), max_size=5)),
}
any_leaf = st.one_of(list(LEAVES.values()))


def bool_of(children: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    occurrence = children | st.lists(children, max_size=3)
    return st.builds(
        lambda body: {"bool": body},
        st.fixed_dictionaries(
            {},
            optional={
                "must": occurrence,
                "should": occurrence,
                "must_not": occurrence,
                "filter": occurrence,
                "minimum_should_match": msm,
                "boost": boosts,
            },
        ),
    )


clauses = st.recursive(any_leaf, bool_of, max_leaves=12)
bool_clauses = bool_of(clauses)

metric_aggs = st.builds(
    lambda kind, f, missing: {kind: {"field": f, **missing}},
    st.sampled_from(["avg", "min", "max", "sum", "stats", "cardinality", "value_count"]),
    fields,
    st.fixed_dictionaries({}, optional={"missing": numbers}),
)
bucket_bodies = st.one_of(
    st.builds(
        lambda f, opts: {"terms": {"field": f, **opts}},
        fields,
        st.fixed_dictionaries(
            {},
            optional={
                "size": st.integers(1, LIMITS.max_size),
                "min_doc_count": st.integers(0, 5),
                "order": st.sampled_from([{"_count": "desc"}, {"_key": "asc"}]),
                "missing": texts,
            },
        ),
    ),
    st.builds(
        lambda f, ranges: {"range": {"field": f, "ranges": ranges}},
        fields,
        st.lists(
            st.fixed_dictionaries({"from": numbers}, optional={"to": numbers, "key": texts}),
            min_size=1,
            max_size=4,
        ),
    ),
    st.builds(
        lambda f, interval: {"histogram": {"field": f, "interval": interval}},
        fields,
        st.integers(1, 1000) | st.floats(min_value=0.001, max_value=1e6),
    ),
    st.builds(
        lambda f, interval: {"date_histogram": {"field": f, **interval}},
        fields,
        st.sampled_from(
            [{"calendar_interval": "1d"}, {"calendar_interval": "month"}, {"fixed_interval": "30m"}]
        ),
    ),
)


def with_sub_aggs(children: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(
        lambda body, subs: {**body, "aggs": subs},
        bucket_bodies,
        st.dictionaries(agg_names, children, min_size=1, max_size=3),
    )


single_aggs = st.recursive(metric_aggs | bucket_bodies, with_sub_aggs, max_leaves=6)
aggs_objects = st.dictionaries(agg_names, single_aggs, min_size=1, max_size=4)

sorts = st.one_of(
    fields,
    st.just("_score"),
    st.lists(
        st.one_of(
            fields,
            st.just("_score"),
            st.builds(lambda f, o: {f: o}, fields, st.sampled_from(["asc", "desc"])),
            st.builds(
                lambda f, o: {f: o},
                fields,
                st.fixed_dictionaries(
                    {},
                    optional={
                        "order": st.sampled_from(["asc", "desc"]),
                        "missing": st.sampled_from(["_last", "_first"]),
                        "mode": st.sampled_from(["min", "max", "avg"]),
                    },
                ),
            ),
        ),
        max_size=3,
    ),
)
sources = st.one_of(
    st.booleans(),
    fields,
    st.lists(fields, max_size=3),
    st.fixed_dictionaries(
        {}, optional={"includes": st.lists(fields, max_size=3), "excludes": fields}
    ),
)

ROOT_KINDS: dict[QueryType, list[str]] = {
    QueryType.MATCH: ["match", "match_phrase"],
    QueryType.TERM: ["term", "terms"],
    QueryType.RANGE: ["range"],
    QueryType.WILDCARD: ["wildcard", "prefix", "regexp"],
    QueryType.FUZZY: ["fuzzy"],
    QueryType.MULTI_MATCH: ["multi_match"],
}


def measure(params: dict[str, Any]) -> tuple[int, int, int, int]:
    """(bool depth, query clauses, aggregation depth, aggregations) of a generated query."""

    def clause(c: dict[str, Any], level: int) -> tuple[int, int]:
        ((kind, body),) = c.items()
        if kind != "bool":
            return level, 1
        depth, count = level + 1, 1
        for occur in ("must", "should", "must_not", "filter"):
            children = body.get(occur, [])
            for child in children if isinstance(children, list) else [children]:
                d, n = clause(child, level + 1)
                depth, count = max(depth, d), count + n
        return depth, count

    def aggs(a: dict[str, Any], level: int) -> tuple[int, int]:
        depth, count = level, 0
        for agg in a.values():
            count += 1
            if "aggs" in agg:
                d, n = aggs(agg["aggs"], level + 1)
                depth, count = max(depth, d), count + n
        return depth, count

    qd, qn = clause(params["query"], 0) if "query" in params else (0, 0)
    ad, an = aggs(params["aggs"], 1) if "aggs" in params else (0, 0)
    return qd, qn, ad, an


@st.composite
def valid_queries(draw: st.DrawFn) -> tuple[QueryType, dict[str, Any]]:
    query_type = draw(st.sampled_from(list(QueryType)))
    params: dict[str, Any] = {
        "index": draw(st.sampled_from(["products", "logs-2024.01", "logs-app"]))
    }
    if query_type is QueryType.BOOL:
        params["query"] = draw(bool_clauses)
    elif query_type is QueryType.AGGREGATION:
        if draw(st.booleans()):
            params["query"] = draw(clauses)
    else:
        params["query"] = draw(LEAVES[draw(st.sampled_from(ROOT_KINDS[query_type]))])
    if query_type is QueryType.AGGREGATION or draw(st.booleans()):
        params["aggs"] = draw(aggs_objects)
    if draw(st.booleans()):
        params["size"] = draw(st.integers(0, LIMITS.max_size))
    if draw(st.booleans()):
        size = params.get("size", 10)
        params["from"] = draw(st.integers(0, LIMITS.max_from_plus_size - size))
    if draw(st.booleans()):
        params["sort"] = draw(sorts)
    if draw(st.booleans()):
        params["_source"] = draw(sources)
    qd, qn, ad, an = measure(params)
    assume(qd <= LIMITS.max_depth and ad <= LIMITS.max_depth)
    assume(an <= LIMITS.max_aggregations and qn + an <= LIMITS.max_clauses)
    return query_type, params


@SETTINGS
@given(valid_queries())
def test_valid_queries_validate(query: tuple[QueryType, dict[str, Any]]) -> None:
    query_type, params = query
    validated = POLICY.validate(query_type, params)
    assert validated.query_type is query_type
    assert validated.index == params["index"]
    assert validated.params["size"] == params.get("size", 10)
    assert validated.params["from"] == params.get("from", 0)
    assert validated.params["query"] == params.get("query", {"match_all": {}})
    for key in ("aggs", "sort", "_source"):
        assert (key in validated.params) == (key in params)
    assert validated.has_aggregations == bool(params.get("aggs"))
    # Normalised params are a fixed point, and hashable as canonical JSON.
    assert POLICY.validate(query_type, dict(validated.params)) == validated
    assert len(validated.query_hash()) == 64


# ---------------------------------------------------------------------------------------------
# Key order does not matter
# ---------------------------------------------------------------------------------------------


def reorder(value: Any, rng: random.Random) -> Any:
    """A copy of ``value`` with every object's keys shuffled."""
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {k: reorder(v, rng) for k, v in items}
    if isinstance(value, list):
        return [reorder(v, rng) for v in value]
    return value


@SETTINGS
@given(valid_queries(), st.randoms(use_true_random=False))
def test_reordered_keys_give_the_same_hash_and_template(
    query: tuple[QueryType, dict[str, Any]], rng: random.Random
) -> None:
    query_type, params = query
    first = POLICY.validate(query_type, params)
    second = POLICY.validate(query_type, reorder(params, rng))
    assert second.query_hash() == first.query_hash()
    assert canonical_json(second.template()) == canonical_json(first.template())
    assert canonical_json(second.search_body()) == canonical_json(first.search_body())


# ---------------------------------------------------------------------------------------------
# Mutations of valid queries
# ---------------------------------------------------------------------------------------------


def setter(container: Any, key: Any) -> Callable[[Any], None]:
    def put(new: Any) -> None:
        container[key] = new

    return put


def containers(value: Any) -> list[Callable[[Any], None]]:
    """Setters that each put a new value somewhere inside ``value`` (objects and arrays)."""
    setters: list[Callable[[Any], None]] = []
    if isinstance(value, dict):
        for key in list(value):
            setters.append(setter(value, key))
            setters.extend(containers(value[key]))
    elif isinstance(value, list):
        for i in range(len(value)):
            setters.append(setter(value, i))
            setters.extend(containers(value[i]))
    return setters


def objects_in(value: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(value, dict):
        found.append(value)
        for item in value.values():
            found.extend(objects_in(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(objects_in(item))
    return found


@SETTINGS
@given(valid_queries(), json_values, st.data())
def test_any_part_replaced_by_arbitrary_json_is_validated_or_refused(
    query: tuple[QueryType, dict[str, Any]], replacement: Any, data: st.DataObject
) -> None:
    query_type, params = query[0], copy.deepcopy(query[1])  # strategies may share objects
    setters = containers(params)
    data.draw(st.sampled_from(setters))(replacement)
    validate_or_violation(query_type, params)


@SETTINGS
@given(
    valid_queries(),
    st.sampled_from(["script", "script_score", "runtime_mappings", "search_template"]),
    st.data(),
)
def test_a_forbidden_key_added_to_any_object_is_refused(
    query: tuple[QueryType, dict[str, Any]], key: str, data: st.DataObject
) -> None:
    query_type, params = query[0], copy.deepcopy(query[1])  # strategies may share objects
    target = data.draw(st.sampled_from(objects_in(params)))
    target[key] = {"source": "Runtime.getRuntime().exec('id')"}
    with pytest.raises(QueryPolicyViolation) as info:
        POLICY.validate(query_type, params)
    assert info.value.path.endswith(key) or key in info.value.reason


# ---------------------------------------------------------------------------------------------
# The hostile corpus
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus() -> list[HostileQuery]:
    return build_corpus()


def test_corpus_has_at_least_1000_distinct_entries(corpus: list[HostileQuery]) -> None:
    keys = [entry_key(entry) for entry in corpus]
    assert len(set(keys)) == len(keys)
    assert len(keys) >= 1000
    assert len({entry.label for entry in corpus}) >= 1000


def test_corpus_is_deterministic(corpus: list[HostileQuery]) -> None:
    assert [entry_key(e) for e in build_corpus()] == [entry_key(e) for e in corpus]


@pytest.mark.parametrize(("query_type", "params"), VALID_CONTROLS)
def test_corpus_bases_are_valid(query_type: str, params: dict[str, Any]) -> None:
    assert POLICY.validate(query_type, params)


def test_every_hostile_query_is_refused(corpus: list[HostileQuery]) -> None:
    problems: list[str] = []
    for entry in corpus:
        try:
            POLICY.validate(entry.query_type, entry.params, profile_indices=entry.profile_indices)
        except QueryPolicyViolation as error:
            if entry.expect_path is not None and not error.path.startswith(entry.expect_path):
                problems.append(
                    f"{entry.label}: refused at {error.path!r}, expected {entry.expect_path!r}"
                )
        except Exception as error:  # any other exception is itself the finding
            problems.append(f"{entry.label}: raised {type(error).__name__}: {error}")
        else:
            problems.append(f"{entry.label}: accepted")
    assert not problems, "\n".join(problems[:50])
