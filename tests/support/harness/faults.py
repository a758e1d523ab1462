"""Workers that die at named points.

A death is the exception :class:`Killed` (a ``BaseException``, so no ``except Exception`` in
the code under test can swallow it) raised at the chosen point; what a dead process leaves
behind is reproduced exactly — a planned but unwritten batch, a payload without its
manifest, an open transaction rolled back, a job still held under its lease.

Named points (SPEC §13, Reliability):

- ``mid-write``: the outbox write dies part-way. On disk: a half-written temporary payload
  and no manifest; in memory: nothing written.
- ``after fsync, before rename``: the payload is in place, the manifest is written and
  fsynced under its temporary name but never renamed (the commit marker is missing).
- ``after write, before record``: the batch is complete in the outbox, but the database still
  says the batch was only planned.
- ``mid-transaction``: a worker dies at its n-th repository call or commit (for an import:
  mid-import, the batch stays in the inbox); the open unit of work is rolled back.
- ``between transactions``: a worker dies after n units of work, as it opens the next;
  everything before is committed (for an executor with n = 1: after its claim, before it
  runs the job).
- ``after search, before store``: the search ran, the worker died before storing the result;
  the job is still ``processing`` under the dead worker's lease.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, NoReturn, Protocol

from airgap.adapters.filesystem.files import temp_name
from airgap.adapters.filesystem.outbox import FilesystemOutbox
from airgap.adapters.memory.transfer import MemoryOutbox
from airgap.domain.model.batching import BatchHeader, Manifest
from airgap.domain.model.records import TransferRecord
from airgap.domain.model.search import SearchResult
from airgap.ports.search import SearchBackend


class Killed(BaseException):
    """The worker process died here."""


class KillPoint(enum.Enum):
    MID_WRITE = "mid-write"
    AFTER_FSYNC_BEFORE_RENAME = "after fsync, before rename"
    AFTER_WRITE_BEFORE_RECORD = "after write, before record"
    MID_TRANSACTION = "mid-transaction"
    BETWEEN_TRANSACTIONS = "between transactions"
    AFTER_SEARCH_BEFORE_STORE = "after search, before store"


#: Where an outbox write can die.
WRITE_POINTS = (
    KillPoint.MID_WRITE,
    KillPoint.AFTER_FSYNC_BEFORE_RENAME,
    KillPoint.AFTER_WRITE_BEFORE_RECORD,
)

Death = tuple[KillPoint, int]
"""Where a worker dies, and for the transaction points after how many calls or units."""


# --- outboxes --------------------------------------------------------------------------------


class OutboxWreck(Protocol):
    """Leaves an outbox as a writer killed at ``point`` would have left it, then dies."""

    def die_writing(
        self, header: BatchHeader, records: Sequence[TransferRecord], point: KillPoint
    ) -> NoReturn: ...


class MemoryOutboxWreck:
    """In memory a write is all or nothing: dying before it leaves nothing; dying after it
    leaves the whole batch."""

    def __init__(self, outbox: MemoryOutbox) -> None:
        self.outbox = outbox

    def die_writing(
        self, header: BatchHeader, records: Sequence[TransferRecord], point: KillPoint
    ) -> NoReturn:
        if point is KillPoint.AFTER_WRITE_BEFORE_RECORD:
            self.outbox.write(header, records)
        raise Killed(point.value)


class DirectoryOutboxWreck:
    """On disk: the real outbox writes the batch, then the files are put back the way a
    crash at ``point`` leaves them. A batch that was already complete is never touched (the
    outbox would have returned it without writing)."""

    def __init__(self, outbox: FilesystemOutbox) -> None:
        self.outbox = outbox

    def die_writing(
        self, header: BatchHeader, records: Sequence[TransferRecord], point: KillPoint
    ) -> NoReturn:
        if self.outbox.existing(header) is not None:
            raise Killed(point.value)
        manifest = self.outbox.write(header, records)
        directory = self.outbox.directory
        manifest_path = directory / manifest.manifest_name
        payload_path = directory / manifest.payload_name
        if point is KillPoint.MID_WRITE:
            manifest_path.unlink()
            data = payload_path.read_bytes()
            payload_path.unlink()
            temp = directory / temp_name(manifest.payload_name)
            temp.write_bytes(data[: len(data) // 2])
        elif point is KillPoint.AFTER_FSYNC_BEFORE_RENAME:
            os.rename(manifest_path, directory / temp_name(manifest.manifest_name))
        raise Killed(point.value)


class DyingOutbox:
    """An outbox whose next write dies at ``point`` (see ``OutboxWreck``)."""

    def __init__(self, wreck: OutboxWreck, point: KillPoint) -> None:
        self.wreck = wreck
        self.point = point

    def write(self, header: BatchHeader, records: Sequence[TransferRecord]) -> Manifest:
        self.wreck.die_writing(header, records, self.point)


# --- units of work ---------------------------------------------------------------------------


class Fuse:
    """Burns down by one at every unit of work begun, repository call and commit (or, with
    ``units_only``, only at every unit of work begun); raises :class:`Killed` when it
    reaches zero. Shared by all the units of work one worker opens in one step."""

    def __init__(self, calls: int, what: str, *, units_only: bool = False) -> None:
        self.left = calls
        self.what = what
        self.units_only = units_only
        self.blown = False

    def tick(self, label: str) -> None:
        if self.blown or (self.units_only and label != "begin"):
            return
        if self.left <= 0:
            self.blown = True
            raise Killed(f"{self.what} at {label}")
        self.left -= 1

    def wrap(self, factory: Callable[[], Any]) -> Callable[[], Any]:
        """A unit-of-work factory whose units of work burn this fuse."""
        return lambda: DyingUnitOfWork(factory(), self)


class _DyingRepository:
    def __init__(self, inner: Any, name: str, fuse: Fuse) -> None:
        self._inner = inner
        self._name = name
        self._fuse = fuse

    def __getattr__(self, attribute: str) -> Any:
        value = getattr(self._inner, attribute)
        if not callable(value):
            return value
        label = f"{self._name}.{attribute}"

        def call(*args: Any, **kwargs: Any) -> Any:
            self._fuse.tick(label)
            return value(*args, **kwargs)

        return call


class DyingUnitOfWork:
    """A unit of work whose process may die part-way: the real one underneath rolls back
    when the death unwinds through its ``with`` block, as a dead connection would."""

    def __init__(self, inner: Any, fuse: Fuse) -> None:
        self._inner = inner
        self._fuse = fuse

    def __enter__(self) -> DyingUnitOfWork:
        self._fuse.tick("begin")
        self._inner.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._inner.__exit__(exc_type, exc, tb)

    def commit(self) -> None:
        self._fuse.tick("commit")
        self._inner.commit()

    def rollback(self) -> None:
        self._inner.rollback()

    def __getattr__(self, name: str) -> Any:
        # Looked up on every access: units of work rebind their repositories on commit.
        return _DyingRepository(getattr(self._inner, name), name, self._fuse)


# --- the search backend ----------------------------------------------------------------------


class DyingSearch:
    """Runs the search, then the worker dies before it can store what it found."""

    def __init__(self, inner: SearchBackend) -> None:
        self.inner = inner
        self.name = inner.name
        self.searched = 0

    def healthy(self) -> bool:
        return self.inner.healthy()

    def search(self, index: str, body: Mapping[str, Any], *, timeout_s: float) -> SearchResult:
        self.inner.search(index, body, timeout_s=timeout_s)
        self.searched += 1
        raise Killed(KillPoint.AFTER_SEARCH_BEFORE_STORE.value)
