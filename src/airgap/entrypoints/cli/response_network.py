"""``airgap response``: the response network's processes (``api`` here; workers and the
scheduler join this group)."""

from __future__ import annotations

import os
from pathlib import Path

import click


@click.group("response")
def response() -> None:
    """Run the response network's processes."""


@response.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8001, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="Processes."
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where embedded servers, outbox and inbox live (default: $AIRGAP_DATA_DIR or ./.airgap).",
)
def api(host: str, port: int, workers: int, data_dir: Path | None) -> None:
    """Serve the monitoring and admin API (OpenAPI docs at /schema)."""
    import tempfile

    from airgap.domain.model.batching import Network
    from airgap.entrypoints.bootstrap.settings import Settings, SettingsError
    from airgap.entrypoints.http.common.serving import serve

    if data_dir is not None:
        os.environ["AIRGAP_DATA_DIR"] = str(data_dir)
    try:
        Settings.from_env(network=Network.RESPONSE)  # fail here, not in every worker
    except SettingsError as error:
        raise click.ClickException(str(error)) from None
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Several processes: /metrics sums every worker's counts from files here.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="airgap-metrics-")
    click.echo(f"response network API on http://{host}:{port} (docs: /schema)")
    # The shared runner sets TCP_NODELAY on the listening socket: without it every
    # keep-alive response waits ~40 ms for the client's acknowledgement.
    serve(
        "airgap.entrypoints.http.response_network.asgi:build",
        host=host,
        port=port,
        workers=workers,
    )
