"""The response worker's executor threads drain the queue (each query once), and the
run-once commands do one step each and say what they did."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest
import structlog
from click.testing import CliRunner

from airgap.adapters.postgres.unit_of_work import PostgresResponseStore
from airgap.domain.model.batching import Network
from airgap.domain.model.jobs import JobStatus
from airgap.domain.model.requests import RequestStatus
from airgap.domain.model.users import ProfileType
from airgap.domain.services.requests import SubmitRequest, get_request, submit_request
from airgap.entrypoints.cli.main import cli
from support.workers import KETTLES, Networks, Running, running_on_stub_brokers, wait_for

QUERIES = 24


def test_executor_threads_run_every_queued_query_exactly_once(networks: Networks) -> None:
    with running_on_stub_brokers(
        networks, executors=True, response_changes={"executor_threads": 4}
    ) as running:
        user = running.create_user("eve", ProfileType.ENTERPRISE)
        for n in range(QUERIES):
            query = {**KETTLES, "from": n}  # all different: no cache hits
            submit_request(running.request.side, SubmitRequest(user.id, "match", query))
        running.send(Network.REQUEST, "requests.export", scope="all")
        running.networks.carry_to_response()
        running.send(Network.RESPONSE, "requests.import")  # → queries.execute wakes the pool
        store = running.response.container.store()
        assert isinstance(store, PostgresResponseStore)

        def all_done() -> bool:
            with store.unit_of_work() as uow:
                jobs = uow.jobs.all()
            return len(jobs) == QUERIES and all(j.status is JobStatus.COMPLETED for j in jobs)

        wait_for(all_done, timeout=30, what="the executors")
        with store.unit_of_work() as uow:
            jobs = uow.jobs.all()
            results = uow.results.all()
        assert running.response.pool is not None
        report = running.response.pool.stop(5.0)
    assert report.released == 0
    assert all(job.attempts == 1 for job in jobs)
    assert sorted(r.job_id for r in results) == sorted(j.id for j in jobs)  # one each


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """The commands configure logging for a process; put the test process's back."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        structlog.reset_defaults()


def test_the_run_once_commands_say_what_they_did(
    running: Running, monkeypatch: pytest.MonkeyPatch, restore_logging: None
) -> None:
    for name, value in running.networks.environment().items():
        if name.startswith("AIRGAP_"):
            monkeypatch.setenv(name, value)
    data_dir = str(running.networks.data_dir)
    user = running.create_user()
    submitted = submit_request(running.request.side, SubmitRequest(user.id, "match", KETTLES))
    runner = CliRunner()

    def airgap(*args: str) -> str:
        result = runner.invoke(cli, [*args, "--data-dir", data_dir], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.stdout

    assert re.search(
        r"exported 1 requests in 1 batch \(sequences \[\d+\]", airgap("request", "export-now")
    )
    running.networks.carry_to_response()
    assert "imported 1 batch: 1 records accepted" in airgap("response", "import-now")
    assert "executed 1 queries (1 completed" in airgap("response", "execute-now", "--max", "5")
    assert "exported 1 batch of results" in airgap("response", "export-now")
    running.networks.carry_to_request()
    assert "imported 1 batch: 1 records accepted" in airgap("request", "import-now")
    view = get_request(running.request.side, user.id, submitted.request.id)
    assert view.request.status is RequestStatus.COMPLETED
