"""Elasticsearch, the production search backend (SPEC §6)."""

from airgap.adapters.elasticsearch.backend import ElasticsearchSearchBackend, build_client
from airgap.adapters.elasticsearch.loader import ElasticsearchIndexLoader
from airgap.adapters.elasticsearch.settings import ElasticsearchSettings

__all__ = [
    "ElasticsearchIndexLoader",
    "ElasticsearchSearchBackend",
    "ElasticsearchSettings",
    "build_client",
]
