"""The pipeline's commands, attached to ``airgap request`` and ``airgap response``:

- ``worker`` — Dramatiq workers (and, on the response network, the query executors);
- ``scheduler`` — the periodic jobs and the inbox watcher;
- run-once commands for operators and tests, each printing what it did:
  ``airgap request export-now``, ``airgap request import-now``, ``airgap response
  import-now``, ``airgap response execute-now [--max N]``, ``airgap response export-now``.

Every command takes ``--data-dir`` (default ``$AIRGAP_DATA_DIR`` or ``./.airgap``); the rest
comes from the ``AIRGAP_*`` settings (``docs/settings.md``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click

if TYPE_CHECKING:
    from airgap.domain.model.batching import Network
    from airgap.entrypoints.bootstrap.settings import Settings
    from airgap.entrypoints.worker.config import PipelineSettings
    from airgap.entrypoints.worker.jobs import JobSummary
    from airgap.entrypoints.worker.runtime import RequestPipeline, ResponsePipeline

F = TypeVar("F", bound=Callable[..., None])


def data_dir_option(command: F) -> F:
    return click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Where embedded servers, outbox and inbox live "
        "(default: $AIRGAP_DATA_DIR or ./.airgap).",
    )(command)


def _settings(network_name: str, data_dir: Path | None) -> tuple[Settings, PipelineSettings]:
    from airgap.domain.model.batching import Network
    from airgap.entrypoints.bootstrap.settings import Settings, SettingsError
    from airgap.entrypoints.worker.config import PipelineSettings

    network = Network(network_name)
    try:
        return (
            Settings.from_env(network=network, data_dir=data_dir),
            PipelineSettings.from_env(network),
        )
    except SettingsError as error:
        raise click.ClickException(str(error)) from None


@contextmanager
def _servers_reachable() -> Iterator[None]:
    """A database or Redis that cannot be reached is one line, not a traceback."""
    import redis
    from sqlalchemy.exc import OperationalError

    try:
        yield
    except OperationalError as error:
        cause = str(error.orig or error).strip().splitlines()
        raise click.ClickException(f"database: {cause[0] if cause else error}") from None
    except redis.ConnectionError as error:
        raise click.ClickException(f"redis: {error}") from None


def _network(name: str) -> Network:
    from airgap.domain.model.batching import Network

    return Network(name)


def _run_request_job(data_dir: Path | None, job: Callable[[RequestPipeline], JobSummary]) -> None:
    from airgap.entrypoints.worker.logs import configure_logging
    from airgap.entrypoints.worker.runtime import request_pipeline

    settings, pipeline = _settings("request", data_dir)
    configure_logging(settings.log_level)
    with _servers_reachable(), request_pipeline(settings, pipeline) as running:
        click.echo(job(running).text)


def _run_response_job(data_dir: Path | None, job: Callable[[ResponsePipeline], JobSummary]) -> None:
    from airgap.entrypoints.worker.logs import configure_logging
    from airgap.entrypoints.worker.runtime import response_pipeline

    settings, pipeline = _settings("response", data_dir)
    configure_logging(settings.log_level)
    with _servers_reachable(), response_pipeline(settings, pipeline) as running:
        click.echo(job(running).text)


# --- long-running processes -------------------------------------------------------------------


def _worker(
    network_name: str,
    processes: int | None,
    threads: int | None,
    executors: int | None,
    data_dir: Path | None,
) -> None:
    import attrs

    from airgap.entrypoints.worker.process import run_worker

    settings, pipeline = _settings(network_name, data_dir)
    if processes is not None:
        pipeline = attrs.evolve(pipeline, processes=processes)
    if threads is not None:
        pipeline = attrs.evolve(pipeline, threads=threads)
    if executors is not None:
        pipeline = attrs.evolve(pipeline, executor_threads=executors)
    with _servers_reachable():
        code = run_worker(_network(network_name), settings, pipeline)
    raise SystemExit(code)


PROCESSES = click.option(
    "--processes",
    type=click.IntRange(1, 64),
    default=None,
    help="Worker processes (default: $AIRGAP_WORKER_PROCESSES or 1).",
)
THREADS = click.option(
    "--threads",
    type=click.IntRange(1, 256),
    default=None,
    help="Dramatiq threads per process (default: $AIRGAP_WORKER_THREADS or 8).",
)


@click.command("worker")
@PROCESSES
@THREADS
@data_dir_option
def request_worker(processes: int | None, threads: int | None, data_dir: Path | None) -> None:
    """Run the request network's workers: export requests, import results and users,
    re-send, cleanup, notifications. Stops gracefully on SIGTERM or Ctrl-C."""
    _worker("request", processes, threads, None, data_dir)


@click.command("worker")
@PROCESSES
@THREADS
@click.option(
    "--executors",
    type=click.IntRange(0, 256),
    default=None,
    help="Query executor threads per process (default: $AIRGAP_EXECUTOR_THREADS or 8).",
)
@data_dir_option
def response_worker(
    processes: int | None, threads: int | None, executors: int | None, data_dir: Path | None
) -> None:
    """Run the response network's workers: import requests, execute queries, export results
    and users, re-send, cache maintenance, health checks. Stops gracefully on SIGTERM or
    Ctrl-C: jobs in hand finish (or are released after the grace period)."""
    _worker("response", processes, threads, executors, data_dir)


def _scheduler(network_name: str, data_dir: Path | None) -> None:
    from airgap.entrypoints.worker.scheduler import run_scheduler

    settings, pipeline = _settings(network_name, data_dir)
    with _servers_reachable():
        code = run_scheduler(_network(network_name), settings, pipeline)
    raise SystemExit(code)


@click.command("scheduler")
@data_dir_option
def request_scheduler(data_dir: Path | None) -> None:
    """Send the request network's periodic jobs (export every 2 min, import every 30 s,
    re-send, nightly cleanup) and import as soon as a batch lands in the inbox."""
    _scheduler("request", data_dir)


@click.command("scheduler")
@data_dir_option
def response_scheduler(data_dir: Path | None) -> None:
    """Send the response network's periodic jobs (import every 30 s, export every 2 min,
    users, re-send, hourly cache maintenance, health check every 5 min) and import as soon
    as a batch lands in the inbox."""
    _scheduler("response", data_dir)


# --- run once ---------------------------------------------------------------------------------


@click.command("export-now")
@data_dir_option
def request_export_now(data_dir: Path | None) -> None:
    """Pack every pending request into batches in the outbox now."""
    _run_request_job(data_dir, lambda p: p.jobs.export_requests("all"))


@click.command("import-now")
@data_dir_option
def request_import_now(data_dir: Path | None) -> None:
    """Import every batch waiting in the inbox now (results, users, acks)."""
    _run_request_job(data_dir, lambda p: p.jobs.import_inbox())


@click.command("import-now")
@data_dir_option
def response_import_now(data_dir: Path | None) -> None:
    """Import every batch waiting in the inbox now (requests, acks)."""
    _run_response_job(data_dir, lambda p: p.jobs.import_inbox())


@click.command("execute-now")
@click.option(
    "--max",
    "max_jobs",
    type=click.IntRange(1, 1_000_000),
    default=1000,
    show_default=True,
    help="Run at most this many queries.",
)
@data_dir_option
def response_execute_now(max_jobs: int, data_dir: Path | None) -> None:
    """Run queued queries now, until none is waiting or --max ran."""
    _run_response_job(data_dir, lambda p: p.jobs.execute(max_jobs))


@click.command("export-now")
@data_dir_option
def response_export_now(data_dir: Path | None) -> None:
    """Pack every finished result into batches in the outbox now (and a users snapshot if
    accounts changed)."""

    def both(p: ResponsePipeline) -> JobSummary:
        from airgap.entrypoints.worker.jobs import JobSummary

        results = p.jobs.export_results("all")
        users = p.jobs.export_users()
        return JobSummary(
            "export", f"{results.text}; {users.text}", {**results.fields, "users": users.fields}
        )

    _run_response_job(data_dir, both)


REQUEST_COMMANDS = (request_worker, request_scheduler, request_export_now, request_import_now)
RESPONSE_COMMANDS = (
    response_worker,
    response_scheduler,
    response_import_now,
    response_execute_now,
    response_export_now,
)
