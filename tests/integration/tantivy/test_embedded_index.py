"""Building, persisting and reopening embedded indices, and what a load refuses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from airgap.adapters.tantivy import (
    DocumentRejected,
    EmbeddedIndex,
    MappingError,
    TantivySearchBackend,
    read_json_lines,
    write_index,
)
from airgap.adapters.tantivy.index import IndexDirectoryError
from airgap.domain.model.errors import PermanentSearchError

MAPPING = {"properties": {"name": {"type": "text"}, "n": {"type": "integer"}}}


def names(backend: TantivySearchBackend, index: str = "things") -> list[str]:
    body = backend.search(index, {"sort": ["n"], "size": 100}, timeout_s=5).body
    return [hit["_source"]["name"] for hit in body["hits"]["hits"]]


def test_an_index_written_to_disk_reopens_with_the_same_answers(tmp_path: Path) -> None:
    docs = [{"_id": str(i), "name": f"thing {i}", "n": i} for i in range(5)]
    written = write_index(tmp_path, "things", MAPPING, docs)
    assert written.document_count == 5
    backend = TantivySearchBackend.open(tmp_path)
    assert backend.index_names == ["things"]
    assert names(backend) == [f"thing {i}" for i in range(5)]
    assert backend.healthy() is True
    meta = orjson.loads((tmp_path / "things" / "airgap-index.json").read_bytes())
    assert meta["mapping"] == MAPPING
    assert meta["document_count"] == 5


def test_a_new_load_replaces_the_old_index(tmp_path: Path) -> None:
    write_index(tmp_path, "things", MAPPING, [{"name": "old", "n": 1}])
    write_index(tmp_path, "things", MAPPING, [{"name": "new", "n": 1}, {"name": "newer", "n": 2}])
    assert names(TantivySearchBackend.open(tmp_path)) == ["new", "newer"]
    assert [p.name for p in tmp_path.iterdir()] == ["things"]


def test_a_failed_load_leaves_the_old_index_untouched(tmp_path: Path) -> None:
    write_index(tmp_path, "things", MAPPING, [{"name": "old", "n": 1}])
    with pytest.raises(DocumentRejected, match=r"document '2'.*\[n\] of type \[integer\]"):
        write_index(tmp_path, "things", MAPPING, [{"name": "a", "n": 1}, {"name": "b", "n": "x"}])
    assert names(TantivySearchBackend.open(tmp_path)) == ["old"]
    assert [p.name for p in tmp_path.iterdir()] == ["things"]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"n": 2**40}, r"\[n\] of type \[integer\].*out of range for integer"),
        ({"n": True}, r"\[n\] of type \[integer\]"),
        ({"n": "twelve"}, r"\[n\] of type \[integer\]"),
        ({"k": {"nested": "object"}}, r"\[k\] of type \[keyword\]: an object"),
        ({"k": [{"a": 1}]}, r"\[k\] of type \[keyword\]: an object"),
        ({"d": "yesterday"}, r"\[d\] of type \[date\]"),
        ({"b": "yes"}, r"\[b\] of type \[boolean\]"),
    ],
)
def test_values_that_do_not_fit_their_field_are_refused(
    document: dict[str, Any], message: str
) -> None:
    mapping = {
        "properties": {
            "n": {"type": "integer"},
            "k": {"type": "keyword"},
            "d": {"type": "date"},
            "b": {"type": "boolean"},
        }
    }
    with pytest.raises(DocumentRejected, match=message):
        EmbeddedIndex.build("things", mapping, [document])


def test_duplicate_ids_are_refused() -> None:
    with pytest.raises(DocumentRejected, match="duplicate _id '7'"):
        EmbeddedIndex.build("things", MAPPING, [{"_id": "7", "n": 1}, {"_id": 7, "n": 2}])


def test_values_are_coerced_like_elasticsearch_does() -> None:
    mapping = {
        "properties": {
            "n": {"type": "long"},
            "f": {"type": "double"},
            "b": {"type": "boolean"},
            "k": {"type": "keyword"},
        }
    }
    index = EmbeddedIndex.build(
        "things", mapping, [{"_id": "1", "n": "12", "f": "2.5", "b": "true", "k": 42}]
    )
    backend = TantivySearchBackend([index])
    for query in (
        {"term": {"n": 12}},
        {"term": {"f": 2.5}},
        {"term": {"b": True}},
        {"term": {"k": "42"}},
    ):
        assert backend.search("things", {"query": query}, timeout_s=5).total == 1
    # _source is what was loaded, unchanged.
    hit = backend.search("things", {}, timeout_s=5).body["hits"]["hits"][0]
    assert hit["_source"] == {"n": "12", "f": "2.5", "b": "true", "k": 42}


@pytest.mark.parametrize(
    "mapping",
    [
        {"properties": {"where": {"type": "geo_point"}}},
        {"properties": {"n": {"type": "long", "ignore_malformed": True}}},
        {"properties": {"t": {"type": "text", "analyzer": "english"}}},
        {"properties": {"d": {"type": "date", "format": "EEE, dd MMM yyyy"}}},
        {"properties": {}},
        {"settings": {}, "properties": {"a": {"type": "keyword"}}},
    ],
)
def test_mappings_the_engine_cannot_honour_are_refused(mapping: dict[str, Any]) -> None:
    with pytest.raises(MappingError):
        EmbeddedIndex.build("things", mapping, [])


def test_objects_and_multi_fields_are_flattened() -> None:
    mapping = {
        "mappings": {
            "properties": {
                "title": {"type": "text", "fields": {"raw": {"type": "keyword"}}},
                "size": {"properties": {"w": {"type": "long"}, "h": {"type": "long"}}},
            }
        }
    }
    index = EmbeddedIndex.build(
        "things",
        mapping,
        [
            {"_id": "a", "title": "Big Box", "size": {"w": 10, "h": 20}},
            {"_id": "b", "title": "Small box", "size": [{"w": 1}, {"w": 2}]},
        ],
    )
    backend = TantivySearchBackend([index])

    def found(query: dict[str, Any]) -> set[str]:
        hits = backend.search("things", {"query": query}, timeout_s=5).body["hits"]["hits"]
        return {h["_id"] for h in hits}

    assert found({"match": {"title": "box"}}) == {"a", "b"}
    assert found({"term": {"title.raw": "Big Box"}}) == {"a"}
    assert found({"range": {"size.w": {"gte": 2}}}) == {"a", "b"}
    assert found({"exists": {"field": "size.h"}}) == {"a"}
    assert found({"exists": {"field": "size.*"}}) == {"a", "b"}


def test_json_lines_are_read_and_bad_lines_named(tmp_path: Path) -> None:
    good = tmp_path / "docs.jsonl"
    good.write_text('{"_id": "1", "name": "one"}\n\n{"name": "two"}\n', encoding="utf-8")
    assert list(read_json_lines(good)) == [{"_id": "1", "name": "one"}, {"name": "two"}]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"name": "one"}\n[1, 2]\n', encoding="utf-8")
    with pytest.raises(DocumentRejected, match=r"bad\.jsonl:2"):
        list(read_json_lines(bad))
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"name": \n', encoding="utf-8")
    with pytest.raises(DocumentRejected, match=r"broken\.jsonl:1: not valid JSON"):
        list(read_json_lines(broken))


def test_a_directory_without_an_index_is_reported(tmp_path: Path) -> None:
    with pytest.raises(IndexDirectoryError):
        EmbeddedIndex.open(tmp_path)
    (tmp_path / "airgap-index.json").write_bytes(b'{"format_version": 99}')
    with pytest.raises(IndexDirectoryError, match="format"):
        EmbeddedIndex.open(tmp_path)
    assert TantivySearchBackend.open(tmp_path / "missing").index_names == []


def test_invalid_index_names_are_refused(tmp_path: Path) -> None:
    for name in ("", "Upper", "../escape", "a/b", ".hidden"):
        with pytest.raises(ValueError, match="invalid index name"):
            write_index(tmp_path, name, MAPPING, [])


def test_an_unknown_index_and_an_empty_backend() -> None:
    backend = TantivySearchBackend()
    assert backend.healthy() is False
    with pytest.raises(PermanentSearchError, match=r"no such index \[things\]"):
        backend.search("things", {}, timeout_s=5)
