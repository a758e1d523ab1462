"""A writer that dies at any step leaves no batch or a complete one — never a half batch a
reader accepts — and writing the same batch again afterwards produces exactly one good
batch. Deaths are simulated three ways: a fault injected at each fsync/rename (with the
clean-up a dying process would not do suppressed), a forked child that SIGKILLs itself at
each step, and a real subprocess killed with SIGKILL from outside mid-write."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from filesystem_crossing import Keys, header, inbox_for, requests

from airgap.adapters.filesystem.files import NewFile
from airgap.adapters.filesystem.outbox import FilesystemOutbox
from airgap.domain.model.batching import BatchHeader, BatchLimits, Manifest
from airgap.domain.model.records import TransferRecord

# The writer's durable steps, in order: fsync payload, rename payload, fsync directory,
# fsync manifest, rename manifest (the commit), fsync directory.
STEPS = 6
COMMIT_STEP = 5


class Killed(BaseException):
    """The process "died" here: nothing after this point runs, not even clean-up."""


def outbox(directory: Path, keys: Keys, limits: BatchLimits | None = None) -> FilesystemOutbox:
    return FilesystemOutbox(
        directory, signer=keys.signer, cipher=keys.cipher, segment_size=1024, limits=limits
    )


def assert_none_or_complete(
    directory: Path, keys: Keys, records: list[TransferRecord]
) -> Manifest | None:
    """The reader sees no batch, or one it reads in full."""
    found = inbox_for(directory, keys, require_signature=True).pending()
    if not found:
        return None
    (batch,) = found
    manifest = batch.manifest()
    assert list(batch.records()) == records
    return manifest


def assert_retry_writes_one_good_batch(
    directory: Path, keys: Keys, batch: BatchHeader, records: list[TransferRecord]
) -> None:
    manifest = outbox(directory, keys).write(batch, records)
    assert assert_none_or_complete(directory, keys, records) == manifest
    leftovers = [p.name for p in directory.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


@pytest.fixture
def die_at(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], None]:
    """Make the n-th fsync-or-rename "kill" the writer; until the test ends, deleting files
    does nothing (a dead process cleans up nothing)."""

    def arm(step: int) -> None:
        calls = 0
        real = {"fsync": os.fsync, "replace": os.replace}

        def counted(name: str) -> Callable[..., Any]:
            def call(*args: Any) -> Any:
                nonlocal calls
                calls += 1
                if calls == step:
                    monkeypatch.setattr(os, "unlink", lambda *_a, **_k: None)
                    raise Killed(f"step {step}")
                return real[name](*args)

            return call

        monkeypatch.setattr(os, "fsync", counted("fsync"))
        monkeypatch.setattr(os, "replace", counted("replace"))

    return arm


@pytest.mark.parametrize("step", range(1, STEPS + 1))
def test_a_writer_dying_at_each_step_leaves_no_batch_or_a_whole_one(
    keys: Keys,
    tmp_path: Path,
    die_at: Callable[[int], None],
    monkeypatch: pytest.MonkeyPatch,
    step: int,
) -> None:
    records: list[TransferRecord] = list(requests(30))
    batch = header()
    die_at(step)
    with pytest.raises(Killed):
        outbox(tmp_path, keys).write(batch, records)
    monkeypatch.undo()

    manifest = assert_none_or_complete(tmp_path, keys, records)
    assert (manifest is not None) == (step > COMMIT_STEP)
    assert_retry_writes_one_good_batch(tmp_path, keys, batch, records)


def test_a_writer_dying_while_writing_the_payload_leaves_no_batch(
    keys: Keys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    records: list[TransferRecord] = list(requests(30))
    batch = header()
    writes = 0
    real_write = NewFile.write

    def dying_write(self: NewFile, data: Any) -> None:
        nonlocal writes
        writes += 1
        if writes == 3:
            real_write(self, bytes(data)[: len(data) // 2])
            monkeypatch.setattr(os, "unlink", lambda *_a, **_k: None)
            raise Killed("mid-payload")
        real_write(self, data)

    monkeypatch.setattr(NewFile, "write", dying_write)
    with pytest.raises(Killed):
        outbox(tmp_path, keys).write(batch, records)
    monkeypatch.undo()

    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] != []
    assert assert_none_or_complete(tmp_path, keys, records) is None
    assert_retry_writes_one_good_batch(tmp_path, keys, batch, records)


def _forked(child: Callable[[], None]) -> int:
    """Run ``child`` in a forked process; return the signal that ended it (0 if none)."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        try:
            child()
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    return os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0


@pytest.mark.parametrize("step", range(1, STEPS + 1))
def test_a_writer_sigkilled_at_each_step_leaves_no_batch_or_a_whole_one(
    keys: Keys, tmp_path: Path, step: int
) -> None:
    records: list[TransferRecord] = list(requests(30))
    batch = header()

    def child() -> None:  # pragma: no cover - runs in the child
        calls = 0
        real = {"fsync": os.fsync, "replace": os.replace}

        def counted(name: str) -> Callable[..., Any]:
            def call(*args: Any) -> Any:
                nonlocal calls
                calls += 1
                if calls == step:
                    os.kill(os.getpid(), signal.SIGKILL)
                return real[name](*args)

            return call

        os.fsync = counted("fsync")  # type: ignore[assignment]
        os.replace = counted("replace")  # type: ignore[assignment]
        outbox(tmp_path, keys).write(batch, records)

    assert _forked(child) == signal.SIGKILL
    manifest = assert_none_or_complete(tmp_path, keys, records)
    assert (manifest is not None) == (step > COMMIT_STEP)
    assert_retry_writes_one_good_batch(tmp_path, keys, batch, records)


WRITER = textwrap.dedent(
    """
    import sys, uuid
    from datetime import UTC, datetime
    from pathlib import Path
    from airgap.adapters.filesystem.outbox import FilesystemOutbox
    from airgap.adapters.security.encryption import AesGcmCipher
    from airgap.domain.model.batching import (
        Acks, BatchHeader, BatchLimits, BatchType, Channel, Network,
    )
    from airgap.entrypoints.cli.samples import sample_records

    directory, batch_id = Path(sys.argv[1]), uuid.UUID(sys.argv[2])
    moment = datetime(2030, 1, 1, tzinfo=UTC)
    records = sample_records(BatchType.REQUESTS, 20_000, seed=1, now=moment)
    outbox = FilesystemOutbox(
        directory, cipher=AesGcmCipher(bytes(range(32))), limits=BatchLimits(max_records=20_000)
    )
    header = BatchHeader(
        batch_id, BatchType.REQUESTS, Channel(Network.REQUEST, Network.RESPONSE), 1,
        datetime(2030, 1, 1, 12, tzinfo=UTC), Acks(),
    )
    print("ready", flush=True)
    while True:
        outbox.write(header, records)
        print("written", flush=True)
    """
)


def _killed_writers(tmp_path: Path, delays: list[float]) -> Iterator[Path]:
    import uuid

    for n, delay in enumerate(delays):
        directory = tmp_path / f"run{n}"
        directory.mkdir()
        child = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(directory), str(uuid.uuid4())],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        time.sleep(delay)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        child.stdout.close()
        assert child.returncode == -signal.SIGKILL
        yield directory


def test_a_real_writer_killed_from_outside_mid_write_leaves_no_batch_or_a_whole_one(
    tmp_path: Path,
) -> None:
    from airgap.adapters.filesystem.inbox import FilesystemInbox
    from airgap.adapters.security.encryption import AesGcmCipher
    from airgap.domain.model.batching import Network

    cipher = AesGcmCipher(bytes(range(32)))
    limits = BatchLimits(max_records=20_000)
    outcomes = []
    for directory in _killed_writers(tmp_path, [0.0, 0.05, 0.4]):
        inbox = FilesystemInbox(directory, Network.RESPONSE, decipher=cipher, limits=limits)
        found = inbox.pending()
        if found:
            (batch,) = found
            batch.manifest()
            assert sum(1 for _ in batch.records()) == 20_000
        outcomes.append(bool(found))
    # Whatever the timing, each run ended in one of the two allowed states. Writing 20,000
    # encrypted records takes far longer than a kill sent the moment the writer is ready,
    # so the first run at least died mid-write.
    assert len(outcomes) == 3
    assert outcomes[0] is False
