"""What arrives in an inbox, through the import actors: a batch that arrives twice is
imported once; a corrupted batch is quarantined and the rest of the inbox still imported."""

from __future__ import annotations

import json
import shutil

from airgap.adapters.postgres.unit_of_work import PostgresResponseStore
from airgap.domain.model.batching import ImportStatus, Network
from airgap.domain.model.requests import RequestStatus
from airgap.domain.services.requests import SubmitRequest, get_request, submit_request
from support.workers import KETTLES, Running


def _response_store(running: Running) -> PostgresResponseStore:
    store = running.response.container.store()
    assert isinstance(store, PostgresResponseStore)
    return store


def _submit_and_export(running: Running, count: int = 1) -> None:
    user = running.create_user(f"user{count}")
    for _ in range(count):
        submit_request(running.request.side, SubmitRequest(user.id, "match", KETTLES))
    running.send(Network.REQUEST, "requests.export", scope="all")


def test_a_batch_that_arrives_twice_is_imported_once(running: Running) -> None:
    _submit_and_export(running)
    running.networks.carry_to_response()
    inbox = running.networks.response.inbox
    carried = running.networks.request.outbox / "carried"
    running.send(Network.RESPONSE, "requests.import")
    # The same files land again (a carrier that delivered twice).
    for path in carried.iterdir():
        shutil.copy(path, inbox / path.name)
    running.send(Network.RESPONSE, "requests.import")
    running.send(Network.RESPONSE, "requests.import")  # and a trigger with nothing new

    store = _response_store(running)
    with store.unit_of_work() as uow:
        jobs = uow.jobs.all()
        results = uow.results.all()
        imports = uow.import_batches.all()
    assert len(jobs) == 1
    assert len(results) == 1
    statuses = sorted(b.status.value for b in imports if b.batch_type is not None)
    assert statuses == ["completed", "duplicate"]
    assert not any(p.name.endswith(".manifest.json") for p in inbox.iterdir())


def test_a_corrupted_batch_is_quarantined_and_the_rest_of_the_inbox_imported(
    running: Running,
) -> None:
    user = running.create_user()
    first = submit_request(running.request.side, SubmitRequest(user.id, "match", KETTLES))
    running.send(Network.REQUEST, "requests.export", scope="all")
    second = submit_request(running.request.side, SubmitRequest(user.id, "match", KETTLES))
    running.send(Network.REQUEST, "requests.export", scope="all")
    assert running.networks.carry_to_response().batches == 2

    inbox = running.networks.response.inbox
    manifests = {
        json.loads(p.read_text())["sequence"]: p
        for p in inbox.iterdir()
        if p.name.endswith(".manifest.json")
    }
    assert sorted(manifests) == [1, 2]
    damaged = manifests[1].with_name(manifests[1].name.replace(".manifest.json", ".jsonl"))
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0x20
    damaged.write_bytes(bytes(data))

    running.send(Network.RESPONSE, "requests.import")

    quarantine = inbox / "quarantine"
    stem = damaged.name.removesuffix(".jsonl")
    reason = (quarantine / f"{stem}.reason.txt").read_text()
    assert "checksum" in reason
    assert (quarantine / damaged.name).exists()
    store = _response_store(running)
    with store.unit_of_work() as uow:
        jobs = uow.jobs.all()
        imports = uow.import_batches.all()
    assert [j.request_id for j in jobs] == [second.request.id]
    assert sorted(b.status for b in imports) == [ImportStatus.COMPLETED, ImportStatus.FAILED]
    failed = next(b for b in imports if b.status is ImportStatus.FAILED)
    assert failed.error_message is not None and "checksum" in failed.error_message

    # The other batch went all the way; the damaged one is re-sent after the ack timeout.
    running.send(Network.RESPONSE, "results.export", scope="all")
    running.networks.carry_to_request()
    running.send(Network.REQUEST, "results.import")
    side = running.request.side
    assert get_request(side, user.id, second.request.id).request.status is RequestStatus.COMPLETED
    assert get_request(side, user.id, first.request.id).request.status is RequestStatus.EXPORTED
