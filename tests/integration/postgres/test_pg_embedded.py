"""The embedded default: with no database URL configured, PostgreSQL comes from the
``pgserver`` package, under the data directory, one database per network."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from airgap.adapters.postgres import migrate
from airgap.adapters.postgres.embedded import EmbeddedPostgres, ensure_database
from airgap.adapters.postgres.engine import libpq_url
from airgap.entrypoints.cli.main import cli


def test_airgap_db_upgrade_without_a_url_migrates_the_embedded_databases(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AIRGAP_DATABASE_URL", "AIRGAP_REQUEST_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("AIRGAP_RESPONSE_DATABASE_URL", raising=False)
    data_dir = tmp_path / "data"
    embedded = EmbeddedPostgres(data_dir)
    try:
        for network in ("request", "response"):
            result = CliRunner().invoke(
                cli, ["db", "upgrade", "--network", network, "--data-dir", str(data_dir)]
            )
            assert result.exit_code == 0, result.output
            assert f"airgap_{network}" in result.output

        assert (data_dir / "postgres" / "PG_VERSION").is_file()
        request_url = embedded.database_url("request")
        response_url = embedded.database_url("response")
        assert request_url != response_url  # one database per network, never shared tables
        assert migrate.current("request", request_url) == migrate.head("request")
        assert migrate.current("response", response_url) == migrate.head("response")
        with psycopg.connect(libpq_url(request_url)) as connection:
            tables = {
                row[0]
                for row in connection.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                )
            }
        assert {"requests", "responses", "audit_logs"} <= tables
        assert "incoming_requests" not in tables
        # Asking again neither fails nor creates anything.
        assert ensure_database(embedded.start(), "airgap_request") is False
    finally:
        embedded.stop()
