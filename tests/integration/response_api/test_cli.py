"""``airgap users create`` and ``airgap response api`` from the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from airgap.adapters.postgres.unit_of_work import PostgresResponseStore
from airgap.domain.model.users import ProfileType, Role
from airgap.entrypoints.cli.main import cli
from integration.response_api.conftest import PASSWORD


@pytest.fixture
def env(response_database_url: str, tmp_path: Path) -> dict[str, str]:
    return {"AIRGAP_RESPONSE_DATABASE_URL": response_database_url, "AIRGAP_DATA_DIR": str(tmp_path)}


def test_users_create_reads_the_password_from_stdin(
    env: dict[str, str], response_database_url: str, tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        cli,
        [
            *("users", "create", "--username", "ops", "--email", "ops@example.org"),
            *("--profile", "premium", "--role", "operator", "--password-stdin"),
            *("--data-dir", str(tmp_path)),
        ],
        input=PASSWORD + "\n",
        env=env,
    )
    assert result.exit_code == 0, result.output
    assert "created ops (operator, premium)" in result.output
    store = PostgresResponseStore.from_url(response_database_url)
    try:
        with store.unit_of_work() as uow:
            user = uow.users.get_by_username("ops")
            entries = uow.system_logs.entries()
        assert user is not None and user.role is Role.OPERATOR
        assert user.profile_type is ProfileType.PREMIUM and user.version == 1
        assert entries[-1].details["action"] == "user.create"
        assert str(entries[-1].details["actor"]).startswith("cli:")
    finally:
        store.dispose()

    again = CliRunner().invoke(
        cli,
        ["users", "create", "--username", "ops", "--email", "x@example.org", "--password-stdin"],
        input=PASSWORD + "\n",
        env=env,
    )
    assert again.exit_code == 1 and "conflict: username 'ops' is taken" in again.output
    weak = CliRunner().invoke(
        cli,
        ["users", "create", "--username", "new", "--email", "n@example.org", "--password-stdin"],
        input="short\n",
        env=env,
    )
    assert weak.exit_code == 1 and "validation_error: password" in weak.output
    assert "Traceback" not in again.output + weak.output


def test_users_create_says_how_to_migrate_an_empty_database(
    empty_database_url: str, tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        cli,
        ["users", "create", "--username", "ops", "--email", "o@example.org", "--password-stdin"],
        input=PASSWORD + "\n",
        env={"AIRGAP_RESPONSE_DATABASE_URL": empty_database_url, "AIRGAP_DATA_DIR": str(tmp_path)},
    )
    assert result.exit_code == 1
    assert "airgap db upgrade --network response" in result.output


def test_response_api_command_is_registered() -> None:
    result = CliRunner().invoke(cli, ["response", "api", "--help"])
    assert result.exit_code == 0
    for option in ("--host", "--port", "--workers"):
        assert option in result.output
