"""File operations that are safe against crashes and against what a hostile directory holds.

- New files are written under a temporary name (``.{name}.{random}.tmp``: hidden, and never a
  batch name), fsynced, renamed into place, and the directory is fsynced, so after a crash a
  file either has its final name and full contents or does not exist under that name.
- Files are opened without following symbolic links, without blocking on FIFOs, and only
  if they are regular files.
- Batches move between directories manifest first: the manifest is what makes a batch
  visible, so a crash halfway leaves at most a payload without a manifest behind, which
  readers ignore and :func:`finish_moves` completes.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import secrets
import stat
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import BinaryIO

from airgap.adapters.filesystem.names import BATCH_SUFFIXES, MANIFEST_SUFFIX, PAYLOAD_SUFFIXES

CHUNK = 1024 * 1024
TEMP_SUFFIX = ".tmp"
LOCK_NAME = ".airgap.lock"


class UnsafeFile(Exception):
    """A path that must not be read: missing, a link, or not a regular file."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


def temp_name(final_name: str) -> str:
    return f".{final_name}.{secrets.token_hex(6)}{TEMP_SUFFIX}"


def fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def open_regular(path: Path) -> BinaryIO:
    """Open ``path`` for reading if it is a regular file and not a symbolic link.

    Raises :class:`UnsafeFile` ("is missing", "is a symbolic link", "is not a regular
    file"). The file type is checked before opening (opening a device or FIFO can have
    effects) and again on the open descriptor (the name could have been swapped between).
    """
    try:
        before = os.lstat(path)
    except FileNotFoundError:
        raise UnsafeFile("is missing") from None
    if stat.S_ISLNK(before.st_mode):
        raise UnsafeFile("is a symbolic link")
    if not stat.S_ISREG(before.st_mode):
        raise UnsafeFile("is not a regular file")
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise UnsafeFile("is missing") from None
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise UnsafeFile("is a symbolic link") from None
        raise
    after = os.fstat(fd)
    if not stat.S_ISREG(after.st_mode) or (after.st_dev, after.st_ino) != (
        before.st_dev,
        before.st_ino,
    ):
        os.close(fd)
        raise UnsafeFile("changed while it was opened")
    return open(fd, "rb", buffering=0)


def read_chunks(file: BinaryIO, size: int = CHUNK) -> Iterator[bytes]:
    while chunk := file.read(size):
        yield chunk


class NewFile:
    """A file being written under a temporary name in ``directory``; :meth:`commit` makes it
    durable and gives it its final name. Use as a context manager: leaving without a commit
    removes the temporary file."""

    def __init__(self, directory: Path, final_name: str) -> None:
        self.directory = directory
        self.final_name = final_name
        self.temp_path = directory / temp_name(final_name)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        self._fd = os.open(self.temp_path, flags, 0o666)
        self._file = open(self._fd, "wb", buffering=0, closefd=False)  # noqa: SIM115
        self.committed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        view = memoryview(data)
        while view:
            written = self._file.write(view)
            if written is None:  # pragma: no cover - only for non-blocking files
                raise OSError(errno.EAGAIN, "write would block")
            view = view[written:]

    def flush_to_disk(self) -> None:
        os.fsync(self._fd)

    def drop_cache(self) -> None:
        """Ask the kernel to forget the cached pages (after fsync), so reading back reads
        the medium rather than memory."""
        with contextlib.suppress(OSError, AttributeError):
            os.posix_fadvise(self._fd, 0, 0, os.POSIX_FADV_DONTNEED)

    def commit(self) -> Path:
        """fsync, rename into place, fsync the directory."""
        self.flush_to_disk()
        self._close()
        final = self.directory / self.final_name
        os.replace(self.temp_path, final)
        self.committed = True
        fsync_directory(self.directory)
        return final

    def _close(self) -> None:
        if self._fd >= 0:
            self._file.close()
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> NewFile:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._close()
        if not self.committed:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.temp_path)


def write_file(directory: Path, name: str, data: bytes) -> Path:
    """Write ``data`` to ``directory/name`` atomically and durably."""
    with NewFile(directory, name) as new:
        new.write(data)
        return new.commit()


@contextlib.contextmanager
def directory_lock(directory: Path) -> Iterator[None]:
    """An exclusive lock on ``directory`` (a hidden lock file), held across processes."""
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(directory / LOCK_NAME, flags, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def ensure_subdirectory(parent: Path, name: str) -> Path:
    """``parent/name`` as a real directory (created if missing); refuses a link or a file
    there, so nothing is ever written outside ``parent``."""
    path = parent / name
    with contextlib.suppress(FileExistsError):
        os.mkdir(path, 0o777)
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode):
        raise NotADirectoryError(errno.ENOTDIR, "not a real directory (a link or a file)", path)
    return path


def exists(path: Path) -> bool:
    """True if anything (even a dangling link) has this name."""
    try:
        os.lstat(path)
    except FileNotFoundError:
        return False
    return True


def _free_stem(target: Path, stem: str) -> str:
    """``stem``, or ``stem~2``, ``stem~3``, … : the first under which no file of the batch
    exists in ``target`` (a batch that arrives twice is kept twice, never overwritten)."""
    candidate, n = stem, 1
    while any(exists(target / f"{candidate}{suffix}") for suffix in BATCH_SUFFIXES):
        n += 1
        candidate = f"{stem}~{n}"
    return candidate


def move_batch(
    source: Path, stem: str, target: Path, extras: Mapping[str, bytes] | None = None
) -> str | None:
    """Move every file of batch ``stem`` from ``source`` to ``target``: first any ``extras``
    (suffix → contents, written new in ``target``), then the manifest, then the payloads.
    Returns the stem used in ``target``, or None when the manifest had already gone (another
    process moved the batch). Links and odd files are moved as they are, never followed."""
    if not exists(source / f"{stem}{MANIFEST_SUFFIX}"):
        return None
    final_stem = _free_stem(target, stem)
    for suffix, data in (extras or {}).items():
        write_file(target, f"{final_stem}{suffix}", data)
    try:
        os.rename(source / f"{stem}{MANIFEST_SUFFIX}", target / f"{final_stem}{MANIFEST_SUFFIX}")
    except FileNotFoundError:
        return None
    for suffix in PAYLOAD_SUFFIXES:
        with contextlib.suppress(FileNotFoundError):
            os.rename(source / f"{stem}{suffix}", target / f"{final_stem}{suffix}")
    fsync_directory(target)
    fsync_directory(source)
    return final_stem


def finish_moves(source: Path, payload_name: str, stem: str, targets: tuple[Path, ...]) -> bool:
    """Complete a move that a crash interrupted: if ``payload_name`` (in ``source``, with no
    manifest beside it) belongs with a manifest already moved into one of ``targets`` whose
    payload is missing there, move it to that manifest. True if it moved."""
    suffix = payload_name[len(stem) :]
    for target in targets:
        if not target.is_dir():
            continue
        for manifest in sorted(target.glob(f"{stem}*{MANIFEST_SUFFIX}")):
            moved_stem = manifest.name[: -len(MANIFEST_SUFFIX)]
            if moved_stem != stem and not moved_stem.startswith(f"{stem}~"):
                continue
            if any(exists(target / f"{moved_stem}{s}") for s in PAYLOAD_SUFFIXES):
                continue
            try:
                os.rename(source / payload_name, target / f"{moved_stem}{suffix}")
            except FileNotFoundError:
                return False
            fsync_directory(target)
            return True
    return False
