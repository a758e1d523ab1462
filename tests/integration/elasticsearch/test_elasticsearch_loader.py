"""``airgap search load`` into Elasticsearch (bulk API) and into the embedded engine."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from airgap.adapters.elasticsearch import ElasticsearchIndexLoader, build_client
from airgap.adapters.elasticsearch.settings import ElasticsearchSettings
from airgap.adapters.tantivy import TantivySearchBackend
from airgap.adapters.tantivy.sample import products_mapping
from airgap.entrypoints.cli.main import cli
from integration.elasticsearch.fake_cluster import FakeCluster, Reply


def test_the_loader_recreates_the_index_and_bulk_loads(cluster: FakeCluster) -> None:
    loader = ElasticsearchIndexLoader(build_client(ElasticsearchSettings(url=cluster.url)))
    docs = [{"_id": "a", "name": "one"}, {"name": "two"}]
    assert (
        loader.load("things", {"mappings": {"properties": {"name": {"type": "text"}}}}, docs) == 2
    )
    loader.close()
    assert cluster.endpoints() == ["delete", "create", "bulk", "refresh"]
    create = cluster.requests[1]
    assert create.path == "/things"
    assert create.body["mappings"] == {"properties": {"name": {"type": "text"}}}
    bulk = cluster.requests[2].body
    assert bulk == [
        {"index": {"_index": "things", "_id": "a"}},
        {"name": "one"},
        {"index": {"_index": "things", "_id": "2"}},
        {"name": "two"},
    ]


def test_the_cli_loads_the_sample_into_elasticsearch_when_configured(
    cluster: FakeCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRGAP_ELASTICSEARCH_URL", cluster.url)
    result = CliRunner().invoke(
        cli, ["search", "load", "--index", "products", "--sample", "--count", "25"]
    )
    assert result.exit_code == 0, result.output
    assert "loaded 25 documents into index 'products' (Elasticsearch at" in result.output
    create = cluster.requests[cluster.endpoints().index("create")]
    assert create.body["mappings"] == products_mapping()
    bulk = next(r for r in cluster.requests if r.path.endswith("/_bulk"))
    assert len(bulk.body) == 50


def test_the_cli_reports_a_refusal_by_elasticsearch(
    cluster: FakeCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRGAP_ELASTICSEARCH_URL", cluster.url)
    refused = {
        "error": {
            "root_cause": [
                {
                    "type": "security_exception",
                    "reason": "action [indices:admin/create] is unauthorized",
                }
            ],
            "type": "security_exception",
            "reason": "action [indices:admin/create] is unauthorized",
        },
        "status": 403,
    }
    cluster.reply("create", Reply(403, refused))
    result = CliRunner().invoke(
        cli, ["search", "load", "--index", "products", "--sample", "--count", "5"]
    )
    assert result.exit_code == 1
    assert "403 security_exception: action [indices:admin/create] is unauthorized" in result.output


def test_the_cli_loads_the_sample_into_the_embedded_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AIRGAP_ELASTICSEARCH_URL", raising=False)
    result = CliRunner().invoke(
        cli,
        [
            "search",
            "load",
            "--index",
            "products",
            "--sample",
            "--count",
            "300",
            "--data-dir",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "loaded 300 documents into index 'products' (embedded engine" in result.output
    backend = TantivySearchBackend.open(tmp_path)
    assert backend.search("products", {"size": 0}, timeout_s=5).total == 300


def test_the_cli_loads_a_file_with_a_mapping(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AIRGAP_ELASTICSEARCH_URL", raising=False)
    docs = tmp_path / "docs.jsonl"
    docs.write_bytes(b'{"_id": "x", "title": "hello world"}\n{"_id": "y", "title": "goodbye"}\n')
    mapping = tmp_path / "mapping.json"
    mapping.write_bytes(orjson.dumps({"mappings": {"properties": {"title": {"type": "text"}}}}))
    data = tmp_path / "data"
    result = CliRunner().invoke(
        cli,
        [
            "search",
            "load",
            "--index",
            "notes",
            "--file",
            str(docs),
            "--mapping",
            str(mapping),
            "--data-dir",
            str(data),
        ],
    )
    assert result.exit_code == 0, result.output
    backend = TantivySearchBackend.open(data)
    hits = backend.search("notes", {"query": {"match": {"title": "hello"}}}, timeout_s=5)
    assert [h["_id"] for h in hits.body["hits"]["hits"]] == ["x"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--index", "products"], "either --sample or --file"),
        (["--index", "products", "--sample", "--file", "{docs}"], "either --sample or --file"),
        (["--index", "products", "--file", "{docs}"], "--file needs --mapping"),
        (["--index", "Bad Name", "--sample"], "invalid index name"),
        (["--index", "products", "--file", "{docs}", "--mapping", "{bad_mapping}"], "unsupported"),
    ],
)
def test_the_cli_refuses_bad_arguments_with_a_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, arguments: list[str], message: str
) -> None:
    monkeypatch.delenv("AIRGAP_ELASTICSEARCH_URL", raising=False)
    docs = tmp_path / "docs.jsonl"
    docs.write_text('{"a": 1}\n', encoding="utf-8")
    bad_mapping = tmp_path / "bad.json"
    bad_mapping.write_text('{"properties": {"a": {"type": "geo_shape"}}}', encoding="utf-8")
    filled = [a.format(docs=docs, bad_mapping=bad_mapping) for a in arguments]
    result = CliRunner().invoke(cli, ["search", "load", *filled, "--data-dir", str(tmp_path / "d")])
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
