"""``airgap up`` and ``airgap carrier pause|resume``."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import click

from airgap.domain.model.batching import Network


@click.command("up")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(".airgap"),
    show_default=True,
    help="Where everything lives; reused on the next start.",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--request-port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--response-port", type=click.IntRange(1, 65535), default=8001, show_default=True)
@click.option(
    "--carrier",
    type=click.Choice(["auto", "manual"]),
    default="auto",
    show_default=True,
    help="auto: batches cross within a second; manual: they wait for `airgap transfer`.",
)
@click.option("--no-sample-data", is_flag=True, help="Do not load the products sample.")
def up(
    data_dir: Path,
    host: str,
    request_port: int,
    response_port: int,
    carrier: str,
    no_sample_data: bool,
) -> None:
    """Run both networks on this machine on embedded defaults."""
    from airgap.entrypoints.up.layout import Layout
    from airgap.entrypoints.up.seeding import load_sample_data, network_settings, seed_accounts
    from airgap.entrypoints.up.supervisor import (
        AutoCarrier,
        Supervisor,
        base_environment,
        child_environment,
        migrate_all,
        start_servers,
        wait_ready,
    )

    echo = click.echo
    layout = Layout(data_dir.resolve())
    layout.create()
    env = base_environment()
    echo(f"airgap up — data directory {layout.root}")
    echo("batches travel through:")
    for line in layout.describe():
        echo(line)

    servers = start_servers(layout, env, echo)
    supervisor = Supervisor(echo)
    stop = threading.Event()
    supervisor.install_signal_handlers(stop.set)
    auto: AutoCarrier | None = None
    try:
        migrate_all(servers, echo)
        response_settings = network_settings(
            env,
            Network.RESPONSE,
            layout.root,
            servers.database_urls[Network.RESPONSE],
            servers.redis_urls[Network.RESPONSE],
        )
        if not no_sample_data and not response_settings.elasticsearch_url:
            load_sample_data(response_settings.search_dir, echo)
        chosen = seed_accounts(response_settings, env, layout.credentials, echo)

        logs = layout.root / "logs"
        ports = {Network.REQUEST: request_port, Network.RESPONSE: response_port}
        for network in Network:
            child_env = child_environment(env, layout, servers, network)
            name = network.value
            supervisor.spawn(
                f"{name} api",
                [name, "api", "--host", host, "--port", str(ports[network])],
                child_env,
                logs / f"{name}-api.log",
            )
            supervisor.spawn(
                f"{name} worker", [name, "worker"], child_env, logs / f"{name}-worker.log"
            )
            supervisor.spawn(
                f"{name} scheduler", [name, "scheduler"], child_env, logs / f"{name}-scheduler.log"
            )
        if carrier == "auto":
            auto = AutoCarrier(layout, echo)
            auto.start()
            echo("automatic carrier: on (pause with `airgap carrier pause --data-dir DIR`)")
        else:
            echo("carrier: manual — carry with `airgap transfer --from OUTBOX --to INBOX`")

        for network in Network:
            url = f"http://{host}:{ports[network]}/health/ready"
            if wait_ready(url, 90, stop):
                echo(f"{network.value} network API ready: http://{host}:{ports[network]}")
            elif not stop.is_set():
                raise click.ClickException(
                    f"the {network.value} API did not become ready; see {logs}"
                )
        _print_welcome(echo, host, ports, chosen)
        while not stop.wait(1.0):
            failed = supervisor.failed()
            if failed is not None:
                raise click.ClickException(
                    f"{failed.name} exited with code {failed.process.returncode}; see {logs}"
                )
    finally:
        echo("stopping …")
        if auto is not None:
            auto.stop()
        supervisor.stop()
        servers.stop()
        echo("stopped")


def _print_welcome(
    echo: Callable[[str], None],
    host: str,
    ports: dict[Network, int],
    chosen: dict[str, str],
) -> None:
    request = f"http://{host}:{ports[Network.REQUEST]}"
    response = f"http://{host}:{ports[Network.RESPONSE]}"
    echo("")
    echo(f"request network  {request}   (docs: {request}/schema)")
    echo(f"response network {response}   (docs: {response}/schema)")
    if chosen:
        echo("new accounts (shown once; also kept in credentials.txt in the data directory):")
        for username, password in chosen.items():
            echo(f"  {username:<6} {password}")
    echo("")
    echo("try it:")
    echo(
        f"  TOKEN=$(curl -s -X POST {request}/api/v1/auth/login -H 'Content-Type: application/json'"
        ' -d \'{"username": "alice", "password": "<password>"}\' | python3 -c '
        "'import json,sys; print(json.load(sys.stdin)[\"access_token\"])')"
    )
    echo(
        f'  curl -s -X POST {request}/api/v1/requests -H "Authorization: Bearer $TOKEN" '
        '-H \'Content-Type: application/json\' -d \'{"query_type": "match", "query_params": '
        '{"index": "products", "query": {"match": {"name": "kettle"}}}}\''
    )
    echo("")
    echo("Ctrl-C stops everything.")


@click.group("carrier")
def carrier() -> None:
    """Control the automatic carrier of a running `airgap up`."""


@carrier.command("pause")
@click.option(
    "--data-dir", type=click.Path(file_okay=False, path_type=Path), default=Path(".airgap")
)
def pause(data_dir: Path) -> None:
    """Stop carrying batches (they wait in the outboxes)."""
    flag = data_dir / "carrier.paused"
    flag.parent.mkdir(parents=True, exist_ok=True)
    flag.touch()
    click.echo("carrier paused")


@carrier.command("resume")
@click.option(
    "--data-dir", type=click.Path(file_okay=False, path_type=Path), default=Path(".airgap")
)
def resume(data_dir: Path) -> None:
    """Carry batches again."""
    (data_dir / "carrier.paused").unlink(missing_ok=True)
    click.echo("carrier resumed")
