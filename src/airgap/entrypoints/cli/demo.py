"""``airgap demo``: the whole crossing, in memory, in one process."""

from __future__ import annotations

from collections.abc import Callable

from airgap.domain.model.users import ProfileType
from airgap.domain.services import request_transfer, response_transfer
from airgap.domain.services.execute_queries import execute_available
from airgap.domain.services.requests import SubmitRequest, get_request, submit_request
from airgap.domain.services.users import CreateUser, create_user, export_users
from airgap.entrypoints.bootstrap.memory import build_memory_system

DOCUMENTS = [
    {"_id": "p1", "name": "red kettle", "category": "kitchen", "brand": "acme", "price": 20.0},
    {"_id": "p2", "name": "blue kettle", "category": "kitchen", "brand": "acme", "price": 35.0},
    {"_id": "p3", "name": "red toaster", "category": "kitchen", "brand": "brava", "price": 50.0},
    {"_id": "p4", "name": "desk lamp", "category": "office", "brand": "lumo", "price": 18.5},
]
QUERIES = [
    ("match", {"index": "products", "query": {"match": {"name": "kettle"}}}),
    ("term", {"index": "products", "query": {"term": {"brand": "acme"}}}),
    ("range", {"index": "products", "query": {"range": {"price": {"gte": 30}}}}),
    (
        "aggregation",
        {"index": "products", "size": 0, "aggs": {"brands": {"terms": {"field": "brand"}}}},
    ),
]


def run_demo(count: int, echo: Callable[[str], None]) -> None:
    system = build_memory_system(documents={"products": DOCUMENTS})
    user = create_user(
        system.response,
        system.hasher,
        CreateUser("demo", "demo@example.org", "a long demo password", ProfileType.PREMIUM),
    )
    export_users(system.response)
    system.to_request.carry()
    request_transfer.import_batches(system.request)
    echo("response network: created user 'demo'; users batch carried to the request network")

    submitted = []
    for i in range(count):
        query_type, params = QUERIES[i % len(QUERIES)]
        submitted.append(submit_request(system.request, SubmitRequest(user.id, query_type, params)))
    echo(f"request network: {count} requests accepted (pending)")

    report = request_transfer.export_requests(system.request)
    carried = system.to_response.carry()
    echo(
        f"exported {report.requests} requests; carried {carried.batches} batch(es), "
        f"{carried.bytes} bytes"
    )
    response_transfer.import_batches(system.response)
    runs = execute_available(system.response, "demo-worker")
    echo(
        f"response network: executed {len(runs)} queries "
        f"({sum(r.cache_hit for r in runs)} from cache)"
    )
    response_transfer.export_results(system.response)
    carried = system.to_request.carry()
    request_transfer.import_batches(system.request)
    echo(f"results carried back: {carried.batches} batch(es), {carried.bytes} bytes")

    for item in submitted:
        view = get_request(system.request, user.id, item.request.id)
        answer = view.response
        total = (
            answer.result_data["hits"]["total"]["value"] if answer and answer.result_data else None
        )
        echo(f"  {view.request.query_type:<12} {view.request.status:<10} hits={total}")
