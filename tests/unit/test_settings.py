"""Settings come from AIRGAP_* variables, with per-network overrides and clear errors."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from airgap.domain.model.batching import Network
from airgap.entrypoints.bootstrap.settings import (
    SETTINGS_TABLE,
    Settings,
    SettingsError,
    settings_markdown,
)


def test_defaults_need_no_environment_at_all() -> None:
    settings = Settings.from_env({})
    assert settings.network is Network.REQUEST
    assert settings.database_url is None  # embedded PostgreSQL
    assert settings.outbox == Path(".airgap/request/outbox")
    assert settings.inbox == Path(".airgap/request/inbox")
    assert settings.limits.max_records == 500
    assert settings.transfer.ack_timeout == timedelta(minutes=30)
    assert settings.allowed_indices == frozenset({"products"})


def test_per_network_overrides_win_over_plain_names() -> None:
    env = {
        "AIRGAP_DATABASE_URL": "postgresql://shared/db",
        "AIRGAP_RESPONSE_DATABASE_URL": "postgresql://response/db",
        "AIRGAP_ALLOWED_INDICES": "products, logs-*",
        "AIRGAP_REQUIRE_SIGNATURE": "yes",
    }
    response = Settings.from_env(env, network=Network.RESPONSE, data_dir=Path("/srv/ag"))
    request = Settings.from_env(env, network=Network.REQUEST)
    assert response.database_url == "postgresql://response/db"
    assert request.database_url == "postgresql://shared/db"
    assert response.outbox == Path("/srv/ag/response/outbox")
    assert response.allowed_indices == frozenset({"products", "logs-*"})
    assert response.require_signature


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"AIRGAP_NETWORK": "middle"}, "AIRGAP_NETWORK"),
        ({"AIRGAP_BATCH_MAX_RECORDS": "lots"}, "AIRGAP_BATCH_MAX_RECORDS"),
        ({"AIRGAP_BATCH_MAX_RECORDS": "0"}, "AIRGAP_BATCH_MAX_RECORDS"),
        ({"AIRGAP_REQUIRE_SIGNATURE": "maybe"}, "AIRGAP_REQUIRE_SIGNATURE"),
        ({"AIRGAP_SECRET_KEY": "short"}, "AIRGAP_SECRET_KEY"),
        ({"AIRGAP_LOG_LEVEL": "loud"}, "AIRGAP_LOG_LEVEL"),
        ({"AIRGAP_ALLOWED_INDICES": " , "}, "AIRGAP_ALLOWED_INDICES"),
    ],
)
def test_a_bad_value_is_refused_naming_the_setting(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        Settings.from_env(env)


def test_the_documented_table_lists_every_setting_read() -> None:
    source = Path(__file__).resolve().parents[2] / "src/airgap/entrypoints/bootstrap/settings.py"
    read = set()
    for line in source.read_text().splitlines():
        for token in line.replace('"', " ").split():
            if token.isupper() and token.replace("_", "").isalpha() and "_" in token:
                read.add(token)
    documented = {s.name.removeprefix("AIRGAP_") for s in SETTINGS_TABLE}
    helpers = {"DATA_DIR", "NETWORK"}  # read through get() with their own names
    assert {t.removeprefix("AIRGAP_") for t in read if t.startswith("AIRGAP_")} <= documented
    assert helpers <= documented
    assert "| `AIRGAP_DATABASE_URL` |" in settings_markdown()
