"""The backends the conformance suite runs against.

The embedded engine always runs. Elasticsearch runs when ``AIRGAP_TEST_ELASTICSEARCH_URL``
names a cluster (credentials in ``AIRGAP_TEST_ELASTICSEARCH_USERNAME``/``_PASSWORD``/
``_API_KEY``/``_CA_CERTS``/``_VERIFY_CERTS``): the documents go into a temporary index that
is deleted afterwards. That is the only test in the suite allowed to skip.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from airgap.adapters.tantivy import EmbeddedIndex, TantivySearchBackend
from conformance.documents import DOCUMENTS, MAPPING
from conformance.target import Target

ELASTICSEARCH_URL = "AIRGAP_TEST_ELASTICSEARCH_URL"


def _elasticsearch_env() -> dict[str, str]:
    prefix = "AIRGAP_TEST_ELASTICSEARCH_"
    return {
        "AIRGAP_ELASTICSEARCH_" + key.removeprefix(prefix): value
        for key, value in os.environ.items()
        if key.startswith(prefix)
    }


@pytest.fixture(scope="session", params=["tantivy", "elasticsearch"])
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    if request.param == "tantivy":
        index = EmbeddedIndex.build("conformance", MAPPING, DOCUMENTS)
        yield Target(TantivySearchBackend([index]), "conformance")
        return
    if not os.environ.get(ELASTICSEARCH_URL):
        pytest.skip(f"{ELASTICSEARCH_URL} is not set: no Elasticsearch to compare with")
    from airgap.adapters.elasticsearch import (
        ElasticsearchIndexLoader,
        ElasticsearchSearchBackend,
        ElasticsearchSettings,
    )

    settings = ElasticsearchSettings.from_env(_elasticsearch_env())
    assert settings is not None
    name = f"airgap-conformance-{uuid.uuid4().hex[:12]}"
    loader = ElasticsearchIndexLoader.from_settings(settings)
    try:
        loader.load(name, MAPPING, DOCUMENTS)
        backend = ElasticsearchSearchBackend(settings, [name])
        yield Target(backend, name)
        backend.close()
    finally:
        loader.delete(name)
        loader.close()
