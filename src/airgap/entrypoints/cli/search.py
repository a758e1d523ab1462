"""``airgap search``: load data into the response network's search backend.

``airgap search load --index products --sample [--count N]`` loads the deterministic sample
catalogue; ``--file DOCS.jsonl --mapping MAPPING.json`` loads an operator's own documents
with an Elasticsearch mapping. The target is the embedded engine under ``--data-dir``
(default ``./.airgap/response/search``), or Elasticsearch when ``AIRGAP_ELASTICSEARCH_URL``
is set (bulk API; the loader's credentials need write access the search role lacks).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import click

DEFAULT_DATA_DIR = Path(".airgap") / "response" / "search"


@click.group("search")
def search() -> None:
    """Load data into the search backend (embedded engine or Elasticsearch)."""


@search.command("load")
@click.option("--index", "index_name", required=True, help="Index to (re)create.")
@click.option("--sample", is_flag=True, help="Load the generated product catalogue.")
@click.option(
    "--count",
    type=click.IntRange(1, 1_000_000),
    default=10_000,
    show_default=True,
    help="Documents to generate with --sample.",
)
@click.option(
    "--file",
    "documents_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON Lines file of documents (an optional _id in each).",
)
@click.option(
    "--mapping",
    "mapping_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Elasticsearch mapping (JSON) for --file.",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_DATA_DIR,
    show_default=True,
    help="Where the embedded engine keeps its indices.",
)
def load(
    index_name: str,
    sample: bool,
    count: int,
    documents_file: Path | None,
    mapping_file: Path | None,
    data_dir: Path,
) -> None:
    """Create INDEX and fill it, replacing any index of that name."""
    import orjson

    from airgap.adapters.tantivy import read_json_lines
    from airgap.adapters.tantivy.sample import generate_products, products_mapping

    if sample == (documents_file is not None):
        raise click.UsageError("give either --sample or --file (with --mapping)")
    documents: Iterable[Mapping[str, Any]]
    if sample:
        mapping: dict[str, Any] = products_mapping()
        documents = generate_products(count)
    else:
        if mapping_file is None or documents_file is None:
            raise click.UsageError("--file needs --mapping")
        try:
            mapping = orjson.loads(mapping_file.read_bytes())
        except orjson.JSONDecodeError as error:
            raise click.ClickException(f"{mapping_file}: not valid JSON ({error})") from None
        if not isinstance(mapping, dict):
            raise click.ClickException(f"{mapping_file}: a mapping is a JSON object")
        documents = read_json_lines(documents_file)
    started = time.perf_counter()
    if os.environ.get("AIRGAP_ELASTICSEARCH_URL", "").strip():
        loaded, where = _load_elasticsearch(index_name, mapping, documents)
    else:
        loaded, where = _load_embedded(data_dir, index_name, mapping, documents)
    elapsed = time.perf_counter() - started
    click.echo(f"loaded {loaded} documents into index '{index_name}' ({where}) in {elapsed:.2f} s")


def _load_embedded(
    data_dir: Path, index_name: str, mapping: dict[str, Any], documents: Iterable[Mapping[str, Any]]
) -> tuple[int, str]:
    from airgap.adapters.tantivy import DocumentRejected, MappingError, write_index

    try:
        index = write_index(data_dir, index_name, mapping, documents)
    except (DocumentRejected, MappingError, ValueError) as error:
        raise click.ClickException(str(error)) from None
    return index.document_count, f"embedded engine, {data_dir / index_name}"


def _load_elasticsearch(
    index_name: str, mapping: dict[str, Any], documents: Iterable[Mapping[str, Any]]
) -> tuple[int, str]:
    from elasticsearch import ApiError, TransportError, helpers

    from airgap.adapters.elasticsearch import ElasticsearchIndexLoader, ElasticsearchSettings
    from airgap.adapters.elasticsearch.backend import describe

    settings = ElasticsearchSettings.from_env(os.environ)
    assert settings is not None
    loader = ElasticsearchIndexLoader.from_settings(settings)
    try:
        loaded = loader.load(index_name, mapping, documents)
    except helpers.BulkIndexError as error:
        first = error.errors[0] if error.errors else {}
        raise click.ClickException(f"Elasticsearch refused documents: {first}") from None
    except (ApiError, TransportError) as error:
        raise click.ClickException(f"Elasticsearch: {describe(error)}") from None
    finally:
        loader.close()
    return loaded, f"Elasticsearch at {settings.url}"
