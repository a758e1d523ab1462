"""Reading the export guard's configuration file: a bad one is one line naming the problem."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airgap.domain.model.export_guard import ExportGuard, IndexGuard
from airgap.entrypoints.bootstrap.export_guard import load_export_guard
from airgap.entrypoints.bootstrap.settings import SettingsError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "guard.json"
    path.write_text(text, encoding="utf-8")
    return path


def test_no_file_lets_everything_through() -> None:
    assert load_export_guard(None) == ExportGuard()


def test_a_file_is_read_into_the_guard(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        json.dumps({"indices": {"products": {"drop_fields": ["internal_notes"], "max_hits": 5}}}),
    )
    guard = load_export_guard(path)
    assert guard.for_index("products") == IndexGuard(drop_fields=("internal_notes",), max_hits=5)
    assert guard.for_index("orders") == IndexGuard()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, "AIRGAP_EXPORT_GUARD: cannot read {path}: No such file or directory"),
        ('{"indices": {', "AIRGAP_EXPORT_GUARD: {path} is not valid JSON: Expecting"),
        ("{\n  'indices': {}\n}", "(line 2, column 3)"),
        (
            '{"indices": {"products": {"max_hits": "ten"}}}',
            "AIRGAP_EXPORT_GUARD: {path}: indices.products.max_hits: must be a whole number or "
            "null, not a string",
        ),
        ('{"default": {"drop_fields": [""]}}', "default.drop_fields[0]: '' is not a field path"),
    ],
)
def test_a_bad_file_is_one_line_naming_the_problem(
    tmp_path: Path, text: str | None, expected: str
) -> None:
    path = tmp_path / "missing.json" if text is None else write(tmp_path, text)
    with pytest.raises(SettingsError) as raised:
        load_export_guard(path)
    message = str(raised.value)
    assert expected.format(path=path) in message
    assert "\n" not in message


def test_a_file_that_is_not_text(tmp_path: Path) -> None:
    path = tmp_path / "guard.json"
    path.write_bytes(b"\xff\xfe{}")
    with pytest.raises(SettingsError, match="is not UTF-8 text"):
        load_export_guard(path)
