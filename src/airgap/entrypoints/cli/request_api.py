"""What ``airgap request api`` does before uvicorn starts its workers: read the settings,
start the embedded servers once (the workers join them through the environment), check that
the database's schema is current, make the JWT secret, and give the workers a shared
directory for their metrics."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from airgap.entrypoints.bootstrap.settings import Settings

APP_FACTORY = "airgap.entrypoints.http.request_network.app:app_from_env"


@contextmanager
def prepare_request_api(workers: int, *, echo: Callable[[str], None]) -> Iterator[Settings]:
    """Everything the workers need, for as long as they run. Raises ClickException with
    the reason when the API cannot start."""
    from sqlalchemy.exc import SQLAlchemyError

    from airgap.adapters.redis.embedded import EmbeddedRedis
    from airgap.domain.model.batching import Network
    from airgap.entrypoints.bootstrap.containers import database_url, secret_key
    from airgap.entrypoints.bootstrap.settings import Settings, SettingsError

    try:
        settings = Settings.from_env(network=Network.REQUEST)
    except SettingsError as error:
        raise click.ClickException(str(error)) from None
    embedded_redis: EmbeddedRedis | None = None
    try:
        url = database_url(settings)  # the embedded server starts here when none is set
        os.environ["AIRGAP_REQUEST_DATABASE_URL"] = url
        if not settings.redis_url:
            embedded_redis = EmbeddedRedis(settings.network_dir)
            os.environ["AIRGAP_REQUEST_REDIS_URL"] = embedded_redis.start()
            echo(f"embedded Redis: {os.environ['AIRGAP_REQUEST_REDIS_URL']}")
        _check_schema(url)
        secret_key(settings)  # made once here, so every worker signs with the same one
        if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="airgap-metrics-")
        yield settings
    except SQLAlchemyError as error:
        cause = getattr(error, "orig", None) or error
        raise click.ClickException(f"database: {str(cause).strip().splitlines()[0]}") from None
    finally:
        if embedded_redis is not None:
            embedded_redis.stop()


def _check_schema(url: str) -> None:
    from airgap.adapters.postgres import migrate

    try:
        newest = migrate.head("request")
    except FileNotFoundError:
        return  # an installation without the migration scripts: nothing to compare with
    found = migrate.current("request", url)
    if found != newest:
        raise click.ClickException(
            f"the request database is at {found or 'no revision'}, not {newest}: "
            "run `airgap db upgrade --network request` first"
        )


def serve_request_api(host: str, port: int, workers: int, log_level: str = "info") -> None:
    from airgap.entrypoints.http.common.logging import configure_logging
    from airgap.entrypoints.http.common.serving import serve

    configure_logging(log_level)  # the supervising process logs as JSON too
    serve(APP_FACTORY, host=host, port=port, workers=workers)
