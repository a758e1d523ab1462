"""The export guard on the real stack, through export: what leaves the response network, in
the batch bytes and as the request network receives it."""

from __future__ import annotations

import json
from typing import Any

import redis
from real_stack import build_stack

from airgap.adapters.postgres.unit_of_work import PostgresResponseStore
from airgap.adapters.tantivy import EmbeddedIndex
from airgap.domain.model.caching import cache_key
from airgap.domain.model.export_guard import ExportGuard
from airgap.domain.services import request_transfer, response_transfer
from airgap.domain.services.execute_queries import execute_available
from airgap.domain.services.requests import SubmitRequest, get_request, submit_request
from support.pipeline import forward, make_user

GUARD = ExportGuard.from_mapping(
    {
        "indices": {
            "products": {
                "drop_fields": ["internal_notes"],
                "mask_fields": {"supplier_email": "***"},
                "max_hits": 2,
            }
        },
        "default": {"max_result_bytes": 1048576},
    }
)
QUERY: dict[str, Any] = {
    "index": "products",
    "query": {"match": {"name": "kettle"}},
    "size": 10,
    "sort": [{"supplier_email": "asc"}],
    "aggs": {
        "emails": {"terms": {"field": "supplier_email"}},
        "brands": {"terms": {"field": "brand"}},
    },
}


def test_guarded_answers_leave_and_arrive_with_what_was_removed_counted(
    pg_response_store: PostgresResponseStore,
    redis_client: redis.Redis,
    engine_index: EmbeddedIndex,
) -> None:
    stack = build_stack(pg_response_store, redis_client, engine_index, export_guard=GUARD)
    system = stack.system
    alice = make_user(system, "alice")
    # The same question twice: once from the engine, once from the cache.
    asked = [
        submit_request(system.request, SubmitRequest(alice, "match", QUERY)).request.id
        for _ in range(2)
    ]
    forward(system)
    runs = execute_available(system.response, "worker-1")
    assert [r.cache_hit for r in runs] == [False, True]

    response_transfer.export_results(system.response)
    files = system.to_request.outbox.take()
    payload = b"".join(f.payload for f in files)
    assert b'"brands"' in payload and b"kettle" in payload  # the answers are there, readable
    assert b"margin" not in payload  # internal_notes' values
    assert b".example" not in payload  # supplier e-mail addresses
    for file in files:
        system.to_request.inbox.deliver(file)
    request_transfer.import_batches(system.request)

    for request_id in asked:
        response = get_request(system.request, alice, request_id).response
        assert response is not None and response.result_data is not None
        hits = response.result_data["hits"]["hits"]
        assert [set(h["_source"]) for h in hits] == [
            {"name", "brand", "price", "supplier_email"}
        ] * 2
        assert {h["_source"]["supplier_email"] for h in hits} == {"***"}
        assert all("sort" not in h for h in hits)
        assert set(response.result_data["aggregations"]) == {"brands"}
        assert response.result_data["hits"]["total"]["value"] == 4
        assert response.metadata["export_guard"] == {
            "dropped_fields": 4,  # internal_notes in 2 hits, and the 2 hits' sort values
            "masked_fields": 2,
            "hits_removed": 2,
            "truncated": False,
            "dropped_aggregations": 1,
        }

    # The cache keeps the engine's answer: a changed guard applies to the next execution.
    key = cache_key(system.response.policy.validate("match", QUERY).template())
    cached = stack.table.peek(key, stack.clock.now())
    assert cached is not None
    assert "margin" in json.dumps(cached.result_data)
