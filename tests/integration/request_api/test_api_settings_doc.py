"""``docs/settings.md`` shows the settings table the code reads (``SETTINGS_TABLE``)."""

from __future__ import annotations

from pathlib import Path

from airgap.entrypoints.bootstrap.settings import settings_markdown

DOC = Path(__file__).resolve().parents[3] / "docs" / "settings.md"


def test_the_settings_document_is_current() -> None:
    assert settings_markdown() in DOC.read_text(encoding="utf-8"), (
        "regenerate docs/settings.md from settings_markdown()"
    )
