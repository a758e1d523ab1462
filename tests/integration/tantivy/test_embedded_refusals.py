"""What the embedded engine cannot answer exactly, it refuses — naming the clause — rather
than answering wrongly; and what Elasticsearch itself refuses, it refuses too."""

from __future__ import annotations

from typing import Any

import pytest

from airgap.adapters.tantivy import EmbeddedIndex, TantivySearchBackend
from airgap.domain.model.errors import PermanentSearchError

MAPPING = {
    "properties": {
        "name": {"type": "text"},
        "tag": {"type": "keyword"},
        "n": {"type": "long"},
        "ok": {"type": "boolean"},
        "at": {"type": "date"},
    }
}
DOCS = [
    {"_id": "1", "name": "alpha beta", "tag": ["x", "y"], "n": 1, "ok": True, "at": "2024-01-01"},
    {"_id": "2", "name": "gamma", "tag": "z", "n": 2, "ok": False, "at": "2024-02-01"},
] + [{"_id": f"w{i}", "name": f"word{i:03d}", "n": i} for i in range(60)]


@pytest.fixture(scope="module")
def backend() -> TantivySearchBackend:
    return TantivySearchBackend([EmbeddedIndex.build("things", MAPPING, DOCS)])


UNSUPPORTED = [
    ({"query": {"regexp": {"tag": "~x"}}}, "query.regexp.tag", "COMPLEMENT"),
    ({"query": {"regexp": {"tag": "x&y"}}}, "query.regexp.tag", "INTERSECTION"),
    ({"query": {"regexp": {"tag": "<1-5>"}}}, "query.regexp.tag", "INTERVAL"),
    # word000..word059 are all within two edits of "word00": more than 50 expansions.
    ({"query": {"fuzzy": {"name": {"value": "word00"}}}}, "query.fuzzy.name", "max_expansions"),
    ({"query": {"geo_distance": {"distance": "1km"}}}, "query.geo_distance", "geo_distance"),
    ({"query": {"script": {"script": "1"}}}, "query.script", "script"),
    ({"query": {"bool": {"must": [{"nested": {}}]}}}, "query.bool.must[0].nested", "nested"),
    ({"highlight": {"fields": {"name": {}}}}, "highlight", "highlight"),
    ({"sort": ["tag"]}, "sort[0]", "several values"),
    ({"aggs": {"p": {"percentiles": {"field": "n"}}}}, "aggs.p.percentiles", "percentiles"),
    ({"aggs": {"a": {"avg": {"field": "ok"}}}}, "aggs.a.avg", "boolean"),
    (
        {
            "aggs": {
                "d": {
                    "date_histogram": {
                        "field": "at",
                        "calendar_interval": "month",
                        "time_zone": "Europe/Berlin",
                    }
                }
            }
        },
        "aggs.d.date_histogram",
        "time_zone",
    ),
]


@pytest.mark.parametrize(
    ("body", "path", "what"), UNSUPPORTED, ids=[u[1] + ":" + u[2] for u in UNSUPPORTED]
)
def test_unsupported_clauses_are_refused_by_name(
    backend: TantivySearchBackend, body: dict[str, Any], path: str, what: str
) -> None:
    with pytest.raises(PermanentSearchError) as raised:
        backend.search("things", body, timeout_s=5)
    message = str(raised.value)
    assert "unsupported by the embedded backend" in message
    assert message.endswith(path)
    assert what in message


REJECTED = [
    ({"aggs": {"a": {"avg": {"field": "tag"}}}}, r"\[keyword\] is not supported for aggregation"),
    ({"aggs": {"t": {"terms": {"field": "name"}}}}, "Text fields are not optimised"),
    ({"aggs": {"t": {"terms": {"field": "_id"}}}}, "_id field is disallowed"),
    ({"sort": ["name"]}, "Text fields are not optimised"),
    ({"sort": ["missing_field"]}, r"No mapping found for \[missing_field\]"),
    ({"query": {"term": {"n": "abc"}}}, "For input string"),
    ({"query": {"term": {"ok": "maybe"}}}, "Can't parse boolean value"),
    ({"query": {"range": {"at": {"gte": "next tuesday"}}}}, "failed to parse date"),
    ({"query": {"wildcard": {"n": "1*"}}}, "Can only use wildcard queries on keyword and text"),
    ({"query": {"match": {"n": {"query": "1", "fuzziness": 1}}}}, "Can only use fuzzy"),
    ({"from": 9_990, "size": 20}, "Result window is too large"),
    ({"size": -1}, "non-negative"),
    ({"aggs": {"t": {"terms": {"field": "tag", "order": {"nope": "desc"}}}}}, "order path"),
    (
        {
            "aggs": {
                "t": {
                    "terms": {"field": "tag", "order": {"s": "desc"}},
                    "aggs": {"s": {"stats": {"field": "n"}}},
                }
            }
        },
        "multi-value metric",
    ),
]


@pytest.mark.parametrize(("body", "message"), REJECTED)
def test_queries_elasticsearch_refuses_are_refused(
    backend: TantivySearchBackend, body: dict[str, Any], message: str
) -> None:
    with pytest.raises(PermanentSearchError, match=message):
        backend.search("things", body, timeout_s=5)


def test_lenient_match_skips_unparseable_values(backend: TantivySearchBackend) -> None:
    body = {"query": {"match": {"n": {"query": "abc", "lenient": True}}}}
    assert backend.search("things", body, timeout_s=5).total == 0
    everywhere = {"query": {"multi_match": {"query": "gamma"}}}
    assert backend.search("things", everywhere, timeout_s=5).total == 1


def test_a_decimal_looked_up_in_a_long_field_matches_nothing(backend: TantivySearchBackend) -> None:
    assert backend.search("things", {"query": {"term": {"n": 1.5}}}, timeout_s=5).total == 0
    assert backend.search("things", {"query": {"term": {"n": 1.0}}}, timeout_s=5).total == 2
