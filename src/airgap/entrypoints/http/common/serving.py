"""Serving an app with uvicorn, several worker processes on one listening socket.

With more than one worker, uvicorn binds the socket itself, with protocol 0, and asyncio
then leaves Nagle's algorithm on for every connection (it sets ``TCP_NODELAY`` only on
sockets whose protocol says TCP). A response written as headers, then body, then waits for
the client's delayed acknowledgement: about 40 ms on every keep-alive request. Setting
``TCP_NODELAY`` on the listening socket fixes it, because Linux copies the option to each
accepted connection.
"""

from __future__ import annotations

import socket
import sys

import uvicorn
from uvicorn.supervisors import Multiprocess


class NoDelayConfig(uvicorn.Config):
    """uvicorn's configuration, binding a listening socket that does not delay writes."""

    def bind_socket(self) -> socket.socket:
        sock = super().bind_socket()
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock


def serve(
    app: str,
    *,
    host: str,
    port: int,
    workers: int,
    factory: bool = True,
    app_dir: str | None = None,
) -> None:
    """Serve ``app`` (an import string, ``module:attribute``) until interrupted. Logging is
    the app's (JSON lines); uvicorn's own access log is off."""
    if app_dir is not None:
        sys.path.insert(0, app_dir)
    config = NoDelayConfig(
        app,
        factory=factory,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
    )
    server = uvicorn.Server(config)
    try:
        if workers > 1:
            Multiprocess(config, sockets=[config.bind_socket()]).run()
        else:
            server.run()
    except KeyboardInterrupt:
        pass
