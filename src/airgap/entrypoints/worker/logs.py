"""Structured logs for workers and schedulers: one JSON object per line on stderr.

Each job logs ``job.started`` and ``job.finished`` (with its counts, sizes and duration) or
``job.failed`` (with the error); Dramatiq's and APScheduler's own messages go through the
same renderer, so a log shipper sees one format.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING}


def configure_logging(level: str = "info", *, json: bool = True) -> None:
    """Send structlog and standard-library logging to stderr as JSON lines (or, with
    ``json=False``, as readable console lines)."""
    numeric = _LEVELS.get(level, logging.ERROR if level == "error" else logging.INFO)
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.format_exc_info,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    # APScheduler says "Running job …" at INFO for every tick: keep it for debugging only.
    logging.getLogger("apscheduler").setLevel(max(numeric, logging.WARNING))


def get_logger(name: str, **context: Any) -> Any:
    """A structlog logger bound to ``context`` (e.g. ``network="response"``)."""
    return structlog.get_logger(name).bind(**context)
