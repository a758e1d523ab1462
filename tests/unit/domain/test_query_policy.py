"""Unit tests for the query policy (SPEC §6): every rule, the path it reports, normalisation."""

from __future__ import annotations

import copy
import math
from typing import Any

import attrs
import pytest

from airgap.domain.model.canonical import canonical_json, canonical_sha256
from airgap.domain.model.errors import QueryPolicyViolation
from airgap.domain.model.queries import (
    QueryLimits,
    QueryPolicy,
    QueryType,
    ValidatedQuery,
)

POLICY = QueryPolicy(allowed_indices=frozenset({"products", "logs-*"}))


def ok(query_type: str, params: dict[str, Any], **kwargs: Any) -> ValidatedQuery:
    return POLICY.validate(query_type, params, **kwargs)


def refused(
    query_type: object, params: object, policy: QueryPolicy = POLICY, **kwargs: Any
) -> QueryPolicyViolation:
    with pytest.raises(QueryPolicyViolation) as info:
        policy.validate(query_type, params, **kwargs)
    return info.value


def q(clause: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """Query params on the allowed ``products`` index with ``clause`` at the root."""
    return {"index": "products", "query": clause, **extra}


def in_bool(clause: Any) -> dict[str, Any]:
    return q({"bool": {"must": [{"match_all": {}}, {"term": {"a": 1}}, clause]}})


# ---------------------------------------------------------------------------------------------
# Public API and normalisation
# ---------------------------------------------------------------------------------------------


class TestApi:
    def test_query_type_values(self) -> None:
        assert [t.value for t in QueryType] == [
            "match",
            "term",
            "range",
            "bool",
            "wildcard",
            "fuzzy",
            "aggregation",
            "multi_match",
        ]

    def test_limits_defaults(self) -> None:
        assert QueryLimits() == QueryLimits(
            max_size=1000,
            max_from_plus_size=10_000,
            max_depth=8,
            max_clauses=64,
            max_terms=1024,
            max_aggregations=32,
            allow_leading_wildcard=False,
        )

    @pytest.mark.parametrize(
        "kwargs", [{"max_size": 0}, {"max_depth": 65}, {"max_terms": True}, {"max_clauses": -1}]
    )
    def test_limits_refuse_nonsense(self, kwargs: dict[str, Any]) -> None:
        with pytest.raises(ValueError, match="must be an integer"):
            QueryLimits(**kwargs)

    def test_policy_accepts_any_iterable_of_names(self) -> None:
        policy = QueryPolicy(allowed_indices=["products"])
        assert policy.allowed_indices == frozenset({"products"})

    def test_policy_refuses_a_bare_string_whitelist(self) -> None:
        with pytest.raises(TypeError):
            QueryPolicy(allowed_indices="products")

    def test_frozen(self) -> None:
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            POLICY.limits = QueryLimits()  # type: ignore[misc]


class TestNormalisation:
    def test_defaults_filled_in(self) -> None:
        validated = ok("aggregation", {"index": "products", "aggs": {"n": {"avg": {"field": "p"}}}})
        assert validated.query_type is QueryType.AGGREGATION
        assert validated.params == {
            "index": "products",
            "query": {"match_all": {}},
            "aggs": {"n": {"avg": {"field": "p"}}},
            "size": 10,
            "from": 0,
        }
        assert validated.index == "products"
        assert validated.has_aggregations

    def test_optional_keys_absent_unless_given(self) -> None:
        validated = ok("match", q({"match": {"title": "shoe"}}))
        assert set(validated.params) == {"index", "query", "size", "from"}
        assert not validated.has_aggregations

    def test_all_template_keys_kept(self) -> None:
        params = q(
            {"match": {"title": "shoe"}},
            aggs={"b": {"terms": {"field": "brand"}}},
            size=5,
            sort=["_score", {"price": "asc"}],
            _source=["title"],
            **{"from": 20},
        )
        validated = ok("match", params)
        assert validated.params == params
        assert validated.template() == params
        body = validated.search_body()
        assert "index" not in body
        assert body == {k: v for k, v in params.items() if k != "index"}

    def test_query_type_enum_accepted(self) -> None:
        assert ok(QueryType.TERM, q({"term": {"a": 1}})).query_type is QueryType.TERM

    def test_params_are_deep_copies(self) -> None:
        params = q({"bool": {"must": [{"terms": {"tag": ["a", "b"]}}]}}, sort=[{"p": "asc"}])
        validated = ok("bool", params)
        original = copy.deepcopy(dict(validated.params))
        params["query"]["bool"]["must"][0]["terms"]["tag"].append("c")
        params["sort"][0]["p"] = "desc"
        assert validated.params == original
        # template() and search_body() hand out fresh copies too.
        validated.template()["query"]["bool"]["must"].clear()
        validated.search_body()["query"]["bool"]["must"].clear()
        assert validated.params == original

    def test_query_hash_is_canonical(self) -> None:
        validated = ok("match", q({"match": {"title": "shoe"}}))
        assert validated.query_hash() == canonical_sha256(
            {"query_type": "match", "params": dict(validated.params)}
        )
        reordered = ok(
            "match", {"size": 10, "query": {"match": {"title": "shoe"}}, "index": "products"}
        )
        assert reordered.query_hash() == validated.query_hash()
        assert canonical_json(reordered.template()) == canonical_json(validated.template())

    def test_query_hash_depends_on_type_and_params(self) -> None:
        a = ok("bool", q({"bool": {"must": {"match": {"t": "x"}}}}))
        b = ok(
            "aggregation",
            q({"bool": {"must": {"match": {"t": "x"}}}}, aggs={"n": {"max": {"field": "p"}}}),
        )
        c = ok("bool", q({"bool": {"must": {"match": {"t": "y"}}}}))
        assert len({a.query_hash(), b.query_hash(), c.query_hash()}) == 3

    def test_int_and_float_stay_distinct(self) -> None:
        one = ok("term", q({"term": {"n": 1}}))
        one_float = ok("term", q({"term": {"n": 1.0}}))
        assert one.query_hash() != one_float.query_hash()

    def test_validated_query_compares_by_value_and_is_unhashable(self) -> None:
        assert ok("match", q({"match": {"t": "x"}})) == ok("match", q({"match": {"t": "x"}}))
        with pytest.raises(TypeError):
            hash(ok("match", q({"match": {"t": "x"}})))

    def test_validation_is_idempotent(self) -> None:
        params = q(
            {"bool": {"filter": [{"range": {"p": {"gte": 1}}}], "minimum_should_match": "75%"}},
            aggs={"h": {"histogram": {"field": "p", "interval": 5}}},
        )
        first = ok("bool", params)
        second = ok("bool", dict(first.params))
        assert first == second


# ---------------------------------------------------------------------------------------------
# query_type and query_params shape
# ---------------------------------------------------------------------------------------------


class TestQueryType:
    @pytest.mark.parametrize("bad", ["MATCH", "sql", "", None, 1, ["match"], {"t": 1}, b"match"])
    def test_unknown_query_type(self, bad: object) -> None:
        error = refused(bad, q({"match": {"t": "x"}}))
        assert error.path == "query_type"
        assert "query_type must be one of" in error.reason

    @pytest.mark.parametrize(
        ("query_type", "root"),
        [
            ("match", {"match": {"t": "x"}}),
            ("match", {"match_phrase": {"t": "x y"}}),
            ("term", {"term": {"t": "x"}}),
            ("term", {"terms": {"t": ["x"]}}),
            ("range", {"range": {"p": {"gt": 1}}}),
            ("bool", {"bool": {}}),
            ("wildcard", {"wildcard": {"t": "x*"}}),
            ("wildcard", {"prefix": {"t": "x"}}),
            ("wildcard", {"regexp": {"t": "x.*"}}),
            ("fuzzy", {"fuzzy": {"t": "x"}}),
            ("multi_match", {"multi_match": {"query": "x", "fields": ["a", "b^2"]}}),
        ],
    )
    def test_root_clause_matches_type(self, query_type: str, root: dict[str, Any]) -> None:
        assert ok(query_type, q(root)).params["query"] == root

    @pytest.mark.parametrize(
        ("query_type", "root"),
        [
            ("match", {"term": {"t": "x"}}),
            ("term", {"match": {"t": "x"}}),
            ("range", {"bool": {"must": {"range": {"p": {"gt": 1}}}}}),
            ("bool", {"match_all": {}}),
            ("wildcard", {"fuzzy": {"t": "x"}}),
            ("fuzzy", {"wildcard": {"t": "x*"}}),
            ("multi_match", {"match": {"t": "x"}}),
        ],
    )
    def test_root_clause_mismatch(self, query_type: str, root: dict[str, Any]) -> None:
        error = refused(query_type, q(root))
        assert error.path == "query"
        assert error.reason == f"query_type '{query_type}' needs a {query_type} clause at the root"

    def test_missing_query_for_a_clause_type(self) -> None:
        error = refused("match", {"index": "products"})
        assert error.path == "query"

    def test_aggregation_allows_any_root_query(self) -> None:
        validated = ok("aggregation", q({"term": {"a": 1}}, aggs={"x": {"sum": {"field": "p"}}}))
        assert validated.params["query"] == {"term": {"a": 1}}

    @pytest.mark.parametrize("aggs", [None, {}])
    def test_aggregation_needs_aggs(self, aggs: Any) -> None:
        params: dict[str, Any] = {"index": "products"}
        if aggs is not None:
            params["aggs"] = aggs
        error = refused("aggregation", params)
        assert error.path == "aggs"

    def test_other_types_may_carry_aggs(self) -> None:
        assert ok(
            "match", q({"match": {"t": "x"}}, aggs={"a": {"max": {"field": "p"}}})
        ).has_aggregations


class TestParamsShape:
    @pytest.mark.parametrize("bad", [None, [], "index", 3, 2.5, True, [{"index": "products"}]])
    def test_params_must_be_an_object(self, bad: object) -> None:
        error = refused("match", bad)
        assert error.path == ""
        assert "query_params must be a JSON object" in error.reason

    @pytest.mark.parametrize(
        "key",
        [
            "highlight",
            "profile",
            "track_total_hits",
            "stored_fields",
            "post_filter",
            "suggest",
            "search_after",
            "docvalue_fields",
            "explain",
            "timeout",
            "knn",
            "min_score",
        ],
    )
    def test_keys_outside_template(self, key: str) -> None:
        error = refused("match", q({"match": {"t": "x"}}, **{key: True}))
        assert error.path == key
        assert "is not allowed" in error.reason
        assert "template" in error.reason

    @pytest.mark.parametrize("key", ["runtime_mappings", "script_fields", "script"])
    def test_forbidden_top_level_keys(self, key: str) -> None:
        error = refused("match", q({"match": {"t": "x"}}, **{key: {}}))
        assert error.path == key
        assert "forbidden" in error.reason

    def test_aggregations_alias_hints_at_aggs(self) -> None:
        error = refused("aggregation", {"index": "products", "aggregations": {}})
        assert error.path == "aggregations"
        assert "use 'aggs'" in error.reason

    def test_non_string_key(self) -> None:
        error = refused("match", {"index": "products", 1: 2})
        assert error.path == ""
        assert "keys must be strings" in error.reason


# ---------------------------------------------------------------------------------------------
# index
# ---------------------------------------------------------------------------------------------


class TestIndex:
    @pytest.mark.parametrize("index", ["products", "logs-2024.01", "logs-a_b"])
    def test_allowed(self, index: str) -> None:
        assert ok("match", {"index": index, "query": {"match": {"t": "x"}}}).index == index

    def test_required(self) -> None:
        error = refused("match", {"query": {"match": {"t": "x"}}})
        assert error.path == "index"
        assert "required" in error.reason

    @pytest.mark.parametrize(
        "index",
        [
            "",
            "*",
            "logs-*",
            "prod?cts",
            "products,logs-1",
            "-products",
            "_all",
            "_products",
            ".kibana",
            ".",
            "..",
            "products ",
            " products",
            "pro ducts",
            "Products",
            "remote:products",
            "<logs-{now/d}>",
            "products/x",
            "a\\b",
            "a|b",
            "a#b",
            'a"b',
            "a" * 256,
            "a\x00b",
            7,
            None,
            ["products"],
            {"name": "products"},
            True,
        ],
    )
    def test_not_a_concrete_name(self, index: object) -> None:
        error = refused("match", {"index": index, "query": {"match": {"t": "x"}}})
        assert error.path == "index"

    @pytest.mark.parametrize("index", ["orders", "logs", "logsx-1", "productsx"])
    def test_not_whitelisted(self, index: str) -> None:
        error = refused("match", {"index": index, "query": {"match": {"t": "x"}}})
        assert error.path == "index"
        assert "not in the allowed indices" in error.reason

    def test_profile_narrows_whitelist(self) -> None:
        params = {"index": "logs-1", "query": {"match": {"t": "x"}}}
        assert ok("match", params, profile_indices=frozenset({"logs-*"})).index == "logs-1"
        assert ok("match", params, profile_indices=frozenset({"logs-1"})).index == "logs-1"
        error = refused("match", params, profile_indices=frozenset({"products"}))
        assert error.path == "index"
        assert "profile" in error.reason

    def test_profile_cannot_widen_whitelist(self) -> None:
        error = refused(
            "match",
            {"index": "orders", "query": {"match": {"t": "x"}}},
            profile_indices=frozenset({"orders"}),
        )
        assert error.path == "index"
        assert "not in the allowed indices" in error.reason

    def test_empty_whitelist_allows_nothing(self) -> None:
        error = refused("match", q({"match": {"t": "x"}}), policy=QueryPolicy(frozenset()))
        assert error.path == "index"


# ---------------------------------------------------------------------------------------------
# size / from
# ---------------------------------------------------------------------------------------------


class TestPaging:
    @pytest.mark.parametrize(("size", "start"), [(0, 0), (1000, 0), (1000, 9000), (10, 9990)])
    def test_within_limits(self, size: int, start: int) -> None:
        validated = ok("match", q({"match": {"t": "x"}}, size=size, **{"from": start}))
        assert (validated.params["size"], validated.params["from"]) == (size, start)

    @pytest.mark.parametrize(
        "size",
        [
            -1,
            1001,
            10**6,
            pytest.param(10**5000, id="huge"),
            1.0,
            10.5,
            "10",
            True,
            False,
            None,
            math.nan,
            [10],
        ],
    )
    def test_bad_size(self, size: object) -> None:
        assert refused("match", q({"match": {"t": "x"}}, size=size)).path == "size"

    @pytest.mark.parametrize("start", [-1, 10_001, 2.0, "0", True, None, math.inf])
    def test_bad_from(self, start: object) -> None:
        assert refused("match", q({"match": {"t": "x"}}, **{"from": start})).path == "from"

    def test_from_plus_size_capped(self) -> None:
        error = refused("match", q({"match": {"t": "x"}}, size=1000, **{"from": 9001}))
        assert error.path == "from"
        assert "from + size" in error.reason

    def test_custom_limits(self) -> None:
        policy = QueryPolicy(
            frozenset({"products"}), QueryLimits(max_size=5, max_from_plus_size=20)
        )
        assert refused("match", q({"match": {"t": "x"}}, size=6), policy=policy).path == "size"
        assert (
            refused("match", q({"match": {"t": "x"}}, size=5, **{"from": 16}), policy=policy).path
            == "from"
        )


# ---------------------------------------------------------------------------------------------
# Leaf clauses
# ---------------------------------------------------------------------------------------------

VALID_LEAVES: list[dict[str, Any]] = [
    {"match": {"title": "shoe"}},
    {"match": {"n": 3}},
    {"match": {"flag": True}},
    {
        "match": {
            "title": {
                "query": "red shoe",
                "operator": "and",
                "fuzziness": "AUTO",
                "minimum_should_match": "75%",
                "boost": 2,
                "lenient": True,
                "zero_terms_query": "all",
                "prefix_length": 1,
                "max_expansions": 50,
            }
        }
    },
    {"match": {"title": {"query": "x", "fuzziness": 2, "minimum_should_match": 1}}},
    {
        "match": {
            "title": {"query": "x", "fuzziness": "AUTO:3,6", "minimum_should_match": "2<-25% 9<-3"}
        }
    },
    {"match_phrase": {"title": "red shoe"}},
    {"match_phrase": {"title": {"query": "red shoe", "slop": 2, "boost": 1.5}}},
    {"multi_match": {"query": "x"}},
    {
        "multi_match": {
            "query": "x",
            "fields": ["title^3", "body", "name.*"],
            "type": "cross_fields",
            "operator": "or",
            "minimum_should_match": "2",
            "fuzziness": 1,
            "boost": 1,
            "tie_breaker": 0.3,
        }
    },
    {"term": {"brand": "acme"}},
    {"term": {"_id": "abc"}},
    {"term": {"brand": {"value": "acme", "boost": 1.0, "case_insensitive": True}}},
    {"terms": {"brand": ["acme", "globex", 3, 1.5, True]}},
    {"terms": {"brand": [], "boost": 2}},
    {"range": {"price": {"gte": 10, "lt": 20.5, "boost": 2}}},
    {
        "range": {
            "when": {
                "gt": "now-1d/d",
                "lte": "now",
                "format": "strict_date_optional_time",
                "time_zone": "+01:00",
            }
        }
    },
    {"range": {"when": {"gte": "2020-01-01", "time_zone": "Europe/Paris"}}},
    {"wildcard": {"name": "sh*e?"}},
    {
        "wildcard": {
            "name": {
                "value": "sh*",
                "boost": 1,
                "case_insensitive": False,
                "rewrite": "constant_score",
            }
        }
    },
    {"prefix": {"name": "sho"}},
    {"prefix": {"name": {"value": "*literal", "rewrite": "top_terms_10"}}},
    {"regexp": {"name": "sh.*e"}},
    {"regexp": {"name": {"value": "s[a-z]+", "flags": "ALL", "max_determinized_states": 1000}}},
    {"regexp": {"name": {"value": "s.*", "flags": "INTERSECTION|COMPLEMENT|EMPTY"}}},
    {"fuzzy": {"name": "shoe"}},
    {
        "fuzzy": {
            "name": {
                "value": "shoe",
                "fuzziness": "AUTO",
                "prefix_length": 0,
                "max_expansions": 10,
                "transpositions": True,
                "boost": 1,
            }
        }
    },
    {"exists": {"field": "brand"}},
    {"exists": {"field": "tags.*", "boost": 3}},
    {"match_all": {}},
    {"match_all": {"boost": 1.2}},
    {"ids": {"values": ["1", "2"]}},
    {"ids": {"values": [], "boost": 1}},
]


class TestLeafClauses:
    @pytest.mark.parametrize("leaf", VALID_LEAVES)
    def test_valid_leaves_round_trip(self, leaf: dict[str, Any]) -> None:
        assert ok("bool", in_bool(leaf)).params["query"]["bool"]["must"][2] == leaf

    @pytest.mark.parametrize(
        ("leaf", "path", "fragment"),
        [
            ({"match": {}}, "query.match", "exactly one field"),
            ({"match": {"a": "x", "b": "y"}}, "query.match", "exactly one field"),
            ({"match": {"a": None}}, "query.match.a", "expected a string, number or boolean"),
            ({"match": {"a": ["x"]}}, "query.match.a", "expected"),
            ({"match": {"a": {"operator": "and"}}}, "query.match.a.query", "required"),
            (
                {"match": {"a": {"query": "x", "operator": "xor"}}},
                "query.match.a.operator",
                "must be one of",
            ),
            (
                {"match": {"a": {"query": "x", "analyzer": "std"}}},
                "query.match.a.analyzer",
                "not allowed",
            ),
            (
                {"match": {"a": {"query": "x", "fuzziness": 3}}},
                "query.match.a.fuzziness",
                "between",
            ),
            (
                {"match": {"a": {"query": "x", "fuzziness": "AUTO:x"}}},
                "query.match.a.fuzziness",
                "fuzziness",
            ),
            (
                {"match": {"a": {"query": "x", "minimum_should_match": "lots"}}},
                "query.match.a.minimum_should_match",
                "minimum_should_match",
            ),
            ({"match": {"a": {"query": "x", "boost": -1}}}, "query.match.a.boost", "at least 0"),
            (
                {"match": {"a": {"query": "x", "zero_terms_query": "some"}}},
                "query.match.a.zero_terms_query",
                "must be one of",
            ),
            (
                {"match": {"a": {"query": "x", "lenient": "yes"}}},
                "query.match.a.lenient",
                "true or false",
            ),
            (
                {"match_phrase": {"a": {"query": "x", "slop": -1}}},
                "query.match_phrase.a.slop",
                "between",
            ),
            (
                {"match_phrase": {"a": {"query": "x", "operator": "and"}}},
                "query.match_phrase.a.operator",
                "not allowed",
            ),
            ({"multi_match": {"fields": ["a"]}}, "query.multi_match.query", "required"),
            ({"multi_match": {"query": "x", "fields": []}}, "query.multi_match.fields", "empty"),
            ({"multi_match": {"query": "x", "fields": "a"}}, "query.multi_match.fields", "array"),
            (
                {"multi_match": {"query": "x", "fields": ["a", "_secret"]}},
                "query.multi_match.fields[1]",
                "metadata",
            ),
            (
                {"multi_match": {"query": "x", "type": "bool_prefix"}},
                "query.multi_match.type",
                "must be one of",
            ),
            (
                {"multi_match": {"query": "x", "tie_breaker": 2}},
                "query.multi_match.tie_breaker",
                "between 0 and 1",
            ),
            ({"multi_match": {"query": "x", "slop": 1}}, "query.multi_match.slop", "not allowed"),
            ({"term": {"a": {"boost": 1}}}, "query.term.a.value", "required"),
            (
                {"term": {"a": {"value": "x", "operator": "and"}}},
                "query.term.a.operator",
                "not allowed",
            ),
            ({"term": {"a": [1]}}, "query.term.a", "expected"),
            (
                {"terms": {"a": {"index": "users", "id": "1", "path": "f"}}},
                "query.terms.a",
                "terms lookup",
            ),
            ({"terms": {"a": "x"}}, "query.terms.a", "array"),
            ({"terms": {"a": [1, None]}}, "query.terms.a[1]", "expected"),
            ({"terms": {"a": [1, [2]]}}, "query.terms.a[1]", "expected"),
            ({"terms": {"a": [1], "b": [2]}}, "query.terms", "exactly one field"),
            ({"terms": {"boost": 1}}, "query.terms", "exactly one field"),
            ({"range": {"p": 5}}, "query.range.p", "expected an object"),
            ({"range": {"p": {"gte": True}}}, "query.range.p.gte", "boolean"),
            ({"range": {"p": {"gte": None}}}, "query.range.p.gte", "expected"),
            ({"range": {"p": {"relation": "within"}}}, "query.range.p.relation", "not allowed"),
            (
                {"range": {"p": {"gte": 1, "time_zone": "Europe Paris"}}},
                "query.range.p.time_zone",
                "time zone",
            ),
            ({"wildcard": {"a": 5}}, "query.wildcard.a", "expected a string"),
            ({"wildcard": {"a": {"wildcard": "x*"}}}, "query.wildcard.a.value", "required"),
            (
                {"wildcard": {"a": {"value": "x*", "rewrite": "anything"}}},
                "query.wildcard.a.rewrite",
                "rewrite",
            ),
            (
                {"wildcard": {"a": {"value": "x*", "flags": "ALL"}}},
                "query.wildcard.a.flags",
                "not allowed",
            ),
            ({"prefix": {"a": {"value": 3}}}, "query.prefix.a.value", "expected a string"),
            (
                {"regexp": {"a": {"value": "x", "flags": "ALL|BOGUS"}}},
                "query.regexp.a.flags",
                "flags",
            ),
            ({"fuzzy": {"a": True}}, "query.fuzzy.a", "boolean"),
            ({"fuzzy": {"a": {"fuzziness": 1}}}, "query.fuzzy.a.value", "required"),
            (
                {"fuzzy": {"a": {"value": "x", "max_expansions": 0}}},
                "query.fuzzy.a.max_expansions",
                "between",
            ),
            ({"exists": {}}, "query.exists.field", "required"),
            ({"exists": {"field": "a", "other": 1}}, "query.exists.other", "not allowed"),
            ({"exists": {"field": ""}}, "query.exists.field", "empty"),
            ({"match_all": {"x": 1}}, "query.match_all.x", "not allowed"),
            ({"match_all": []}, "query.match_all", "expected an object"),
            ({"ids": {}}, "query.ids.values", "required"),
            ({"ids": {"values": [1]}}, "query.ids.values[0]", "expected a string"),
            ({"ids": {"values": "1"}}, "query.ids.values", "array"),
            ({}, "query", "exactly one clause"),
            ({"match": {"a": "x"}, "term": {"b": 1}}, "query", "exactly one clause"),
            ("match", "query", "expected an object"),
            ({"match": "x"}, "query.match", "expected an object"),
        ],
    )
    def test_bad_leaves(self, leaf: Any, path: str, fragment: str) -> None:
        error = refused("aggregation", q(leaf, aggs={"a": {"max": {"field": "p"}}}))
        assert error.path == path
        assert fragment in error.reason

    @pytest.mark.parametrize(
        ("field", "fragment"),
        [
            ("", "empty"),
            ("_source", "metadata"),
            ("_index", "metadata"),
            ("a" * 256, "longer than 255"),
            (" a", "spaces"),
            ("a\nb", "control"),
            ("a*", "wildcards"),
            ("script", "forbidden"),
        ],
    )
    def test_bad_field_names(self, field: str, fragment: str) -> None:
        error = refused("term", q({"term": {field: 1}}))
        shown = field if field.isprintable() else repr(field)[1:-1]
        assert error.path == f"query.term.{shown[:77] + '...' if len(shown) > 80 else shown}"
        assert fragment in error.reason

    def test_long_field_name_is_shortened_in_path(self) -> None:
        error = refused("term", q({"term": {"a" * 300: 1}}))
        assert error.path == "query.term." + "a" * 77 + "..."

    def test_id_field_is_allowed(self) -> None:
        assert ok("term", q({"term": {"_id": "x"}})).params["query"] == {"term": {"_id": "x"}}

    def test_terms_limit(self) -> None:
        assert ok("term", q({"terms": {"a": list(range(1024))}}))
        error = refused("term", q({"terms": {"a": list(range(1025))}}))
        assert error.path == "query.terms.a"
        assert "at most 1024" in error.reason

    def test_ids_limit(self) -> None:
        error = refused("bool", in_bool({"ids": {"values": [str(i) for i in range(1025)]}}))
        assert error.path == "query.bool.must[2].ids.values"


class TestScalars:
    @pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
    @pytest.mark.parametrize(
        ("make", "path"),
        [
            (lambda v: {"match": {"a": v}}, "query.match.a"),
            (lambda v: {"term": {"a": {"value": v}}}, "query.term.a.value"),
            (lambda v: {"range": {"a": {"gte": v}}}, "query.range.a.gte"),
            (lambda v: {"match_all": {"boost": v}}, "query.match_all.boost"),
            (lambda v: {"terms": {"a": [1, v]}}, "query.terms.a[1]"),
        ],
    )
    def test_non_finite_numbers(self, bad: float, make: Any, path: str) -> None:
        error = refused("aggregation", q(make(bad), aggs={"a": {"max": {"field": "p"}}}))
        assert error.path == path
        assert "finite" in error.reason

    def test_long_strings(self) -> None:
        assert ok("match", q({"match": {"a": "x" * 10_000}}))
        error = refused("match", q({"match": {"a": "x" * 10_001}}))
        assert error.path == "query.match.a"
        assert "longer than 10000" in error.reason

    def test_unpaired_surrogate(self) -> None:
        error = refused("match", q({"match": {"a": "x\ud800"}}))
        assert error.path == "query.match.a"
        assert "surrogate" in error.reason

    def test_huge_integers(self) -> None:
        error = refused("term", q({"term": {"a": 10**5000}}))
        assert error.path == "query.term.a"
        assert ok("term", q({"term": {"a": 2**63}}))

    @pytest.mark.parametrize("bad", [b"x", (1, 2), {1, 2}, object(), 1j])
    def test_non_json_values(self, bad: object) -> None:
        error = refused("term", q({"term": {"a": bad}}))
        assert error.path == "query.term.a"
        assert "expected" in error.reason


# ---------------------------------------------------------------------------------------------
# Leading wildcards
# ---------------------------------------------------------------------------------------------


class TestLeadingWildcards:
    @pytest.mark.parametrize("pattern", ["*shoe", "?hoe", "*", "**"])
    def test_wildcard_refused(self, pattern: str) -> None:
        error = refused("wildcard", q({"wildcard": {"name": pattern}}))
        assert error.path == "query.wildcard.name"
        assert "may not start with" in error.reason
        error = refused("wildcard", q({"wildcard": {"name": {"value": pattern}}}))
        assert error.path == "query.wildcard.name.value"

    @pytest.mark.parametrize(
        "pattern",
        [".*shoe", ".+", ".?x", ".{2}x", "*x", "+x", "(.*)x", "((.+))", "@", "~(a)", "[^a]b"],
    )
    def test_regexp_refused(self, pattern: str) -> None:
        error = refused("wildcard", q({"regexp": {"name": pattern}}))
        assert error.path == "query.regexp.name"
        error = refused("wildcard", q({"regexp": {"name": {"value": pattern}}}))
        assert error.path == "query.regexp.name.value"

    @pytest.mark.parametrize("pattern", ["s.*", "[a-z]+", ".a", "(ab)*", "a?"])
    def test_regexp_without_leading_wildcard(self, pattern: str) -> None:
        assert ok("wildcard", q({"regexp": {"name": pattern}}))

    def test_prefix_is_literal(self) -> None:
        assert ok("wildcard", q({"prefix": {"name": "*"}}))

    def test_allowed_when_configured(self) -> None:
        policy = QueryPolicy(frozenset({"products"}), QueryLimits(allow_leading_wildcard=True))
        assert policy.validate("wildcard", q({"wildcard": {"name": "*shoe"}}))
        assert policy.validate("wildcard", q({"regexp": {"name": {"value": ".*shoe"}}}))

    def test_inside_bool(self) -> None:
        error = refused("bool", in_bool({"wildcard": {"name": {"value": "*x", "boost": 1}}}))
        assert error.path == "query.bool.must[2].wildcard.name.value"


# ---------------------------------------------------------------------------------------------
# Forbidden and unknown clauses
# ---------------------------------------------------------------------------------------------


FORBIDDEN_CLAUSES = [
    ("script", {"script": {"source": "1"}}),
    ("script_score", {"query": {"match_all": {}}, "script": {"source": "1"}}),
    ("function_score", {"query": {"match_all": {}}}),
    ("percolate", {"field": "q", "document": {}}),
    ("more_like_this", {"fields": ["a"], "like": "x"}),
    ("query_string", {"query": "a:b"}),
    ("simple_query_string", {"query": "a"}),
    ("geo_distance", {"distance": "1km", "loc": [0, 0]}),
    ("geo_shape", {}),
    ("geo_bounding_box", {}),
    ("span_term", {"a": "x"}),
    ("span_near", {"clauses": []}),
    ("search_template", {"id": "stored"}),
    ("template", {"id": "stored"}),
    ("wrapper", {"query": "eyJtYXRjaF9hbGwiOnt9fQ=="}),
    ("runtime_mappings", {}),
    ("script_fields", {}),
]
NOT_SUPPORTED_CLAUSES = ["nested", "has_child", "has_parent", "parent_id"]
UNKNOWN_CLAUSES = [
    "dis_max",
    "constant_score",
    "boosting",
    "intervals",
    "distance_feature",
    "rank_feature",
    "pinned",
    "terms_set",
    "combined_fields",
    "knn",
    "shape",
    "type",
    "match_bool_prefix",
    "match_phrase_prefix",
    "Match",
    "",
]


class TestForbiddenClauses:
    @pytest.mark.parametrize(("name", "body"), FORBIDDEN_CLAUSES)
    def test_forbidden_at_root(self, name: str, body: Any) -> None:
        error = refused("aggregation", q({name: body}, aggs={"a": {"max": {"field": "p"}}}))
        assert error.path == f"query.{name}"
        assert "forbidden" in error.reason

    @pytest.mark.parametrize(("name", "body"), FORBIDDEN_CLAUSES)
    @pytest.mark.parametrize("occur", ["must", "should", "must_not", "filter"])
    def test_forbidden_inside_bool(self, name: str, body: Any, occur: str) -> None:
        params = q({"bool": {occur: [{"match_all": {}}, {"bool": {"filter": {name: body}}}]}})
        error = refused("bool", params)
        assert error.path == f"query.bool.{occur}[1].bool.filter.{name}"
        assert "forbidden" in error.reason

    @pytest.mark.parametrize("name", NOT_SUPPORTED_CLAUSES)
    def test_not_supported(self, name: str) -> None:
        error = refused("bool", in_bool({name: {"path": "x", "query": {"match_all": {}}}}))
        assert error.path == f"query.bool.must[2].{name}"
        assert "not supported" in error.reason

    @pytest.mark.parametrize("name", UNKNOWN_CLAUSES)
    def test_unknown_clause(self, name: str) -> None:
        error = refused("bool", in_bool({name: {}}))
        assert error.path == f"query.bool.must[2].{name}" if name else "query.bool.must[2]"
        assert f"clause {name!r} is not allowed" in error.reason

    @pytest.mark.parametrize(
        ("clause", "path"),
        [
            (
                {"match": {"a": {"query": "x", "script": {"source": "1"}}}},
                "query.bool.must[2].match.a.script",
            ),
            ({"term": {"a": {"value": 1, "script": "x"}}}, "query.bool.must[2].term.a.script"),
            ({"range": {"a": {"gte": 1, "script": "x"}}}, "query.bool.must[2].range.a.script"),
            ({"bool": {"must": [], "script": {}}}, "query.bool.must[2].bool.script"),
            ({"match": {"a": "x", "script": "y"}}, "query.bool.must[2].match.script"),
            (
                {"multi_match": {"query": "x", "script": "y"}},
                "query.bool.must[2].multi_match.script",
            ),
            (
                {"exists": {"field": "a", "script_score": {}}},
                "query.bool.must[2].exists.script_score",
            ),
            (
                {"ids": {"values": [], "function_score": {}}},
                "query.bool.must[2].ids.function_score",
            ),
            ({"bool": {"filter": {"nested": {}}}}, "query.bool.must[2].bool.filter.nested"),
        ],
    )
    def test_forbidden_option_keys(self, clause: dict[str, Any], path: str) -> None:
        error = refused("bool", in_bool(clause))
        assert error.path == path
        assert "forbidden" in error.reason or "not supported" in error.reason


class TestBool:
    def test_all_occurrences(self) -> None:
        root = {
            "bool": {
                "must": {"match": {"t": "x"}},
                "should": [{"term": {"a": 1}}, {"term": {"a": 2}}],
                "must_not": [],
                "filter": [{"range": {"p": {"gte": 1}}}],
                "minimum_should_match": 1,
                "boost": 1.5,
            }
        }
        assert ok("bool", q(root)).params["query"] == root

    @pytest.mark.parametrize("msm", [1, -1, "2", "75%", "-25%", "3<90%", "2<-25% 9<-3"])
    def test_minimum_should_match(self, msm: object) -> None:
        assert ok("bool", q({"bool": {"should": [], "minimum_should_match": msm}}))

    @pytest.mark.parametrize("msm", ["x", "75 %", 1.5, True, None, [], "1%%"])
    def test_bad_minimum_should_match(self, msm: object) -> None:
        error = refused("bool", q({"bool": {"minimum_should_match": msm}}))
        assert error.path == "query.bool.minimum_should_match"

    @pytest.mark.parametrize(
        ("body", "path"),
        [
            ({"must": 1}, "query.bool.must"),
            ({"must": [1]}, "query.bool.must[0]"),
            ({"should": ["match"]}, "query.bool.should[0]"),
            ({"filter": [{}, {}]}, "query.bool.filter[0]"),
            ({"must_not": None}, "query.bool.must_not"),
            ({"minimum_should_match": 1, "_name": "x"}, "query.bool._name"),
            ({"boost": "2"}, "query.bool.boost"),
        ],
    )
    def test_bad_bool(self, body: dict[str, Any], path: str) -> None:
        assert refused("bool", q({"bool": body})).path == path

    def test_bool_must_be_object(self) -> None:
        assert refused("bool", q({"bool": []})).path == "query.bool"


# ---------------------------------------------------------------------------------------------
# Caps: depth, clause count, aggregation count
# ---------------------------------------------------------------------------------------------


def nested_bool(levels: int, leaf: dict[str, Any] | None = None) -> dict[str, Any]:
    clause: dict[str, Any] = leaf or {"match_all": {}}
    for _ in range(levels):
        clause = {"bool": {"must": [clause]}}
    return clause


class TestCaps:
    def test_depth_at_limit(self) -> None:
        assert ok("bool", q(nested_bool(8)))

    def test_depth_over_limit(self) -> None:
        error = refused("bool", q(nested_bool(9)))
        assert error.path == "query" + ".bool.must[0]" * 8 + ".bool"
        assert "nested deeper than 8" in error.reason

    def test_custom_depth(self) -> None:
        policy = QueryPolicy(frozenset({"products"}), QueryLimits(max_depth=2))
        assert policy.validate("bool", q(nested_bool(2)))
        assert (
            refused("bool", q(nested_bool(3)), policy=policy).path
            == "query.bool.must[0].bool.must[0].bool"
        )

    @pytest.mark.parametrize("levels", [100, 10_000])
    def test_hostile_depth_is_refused_without_recursion_error(self, levels: int) -> None:
        error = refused("bool", q(nested_bool(levels)))
        assert "nested deeper" in error.reason

    def test_raw_json_depth_elsewhere(self) -> None:
        deep: Any = 1
        for _ in range(10_000):
            deep = [deep]
        for params in (
            q({"match": {"a": deep}}),
            q({"terms": {"a": deep}}),
            {"index": "products", "size": deep},
            {"index": deep},
            q({"match_all": {}}, sort=deep),
            q({"match_all": {}}, _source=deep),
            q({"match_all": {}}, aggs={"a": {"max": {"field": "p"}, "meta": {"x": deep}}}),
        ):
            refused("aggregation", params)

    def test_cyclic_input(self) -> None:
        clause: dict[str, Any] = {}
        clause["bool"] = {"must": clause}
        assert "nested deeper" in refused("bool", q(clause)).reason
        params: dict[str, Any] = {"index": "products"}
        params["query"] = params
        refused("bool", params)

    def test_clause_count_at_limit(self) -> None:
        # 1 bool + 63 leaves = 64 clauses.
        assert ok("bool", q({"bool": {"should": [{"term": {"a": i}} for i in range(63)]}}))

    def test_clause_count_over_limit(self) -> None:
        error = refused("bool", q({"bool": {"should": [{"term": {"a": i}} for i in range(64)]}}))
        assert error.path == "query.bool.should[63]"
        assert "too many clauses" in error.reason

    def test_huge_clause_list_refused_up_front(self) -> None:
        error = refused("bool", q({"bool": {"should": [{"term": {"a": 1}}] * 100_000}}))
        assert error.path == "query.bool.should"

    def test_clauses_and_aggs_share_the_cap(self) -> None:
        policy = QueryPolicy(frozenset({"products"}), QueryLimits(max_clauses=3))
        params = q(
            {"match": {"a": "x"}}, aggs={"a": {"max": {"field": "p"}}, "b": {"min": {"field": "p"}}}
        )
        assert policy.validate("match", params)
        params["aggs"]["c"] = {"sum": {"field": "p"}}
        error = refused("match", params, policy=policy)
        assert error.path == "aggs.c"
        assert "too many clauses" in error.reason

    def test_aggregation_count(self) -> None:
        aggs = {f"a{i}": {"max": {"field": "p"}} for i in range(32)}
        assert ok("aggregation", {"index": "products", "aggs": aggs})
        aggs["one_more"] = {"max": {"field": "p"}}
        error = refused("aggregation", {"index": "products", "aggs": aggs})
        assert error.path == "aggs.one_more"
        assert "too many aggregations" in error.reason

    def test_aggregation_depth(self) -> None:
        def chain(levels: int) -> dict[str, Any]:
            agg: dict[str, Any] = {"terms": {"field": "f"}}
            for _ in range(levels - 1):
                agg = {"terms": {"field": "f"}, "aggs": {"x": agg}}
            return {"x": agg}

        assert ok("aggregation", {"index": "products", "aggs": chain(8)})
        error = refused("aggregation", {"index": "products", "aggs": chain(9)})
        assert error.path == "aggs.x" + ".aggs.x" * 7 + ".aggs"
        assert "nested deeper than 8" in error.reason


# ---------------------------------------------------------------------------------------------
# Aggregations
# ---------------------------------------------------------------------------------------------

VALID_AGGS: list[dict[str, Any]] = [
    {"terms": {"field": "brand"}},
    {
        "terms": {
            "field": "brand",
            "size": 1000,
            "order": {"_count": "desc"},
            "min_doc_count": 0,
            "missing": "none",
        }
    },
    {"terms": {"field": "brand", "order": [{"_key": "asc"}, {"avg_price": "desc"}]}},
    {
        "terms": {"field": "brand", "order": {"stats_price.max": "desc"}},
        "aggs": {"stats_price": {"stats": {"field": "p"}}},
    },
    {
        "range": {
            "field": "p",
            "ranges": [{"to": 10}, {"from": 10, "to": 20.5, "key": "mid"}, {"from": 20}],
        }
    },
    {
        "histogram": {
            "field": "p",
            "interval": 5,
            "min_doc_count": 1,
            "extended_bounds": {"min": 0, "max": 100},
        }
    },
    {"histogram": {"field": "p", "interval": 0.5}},
    {
        "date_histogram": {
            "field": "t",
            "calendar_interval": "1M",
            "format": "yyyy-MM",
            "time_zone": "UTC",
            "min_doc_count": 0,
        }
    },
    {
        "date_histogram": {
            "field": "t",
            "fixed_interval": "30m",
            "extended_bounds": {"min": "now-1d", "max": "now"},
        }
    },
    {"avg": {"field": "p"}},
    {"min": {"field": "p", "missing": 0}},
    {"max": {"field": "p"}},
    {"sum": {"field": "p"}},
    {"stats": {"field": "p"}},
    {"cardinality": {"field": "p"}},
    {"value_count": {"field": "p"}},
    {"avg": {"field": "p"}, "meta": {"label": "Average", "tags": ["a", 1, None, True]}},
    {
        "terms": {"field": "b"},
        "aggs": {"x": {"avg": {"field": "p"}}, "y": {"histogram": {"field": "p", "interval": 1}}},
    },
]


class TestAggregations:
    @pytest.mark.parametrize("agg", VALID_AGGS)
    def test_valid_aggs_round_trip(self, agg: dict[str, Any]) -> None:
        validated = ok("aggregation", {"index": "products", "aggs": {"my_agg": agg}})
        assert validated.params["aggs"] == {"my_agg": agg}

    @pytest.mark.parametrize(
        ("agg", "path", "fragment"),
        [
            ({"terms": {"field": "b", "script": "x"}}, "aggs.by_brand.terms.script", "forbidden"),
            ({"terms": {"script": {"source": "x"}}}, "aggs.by_brand.terms.script", "forbidden"),
            ({"avg": {"field": "p", "script": "x"}}, "aggs.by_brand.avg.script", "forbidden"),
            ({"scripted_metric": {}}, "aggs.by_brand.scripted_metric", "forbidden"),
            ({"bucket_script": {}}, "aggs.by_brand.bucket_script", "forbidden"),
            ({"nested": {"path": "x"}}, "aggs.by_brand.nested", "not supported"),
            ({"geo_distance": {}}, "aggs.by_brand.geo_distance", "forbidden"),
            (
                {"top_hits": {}},
                "aggs.by_brand.top_hits",
                "aggregation type 'top_hits' is not allowed",
            ),
            (
                {"significant_terms": {"field": "b"}},
                "aggs.by_brand.significant_terms",
                "not allowed",
            ),
            ({"filter": {"term": {"a": 1}}}, "aggs.by_brand.filter", "not allowed"),
            ({"script": "x"}, "aggs.by_brand.script", "forbidden"),
            ({}, "aggs.by_brand", "exactly one aggregation type, got 0"),
            (
                {"avg": {"field": "p"}, "max": {"field": "p"}},
                "aggs.by_brand",
                "exactly one aggregation type, got 2",
            ),
            ({"aggs": {}}, "aggs.by_brand", "got 0"),
            (
                {"avg": {"field": "p"}, "aggs": {"x": {"max": {"field": "p"}}}},
                "aggs.by_brand.aggs",
                "cannot have sub-aggregations",
            ),
            (
                {"terms": {"field": "b"}, "aggregations": {}},
                "aggs.by_brand.aggregations",
                "use 'aggs'",
            ),
            (
                {"terms": {"field": "b"}, "aggs": {"x": {"terms": {"field": "c", "script": "s"}}}},
                "aggs.by_brand.aggs.x.terms.script",
                "forbidden",
            ),
            (
                {"terms": {"field": "b"}, "meta": {"script": "x"}},
                "aggs.by_brand.meta.script",
                "forbidden",
            ),
            ({"terms": {"field": "b"}, "meta": "x"}, "aggs.by_brand.meta", "expected an object"),
            (
                {"terms": {"field": "b"}, "meta": {"a": {"b": {"c": {"d": {}}}}}},
                "aggs.by_brand.meta.a.b.c.d",
                "deeper",
            ),
            ({"terms": {"field": "b"}, "meta": {"x": math.nan}}, "aggs.by_brand.meta.x", "finite"),
            ({"terms": {}}, "aggs.by_brand.terms.field", "required"),
            ({"terms": {"field": "_source"}}, "aggs.by_brand.terms.field", "metadata"),
            ({"terms": {"field": "b", "size": 1001}}, "aggs.by_brand.terms.size", "between"),
            ({"terms": {"field": "b", "size": 0}}, "aggs.by_brand.terms.size", "between"),
            (
                {"terms": {"field": "b", "include": ".*"}},
                "aggs.by_brand.terms.include",
                "not allowed",
            ),
            (
                {"terms": {"field": "b", "order": {"_count": "up"}}},
                "aggs.by_brand.terms.order._count",
                "must be one of",
            ),
            (
                {"terms": {"field": "b", "order": {"_script": "asc"}}},
                "aggs.by_brand.terms.order._script",
                "forbidden",
            ),
            (
                {"terms": {"field": "b", "order": {"_index": "asc"}}},
                "aggs.by_brand.terms.order._index",
                "sub-aggregation",
            ),
            (
                {"terms": {"field": "b", "order": {"a": "asc", "b": "asc"}}},
                "aggs.by_brand.terms.order",
                "exactly one key",
            ),
            ({"terms": {"field": "b", "order": []}}, "aggs.by_brand.terms.order", "empty"),
            (
                {"terms": {"field": "b", "min_doc_count": -1}},
                "aggs.by_brand.terms.min_doc_count",
                "between",
            ),
            ({"terms": {"field": "b", "missing": []}}, "aggs.by_brand.terms.missing", "expected"),
            ({"range": {"field": "p"}}, "aggs.by_brand.range.ranges", "required"),
            ({"range": {"field": "p", "ranges": []}}, "aggs.by_brand.range.ranges", "empty"),
            (
                {"range": {"field": "p", "ranges": [{"key": "x"}]}},
                "aggs.by_brand.range.ranges[0]",
                "'from' or 'to'",
            ),
            (
                {"range": {"field": "p", "ranges": [{"from": 1}, {"from": "x"}]}},
                "aggs.by_brand.range.ranges[1].from",
                "expected a number",
            ),
            (
                {"range": {"field": "p", "ranges": [{"from": 1, "size": 2}]}},
                "aggs.by_brand.range.ranges[0].size",
                "not allowed",
            ),
            ({"histogram": {"field": "p"}}, "aggs.by_brand.histogram.interval", "required"),
            (
                {"histogram": {"field": "p", "interval": 0}},
                "aggs.by_brand.histogram.interval",
                "greater than 0",
            ),
            (
                {"histogram": {"field": "p", "interval": -1}},
                "aggs.by_brand.histogram.interval",
                "greater than 0",
            ),
            (
                {"histogram": {"field": "p", "interval": math.inf}},
                "aggs.by_brand.histogram.interval",
                "finite",
            ),
            (
                {"histogram": {"field": "p", "interval": 1, "extended_bounds": {"min": "a"}}},
                "aggs.by_brand.histogram.extended_bounds.min",
                "number",
            ),
            (
                {"histogram": {"field": "p", "interval": 1, "offset": 1}},
                "aggs.by_brand.histogram.offset",
                "not allowed",
            ),
            ({"date_histogram": {"field": "t"}}, "aggs.by_brand.date_histogram", "exactly one of"),
            (
                {
                    "date_histogram": {
                        "field": "t",
                        "calendar_interval": "1d",
                        "fixed_interval": "1d",
                    }
                },
                "aggs.by_brand.date_histogram",
                "exactly one of",
            ),
            (
                {"date_histogram": {"field": "t", "calendar_interval": "2d"}},
                "aggs.by_brand.date_histogram.calendar_interval",
                "must be one of",
            ),
            (
                {"date_histogram": {"field": "t", "fixed_interval": "1M"}},
                "aggs.by_brand.date_histogram.fixed_interval",
                "fixed interval",
            ),
            (
                {"date_histogram": {"field": "t", "interval": "1d"}},
                "aggs.by_brand.date_histogram.interval",
                "not allowed",
            ),
            ({"max": {"field": "p", "size": 1}}, "aggs.by_brand.max.size", "not allowed"),
            ({"avg": "p"}, "aggs.by_brand.avg", "expected an object"),
        ],
    )
    def test_bad_aggs(self, agg: Any, path: str, fragment: str) -> None:
        error = refused("aggregation", {"index": "products", "aggs": {"by_brand": agg}})
        assert error.path == path
        assert fragment in error.reason

    @pytest.mark.parametrize("name", ["", "a[0]", "a>b", "x]", "n" * 129, "a\nb"])
    def test_bad_agg_names(self, name: str) -> None:
        error = refused(
            "aggregation", {"index": "products", "aggs": {name: {"avg": {"field": "p"}}}}
        )
        assert error.path.startswith("aggs")

    def test_agg_name_may_not_be_non_string(self) -> None:
        error = refused("aggregation", {"index": "products", "aggs": {1: {"avg": {"field": "p"}}}})
        assert error.path == "aggs"

    def test_aggs_must_be_an_object(self) -> None:
        assert refused("aggregation", {"index": "products", "aggs": []}).path == "aggs"

    def test_agg_name_length_limit(self) -> None:
        assert ok(
            "aggregation", {"index": "products", "aggs": {"n" * 128: {"avg": {"field": "p"}}}}
        )


# ---------------------------------------------------------------------------------------------
# sort and _source
# ---------------------------------------------------------------------------------------------


class TestSort:
    @pytest.mark.parametrize(
        "sort",
        [
            "price",
            "_score",
            {"price": "desc"},
            ["_score", "_doc", "price", {"price": "asc"}],
            [
                {
                    "price": {
                        "order": "desc",
                        "missing": "_last",
                        "mode": "avg",
                        "unmapped_type": "long",
                    }
                }
            ],
            [{"_score": {"order": "asc"}}, {"when": {"missing": 0}}],
            [],
        ],
    )
    def test_valid(self, sort: object) -> None:
        assert ok("match", q({"match": {"t": "x"}}, sort=sort)).params["sort"] == sort

    @pytest.mark.parametrize(
        ("sort", "path", "fragment"),
        [
            ({"_script": {"type": "number", "script": "x"}}, "sort._script", "forbidden"),
            ([{"_script": {}}], "sort[0]._script", "forbidden"),
            (["price", {"_geo_distance": {}}], "sort[1]._geo_distance", "forbidden"),
            ("_script", "sort", "forbidden"),
            (["script"], "sort[0]", "forbidden"),
            ([{"price": "up"}], "sort[0].price", "must be one of"),
            (
                [{"price": {"order": "asc", "nested": {"path": "x"}}}],
                "sort[0].price.nested",
                "not supported",
            ),
            ([{"price": {"order": "asc", "script": "x"}}], "sort[0].price.script", "forbidden"),
            ([{"price": {"mode": "first"}}], "sort[0].price.mode", "must be one of"),
            (
                [{"price": {"unmapped_type": "Long Type"}}],
                "sort[0].price.unmapped_type",
                "field type",
            ),
            ([{"price": {"missing": []}}], "sort[0].price.missing", "expected"),
            ([{"a": "asc", "b": "asc"}], "sort[0]", "exactly one field"),
            ([{}], "sort[0]", "exactly one field"),
            ([1], "sort[0]", "expected an object"),
            ("_index", "sort", "metadata"),
            (None, "sort", "expected an object"),
            ([{"price": 1}], "sort[0].price", "expected an object"),
            (["x"] * 65, "sort", "at most 64"),
        ],
    )
    def test_invalid(self, sort: object, path: str, fragment: str) -> None:
        error = refused("match", q({"match": {"t": "x"}}, sort=sort))
        assert error.path == path
        assert fragment in error.reason


class TestSource:
    @pytest.mark.parametrize(
        "source",
        [
            True,
            False,
            "title",
            "user.*",
            ["title", "price"],
            {"includes": ["a", "b.*"], "excludes": "c"},
            {},
        ],
    )
    def test_valid(self, source: object) -> None:
        assert ok("match", q({"match": {"t": "x"}}, _source=source)).params["_source"] == source

    @pytest.mark.parametrize(
        ("source", "path"),
        [
            (None, "_source"),
            (1, "_source"),
            ("", "_source"),
            ([1], "_source[0]"),
            (["a", ""], "_source[1]"),
            ({"include": ["a"]}, "_source.include"),
            ({"includes": [None]}, "_source.includes[0]"),
            ({"excludes": {"a": 1}}, "_source.excludes"),
            ({"script": "x"}, "_source.script"),
            (["a\x00"], "_source[0]"),
        ],
    )
    def test_invalid(self, source: object, path: str) -> None:
        assert refused("match", q({"match": {"t": "x"}}, _source=source)).path == path


# ---------------------------------------------------------------------------------------------
# Names that look special but are ordinary fields; reporting hostile names safely
# ---------------------------------------------------------------------------------------------


class TestOrdinaryNames:
    @pytest.mark.parametrize("field", ["geo_location", "span_x", "parent", "nested", "template"])
    def test_field_names_resembling_clause_names(self, field: str) -> None:
        params = q(
            {"term": {field: 1}},
            sort=[field, {field: "asc"}],
            _source=[field],
            aggs={
                "a": {
                    "terms": {"field": field, "order": {field: "asc"}},
                    "aggs": {field: {"max": {"field": field}}},
                }
            },
        )
        assert ok("term", params).params == {**params, "size": 10, "from": 0}

    @pytest.mark.parametrize("name", ["script", "runtime_mappings", "search_template"])
    def test_agg_names_that_are_scripting_words(self, name: str) -> None:
        error = refused(
            "aggregation", {"index": "products", "aggs": {name: {"max": {"field": "p"}}}}
        )
        assert error.path == f"aggs.{name}"
        assert "forbidden" in error.reason

    def test_meta_may_use_ordinary_words(self) -> None:
        agg = {"max": {"field": "p"}, "meta": {"nested": {"geo_hint": [1, "x", None]}}}
        assert ok("aggregation", {"index": "products", "aggs": {"a": agg}})

    @pytest.mark.parametrize("key", ["bad\ud800key", "new\nline", "\x00"])
    def test_hostile_keys_are_escaped_in_paths(self, key: str) -> None:
        error = refused("match", q({"match": {"t": "x"}}, **{key: 1}))
        assert error.path == repr(key)[1:-1]
        str(error).encode("utf-8")

    def test_huge_single_field_object_refused_cheaply(self) -> None:
        error = refused("match", q({"match": {f"f{i}": "x" for i in range(100_000)}}))
        assert error.path == "query.match"
        assert "exactly one field" in error.reason
