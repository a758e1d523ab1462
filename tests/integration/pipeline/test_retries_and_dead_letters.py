"""Retries and dead letters: a transient failure is retried with back-off until it
succeeds; a message that fails for good is kept in the ``dead_letters`` table for the admin
API. Shown with the optional completion webhook, against a local HTTP server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from airgap.adapters.postgres.dead_letters import PostgresDeadLetters
from airgap.domain.model.batching import Network
from airgap.domain.services.requests import SubmitRequest, submit_request
from airgap.entrypoints.worker.config import QUEUE
from support.workers import KETTLES, Networks, running_on_stub_brokers


class Webhook:
    """A local HTTP endpoint that answers 503 to the first ``failures`` POSTs, then 204."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.received: list[tuple[dict[str, str], dict[str, object]]] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.received.append((dict(self.headers), json.loads(body)))
                failing = len(hook.received) <= hook.failures
                self.send_response(503 if failing else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook(failures=2)
    try:
        yield hook
    finally:
        hook.close()


def test_a_webhook_that_fails_transiently_is_retried_until_delivered(
    networks: Networks, webhook: Webhook, tmp_path: Path
) -> None:
    hooks = tmp_path / "webhooks.json"
    hooks.write_text(json.dumps({"alice": webhook.url}))
    with running_on_stub_brokers(networks, request_changes={"notify_webhooks": hooks}) as running:
        user = running.create_user("alice")
        submitted = submit_request(running.request.side, SubmitRequest(user.id, "match", KETTLES))
        running.send(Network.REQUEST, "requests.export", scope="all")
        networks.carry_to_response()
        running.send(Network.RESPONSE, "requests.import")
        running.send(Network.RESPONSE, "results.export", scope="all")
        networks.carry_to_request()
        running.send(Network.REQUEST, "results.import")  # → notifications.send, retried
        running.settle()

        letters = PostgresDeadLetters.for_network(
            running.request.container.store().engine, "request"
        )
        assert letters.page().total == 0
    assert len(webhook.received) == 3  # 503, 503, then delivered
    headers, body = webhook.received[-1]
    assert headers["Idempotency-Key"] == str(submitted.request.id)
    assert body["event"] == "request.finished"
    assert body["request_id"] == str(submitted.request.id)
    assert body["status"] == "completed"


def test_a_message_that_fails_for_good_is_kept_as_a_dead_letter(networks: Networks) -> None:
    with running_on_stub_brokers(networks) as running:
        running.request.tasks.enqueue("notifications.send", request_id="not-a-request-id")
        running.request.broker.join(QUEUE, fail_fast=False)  # type: ignore[attr-defined]
        running.request_worker.join()
        engine = running.request.container.store().engine
        letters = PostgresDeadLetters.for_network(engine, "request").page()
    assert letters.total == 1
    letter = letters.items[0]
    assert letter.actor_name == "notifications.send"
    assert dict(letter.kwargs) == {"request_id": "not-a-request-id"}
    assert letter.queue_name == QUEUE
    assert letter.attempts == 1  # a bad id is not transient: no retries
    assert letter.error is not None and "ValueError" in letter.error
    assert letter.retried_at is None
