"""Writing documents into Elasticsearch — for ``airgap search load`` only.

The search backend never writes; loading sample or operator data is a separate,
explicitly invoked tool with its own credentials (it needs ``create_index``, ``write`` and
``delete_index`` on the target index, which the search role must not have). It creates the
index with the given mapping and indexes the documents with the bulk API.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from elasticsearch import Elasticsearch, helpers

from airgap.adapters.elasticsearch.backend import build_client
from airgap.adapters.elasticsearch.settings import ElasticsearchSettings

__all__ = ["ElasticsearchIndexLoader"]


def _mappings(mapping: Mapping[str, Any]) -> dict[str, Any]:
    root = mapping.get("mappings", mapping)
    return {str(k): v for k, v in root.items()}


class ElasticsearchIndexLoader:
    """Creates an index from a mapping and bulk-loads documents into it."""

    def __init__(self, client: Elasticsearch) -> None:
        self._client = client

    @classmethod
    def from_settings(cls, settings: ElasticsearchSettings) -> ElasticsearchIndexLoader:
        return cls(build_client(settings))

    def load(
        self,
        index: str,
        mapping: Mapping[str, Any],
        documents: Iterable[Mapping[str, Any]],
        *,
        replace: bool = True,
        chunk_size: int = 1000,
    ) -> int:
        """(Re)create ``index`` with ``mapping`` and index ``documents`` (each may carry an
        ``_id``; others are numbered from 1, like the embedded engine does). Returns how many
        were indexed; raises on the first document Elasticsearch refuses."""
        if replace:
            self.delete(index)
        self._client.indices.create(
            index=index, mappings=_mappings(mapping), settings={"number_of_shards": 1}
        )
        indexed, _errors = helpers.bulk(
            self._client,
            self._actions(index, documents),
            chunk_size=chunk_size,
            raise_on_error=True,
        )
        self._client.indices.refresh(index=index)
        return int(indexed)

    def delete(self, index: str) -> None:
        """Delete ``index`` if it exists."""
        self._client.indices.delete(index=index, ignore_unavailable=True)

    def close(self) -> None:
        self._client.close()

    @staticmethod
    def _actions(index: str, documents: Iterable[Mapping[str, Any]]) -> Iterator[dict[str, Any]]:
        for position, document in enumerate(documents, start=1):
            source = {k: v for k, v in document.items() if k != "_id"}
            yield {
                "_op_type": "index",
                "_index": index,
                "_id": str(document.get("_id", position)),
                "_source": source,
            }
