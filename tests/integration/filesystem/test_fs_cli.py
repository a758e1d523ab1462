"""``airgap keys``, ``airgap batch`` and ``airgap transfer``: exit codes and one-line
messages, never a traceback."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from airgap.entrypoints.cli.main import cli
from support.manifests import resealed


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def one_line_error(result: Result) -> str:
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output + result.stderr
    return lines[0]


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, Path]:
    result = run("keys", "generate", "--out", tmp_path / "keys")
    assert result.exit_code == 0, result.output
    found = {p.name.split("-")[0] + p.suffix: p for p in (tmp_path / "keys").iterdir()}
    return {
        "signing": found["signing.key"],
        "public": found["signing.pub"],
        "encryption": found["encryption.key"],
    }


def sample(tmp_path: Path, *extra: str | Path, count: int = 5) -> tuple[Path, Path]:
    out = tmp_path / "out"
    result = run("batch", "sample", "--count", str(count), "--out", out, "--seed", "7", *extra)
    assert result.exit_code == 0, result.output + result.stderr
    manifest, payload = result.output.splitlines()[:2]
    return Path(manifest), Path(payload)


def test_keys_generate_writes_private_files_named_by_key_id(
    tmp_path: Path, keys: dict[str, Path]
) -> None:
    for path in keys.values():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    listing = run("keys", "generate", "--out", tmp_path / "more").output
    assert "signing key id" in listing and "encryption key id" in listing


def test_a_sample_batch_verifies_by_manifest_or_payload(tmp_path: Path) -> None:
    manifest, payload = sample(tmp_path)
    for path in (manifest, payload):
        result = run("batch", "verify", path, "--network", "response")
        assert result.exit_code == 0, result.stderr
        assert result.output.startswith("valid: requests batch ")
        assert "5 records read" in result.output


def test_a_signed_encrypted_sample_needs_the_right_keys(
    tmp_path: Path, keys: dict[str, Path]
) -> None:
    manifest, _ = sample(
        tmp_path, "--sign", keys["signing"], "--encrypt", keys["encryption"], count=20
    )
    full = ("--public-key", keys["public"], "--key", keys["encryption"])
    assert run("batch", "verify", manifest, *full).exit_code == 0
    unchecked = run("batch", "verify", manifest, "--key", keys["encryption"])
    assert unchecked.exit_code == 0
    assert "signature not checked" in unchecked.output

    no_key = run("batch", "verify", manifest)
    assert no_key.exit_code == 1
    assert one_line_error(no_key) == (
        "Error: invalid batch: encrypted batch, but no decryption key is configured"
    )
    run("keys", "generate", "--out", tmp_path / "other")
    (stranger,) = (tmp_path / "other").glob("signing-*.pub")
    wrong = run("batch", "verify", manifest, "--public-key", stranger, "--key", keys["encryption"])
    assert wrong.exit_code == 1
    assert "invalid batch: unknown signing key id" in one_line_error(wrong)
    elsewhere = run("batch", "verify", manifest, *full, "--network", "request")
    assert "wrong destination" in one_line_error(elsewhere)


def _edit_manifest(*, reseal: bool = True, **changes: object) -> Callable[[Path, Path], None]:
    def edit(manifest: Path, _payload: Path) -> None:
        data = json.loads(manifest.read_bytes())
        data.update(changes)
        manifest.write_text(json.dumps(resealed(data) if reseal else data))

    return edit


def _rewrite_payload(edit: Callable[[bytes], bytes]) -> Callable[[Path, Path], None]:
    def apply(manifest: Path, payload: Path) -> None:
        import hashlib

        changed = edit(payload.read_bytes())
        payload.write_bytes(changed)
        data = json.loads(manifest.read_bytes())
        data.update(payload_size=len(changed), payload_sha256=hashlib.sha256(changed).hexdigest())
        manifest.write_text(json.dumps(resealed(data)))

    return apply


def _second_line(line: bytes) -> Callable[[bytes], bytes]:
    def edit(payload: bytes) -> bytes:
        lines = payload.split(b"\n")
        lines[1] = line
        return b"\n".join(lines)

    return edit


BROKEN: dict[str, tuple[Callable[[Path, Path], None], str]] = {
    "bad checksum": (
        lambda m, p: p.write_bytes(p.read_bytes().replace(b"match", b"mAtch", 1)),
        "payload checksum mismatch",
    ),
    "truncated payload": (
        lambda m, p: p.write_bytes(p.read_bytes()[:-10]),
        "payload size mismatch: manifest says",
    ),
    "record-count mismatch": (_edit_manifest(record_count=6), "record count mismatch"),
    "damaged manifest": (
        _edit_manifest(sequence=2, reseal=False),
        "manifest_sha256 does not match its contents",
    ),
    "bad signature": (_edit_manifest(sequence=2), "bad signature"),
    "oversize": (_edit_manifest(payload_size=65 * 1024 * 1024), "payload larger than"),
    "malformed record": (_rewrite_payload(_second_line(b"{not json")), "malformed record 2"),
    "missing payload": (lambda m, p: p.unlink(), "is missing"),
}


@pytest.mark.parametrize("problem", list(BROKEN))
def test_verify_names_what_is_wrong_in_one_line(
    tmp_path: Path, keys: dict[str, Path], problem: str
) -> None:
    spoil, reason = BROKEN[problem]
    sign = ("--sign", keys["signing"]) if problem == "bad signature" else ()
    manifest, payload = sample(tmp_path, *sign)
    spoil(manifest, payload)
    check = ("--public-key", keys["public"]) if sign else ()
    result = run("batch", "verify", manifest, *check)
    assert result.exit_code == 1
    line = one_line_error(result)
    assert line.startswith("Error: invalid batch: ") and reason in line, line


def test_verify_refuses_what_is_not_a_batch(tmp_path: Path) -> None:
    manifest, payload = sample(tmp_path)
    manifest.unlink()
    missing = run("batch", "verify", payload)
    assert missing.exit_code == 1
    assert "no manifest" in one_line_error(missing)
    other = tmp_path / "notes.txt"
    other.write_text("hello")
    assert "not a batch file name" in one_line_error(run("batch", "verify", other))


def test_a_bad_key_file_is_a_usage_error(tmp_path: Path) -> None:
    key = tmp_path / "bad.key"
    key.write_text("garbage")
    result = run("batch", "sample", "--out", tmp_path / "out", "--sign", key)
    assert result.exit_code == 2
    assert "--sign" in result.stderr and "not an unencrypted PEM private key" in result.stderr
    assert "Traceback" not in result.stderr


def test_inspect_prints_the_manifest_and_a_record_summary(
    tmp_path: Path, keys: dict[str, Path]
) -> None:
    manifest, _ = sample(tmp_path, "--encrypt", keys["encryption"], count=12)
    result = run("batch", "inspect", manifest, "--key", keys["encryption"])
    assert result.exit_code == 0, result.stderr
    text = result.output
    for label in ("batch", "channel", "sequence", "payload sha256", "encryption", "by priority"):
        assert f"\n{label} " in f"\n{text}"
    assert "records read        12" in text
    assert "request 12" in text
    assert len(text.splitlines()) < 25  # one screen
    locked = run("batch", "inspect", manifest)
    assert locked.exit_code == 1
    assert "records not readable" in one_line_error(locked)
    assert "AES-256-GCM" in locked.output  # the manifest was still shown


def test_transfer_carries_once_and_summarises(tmp_path: Path) -> None:
    out, inbox = tmp_path / "out", tmp_path / "inbox"
    inbox.mkdir()
    for sequence in ("1", "2", "4"):
        sample(tmp_path, "--sequence", sequence)
    run("batch", "sample", "--type", "users", "--count", "2", "--out", out)

    result = run("transfer", "--from", out, "--to", inbox)

    assert result.exit_code == 0, result.stderr
    lines = result.output.splitlines()
    assert lines[0].startswith("carried 4 batches: 17 records, ")
    assert "  request->response sequences 1-2, 4" in lines
    assert "  response->request sequences 1" in lines
    again = run("transfer", "--from", out, "--to", inbox)
    assert again.output.startswith("carried 0 batches: 0 records, 0 bytes")


def test_transfer_leaves_a_corrupt_batch_behind_and_says_so(tmp_path: Path) -> None:
    manifest, payload = sample(tmp_path)
    payload.write_bytes(payload.read_bytes() + b"\n")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    result = run("transfer", "--from", manifest.parent, "--to", inbox)
    assert result.exit_code == 1
    assert result.stderr.startswith("left behind requests_")
    assert "payload size mismatch" in result.stderr
    assert list(inbox.iterdir()) == []


def test_the_installed_command_verifies_in_a_real_process(tmp_path: Path) -> None:
    airgap = Path(sys.executable).with_name("airgap")
    manifest, payload = sample(tmp_path)

    good = subprocess.run(
        [airgap, "batch", "verify", manifest], capture_output=True, text=True, check=False
    )
    assert good.returncode == 0, good.stderr
    assert good.stdout.startswith("valid: ") and good.stderr == ""

    payload.write_bytes(payload.read_bytes()[:-1] + b" ")
    bad = subprocess.run(
        [airgap, "batch", "verify", payload], capture_output=True, text=True, check=False
    )
    assert bad.returncode == 1
    assert bad.stderr == "Error: invalid batch: payload checksum mismatch\n"
    assert bad.stdout == ""
