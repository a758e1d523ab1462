"""``airgap request``: the request network's processes (workers and the scheduler are
attached from :mod:`airgap.entrypoints.cli.pipeline`; the API joins this group)."""

from __future__ import annotations

import os
from pathlib import Path

import click


@click.group("request")
def request() -> None:
    """Run the request network's processes."""


@request.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--workers",
    default=2,
    show_default=True,
    type=click.IntRange(1, 64),
    help="API processes (each a uvicorn worker).",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where embedded servers, outbox and inbox live (default: $AIRGAP_DATA_DIR or ./.airgap).",
)
def api(host: str, port: int, workers: int, data_dir: Path | None) -> None:
    """Serve the public REST API (OpenAPI docs at /schema).

    The database must be migrated first (`airgap db upgrade --network request`): the API
    changes no schema. Without AIRGAP_DATABASE_URL / AIRGAP_REDIS_URL, the embedded servers
    under the data directory are started here, once, and every worker joins them.
    """
    from airgap.entrypoints.cli.request_api import prepare_request_api, serve_request_api

    if data_dir is not None:
        os.environ["AIRGAP_DATA_DIR"] = str(data_dir)
    with prepare_request_api(workers, echo=click.echo) as settings:
        click.echo(f"request network API on http://{host}:{port} (docs: /schema)")
        serve_request_api(host, port, workers, settings.log_level)
