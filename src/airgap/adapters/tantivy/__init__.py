"""The embedded search engine: Elasticsearch's query subset on tantivy (SPEC §6)."""

from airgap.adapters.tantivy.backend import TantivySearchBackend
from airgap.adapters.tantivy.index import EmbeddedIndex, read_json_lines, write_index
from airgap.adapters.tantivy.mapping import DocumentRejected, IndexMapping, MappingError

__all__ = [
    "DocumentRejected",
    "EmbeddedIndex",
    "IndexMapping",
    "MappingError",
    "TantivySearchBackend",
    "read_json_lines",
    "write_index",
]
