"""Every case of the conformance table, on every backend (SPEC §6)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from airgap.domain.model.errors import PermanentSearchError
from conformance.cases import CASES, Case
from conformance.target import Target


def assert_same(actual: Any, expected: Any, path: str = "") -> None:
    """Deep equality with floats compared to 1e-9 (relative) and int/float keys kept apart."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{path}: expected an object, got {actual!r}"
        assert set(actual) == set(expected), f"{path}: keys {sorted(actual)} != {sorted(expected)}"
        for key, value in expected.items():
            assert_same(actual[key], value, f"{path}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list), f"{path}: expected a list, got {actual!r}"
        assert len(actual) == len(expected), (
            f"{path}: {len(actual)} items, expected {len(expected)}"
        )
        for i, (got, want) in enumerate(zip(actual, expected, strict=True)):
            assert_same(got, want, f"{path}[{i}]")
    elif isinstance(expected, float):
        assert isinstance(actual, float), f"{path}: {actual!r} is not a float"
        assert math.isclose(actual, expected, rel_tol=1e-9), f"{path}: {actual!r} != {expected!r}"
    else:
        assert type(actual) is type(expected), f"{path}: {actual!r} is not {expected!r}"
        assert actual == expected, f"{path}: {actual!r} != {expected!r}"


def run(target: Target, case: Case) -> dict[str, Any]:
    # A case listing the matching ids wants them all, not the default first ten.
    request = {"size": 100, **case.body} if case.ids is not None else case.body
    result = target.backend.search(target.index, request, timeout_s=30.0)
    body = dict(result.body)
    hits = body["hits"]
    assert hits["total"]["relation"] == "eq"
    assert result.total == hits["total"]["value"]
    return body


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_case(target: Target, case: Case) -> None:
    if case.error is not None:
        with pytest.raises(PermanentSearchError, match=case.error):
            run(target, case)
        return
    body = run(target, case)
    hits = body["hits"]["hits"]
    found = [hit["_id"] for hit in hits]
    assert len(found) == len(set(found)), "a document was returned twice"
    if case.total is not None:
        assert body["hits"]["total"]["value"] == case.total
    if case.ids is not None:
        assert set(found) == set(case.ids)
        assert body["hits"]["total"]["value"] == len(case.ids)
    if case.ordered is not None:
        assert found == list(case.ordered)
    if case.first is not None:
        assert found[0] == case.first
    if case.aggs is not None:
        assert_same(body["aggregations"], case.aggs, "aggregations")
    if case.sources is not None:
        by_id = {hit["_id"]: hit for hit in hits}
        assert set(by_id) == set(case.sources)
        for doc_id, source in case.sources.items():
            if source is None:
                assert "_source" not in by_id[doc_id]
            else:
                assert_same(by_id[doc_id]["_source"], source, f"_source[{doc_id}]")


def test_hits_have_elasticsearch_shape(target: Target) -> None:
    body = target.backend.search(
        target.index, {"query": {"match": {"name": "kettle"}}}, timeout_s=30.0
    ).body
    assert body["timed_out"] is False
    assert isinstance(body["took"], int)
    assert isinstance(body["hits"]["max_score"], float)
    for hit in body["hits"]["hits"]:
        assert hit["_index"] == target.index
        assert isinstance(hit["_id"], str)
        assert isinstance(hit["_score"], float)
        assert isinstance(hit["_source"], dict)
    sorted_body = target.backend.search(
        target.index, {"sort": [{"price": "asc"}], "size": 1}, timeout_s=30.0
    ).body
    assert sorted_body["hits"]["max_score"] is None
    assert sorted_body["hits"]["hits"][0]["_score"] is None
    assert sorted_body["hits"]["hits"][0]["sort"] == [8.75]


def test_an_unknown_index_is_a_permanent_error(target: Target) -> None:
    with pytest.raises(PermanentSearchError):
        target.backend.search(f"{target.index}-missing", {}, timeout_s=30.0)


def test_the_backend_is_healthy(target: Target) -> None:
    assert target.backend.healthy() is True
