"""A tiny stand-in for an Elasticsearch node on 127.0.0.1, for testing the adapter through the
real client over real HTTP: it replays recorded response bodies (``tests/fixtures/
elasticsearch``), can answer late or with any status, and records every request it gets."""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import attrs

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "elasticsearch"


def fixture(name: str) -> dict[str, Any]:
    """A recorded Elasticsearch response body."""
    loaded: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return loaded


@attrs.frozen
class Reply:
    status: int
    body: Any
    delay_s: float = 0.0
    product_header: bool = True


@attrs.frozen
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


def endpoint_of(path: str, method: str = "GET") -> str:
    if path.startswith("/_cluster/health"):
        return "health"
    if path.endswith("/_search"):
        return "search"
    if path.endswith("/_count"):
        return "count"
    if path.endswith("/_bulk"):
        return "bulk"
    if path.endswith("/_refresh"):
        return "refresh"
    if method in {"PUT", "DELETE"} and path.count("/") == 1:
        return "create" if method == "PUT" else "delete"
    return "other"


def _decode(raw: bytes) -> Any:
    if not raw:
        return None
    text = raw.decode()
    try:
        return json.loads(text)
    except json.JSONDecodeError:  # a bulk request: JSON lines
        return [json.loads(line) for line in text.splitlines() if line.strip()]


def _bulk_reply(actions: list[dict[str, Any]]) -> dict[str, Any]:
    items = []
    for action in actions[::2]:
        meta = action["index"]
        items.append(
            {
                "index": {
                    "_index": meta["_index"],
                    "_id": meta["_id"],
                    "_version": 1,
                    "result": "created",
                    "_shards": {"total": 1, "successful": 1, "failed": 0},
                    "_seq_no": len(items),
                    "_primary_term": 1,
                    "status": 201,
                }
            }
        )
    return {"took": 3, "errors": False, "items": items}


class FakeCluster:
    """Serves queued replies per endpoint (``search``, ``count``, ``health``)."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._replies: dict[str, deque[Reply]] = defaultdict(deque)
        self._defaults = {
            "search": Reply(200, fixture("search_match.json")),
            "count": Reply(200, fixture("count.json")),
            "health": Reply(200, fixture("cluster_health_green.json")),
            "create": Reply(200, {"acknowledged": True, "shards_acknowledged": True}),
            "delete": Reply(200, {"acknowledged": True}),
            "refresh": Reply(200, {"_shards": {"total": 1, "successful": 1, "failed": 0}}),
            "bulk": Reply(200, "bulk"),
            "other": Reply(405, {"error": "not served by the fake cluster", "status": 405}),
        }
        self._lock = threading.Lock()
        cluster = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                recorded = Recorded(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=_decode(raw),
                )
                reply = cluster._next(recorded)
                if reply.body == "bulk":
                    reply = attrs.evolve(reply, body=_bulk_reply(recorded.body))
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                payload = json.dumps(reply.body).encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    if reply.product_header:
                        self.send_header("X-Elastic-Product", "Elasticsearch")
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (a timeout test)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def reply(self, endpoint: str, *replies: Reply) -> None:
        """Queue answers for ``endpoint``; once used up, the default answer is served."""
        with self._lock:
            self._replies[endpoint].extend(replies)

    def _next(self, recorded: Recorded) -> Reply:
        endpoint = endpoint_of(recorded.path, recorded.method)
        with self._lock:
            self.requests.append(recorded)
            queue = self._replies[endpoint]
            return queue.popleft() if queue else self._defaults[endpoint]

    def endpoints(self) -> list[str]:
        return [endpoint_of(r.path, r.method) for r in self.requests]

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
