"""The inbox watcher: asks for an import as soon as a batch's manifest lands in the inbox.

A batch is complete when its manifest appears (it is renamed into place last), so the
watcher looks for ``*.manifest.json`` names that appear in the inbox directory itself (not
in ``archive/`` or ``quarantine/``). It uses inotify through ``watchfiles``; where that is
unavailable, or with ``AIRGAP_WATCH_POLLING=true`` (an inbox on a network or removable file
system, whose writers the kernel does not see), it lists the directory every quarter of a
second instead. Either way the scheduled import every 30 s remains the safety net, and
imports are idempotent, so a duplicate trigger costs one scan of the inbox.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import watchfiles

MANIFEST_SUFFIX = ".manifest.json"


def _landed(change: watchfiles.Change, path: str) -> bool:
    name = os.path.basename(path)
    return (
        change in (watchfiles.Change.added, watchfiles.Change.modified)
        and name.endswith(MANIFEST_SUFFIX)
        and not name.startswith(".")
    )


def _manifests(directory: Path) -> set[str]:
    try:
        with os.scandir(directory) as entries:
            return {
                e.name
                for e in entries
                if e.name.endswith(MANIFEST_SUFFIX) and not e.name.startswith(".")
            }
    except FileNotFoundError:
        return set()


class InboxWatcher(threading.Thread):
    """Calls ``on_arrival`` (from this thread) when manifests land in ``inbox``, and once at
    start if batches are already waiting."""

    def __init__(
        self,
        inbox: Path,
        on_arrival: Callable[[], None],
        *,
        log: Any,
        polling: bool = False,
        poll_interval_s: float = 0.25,
    ) -> None:
        super().__init__(name="inbox-watcher", daemon=True)
        self.inbox = inbox
        self._on_arrival = on_arrival
        self._log = log
        self._polling = polling
        self._interval = poll_interval_s
        self._halt = threading.Event()
        self.mode = "polling" if polling else "inotify"

    def stop(self) -> None:
        self._halt.set()

    def _fire(self, names: set[str]) -> None:
        self._log.info("inbox.arrived", manifests=sorted(names)[:20], count=len(names))
        try:
            self._on_arrival()
        except Exception as error:  # a lost trigger: the scheduled import catches up
            self._log.warning("inbox.trigger_failed", error=f"{type(error).__name__}: {error}")

    def run(self) -> None:
        self.inbox.mkdir(parents=True, exist_ok=True)
        waiting = _manifests(self.inbox)
        if waiting:
            self._fire(waiting)
        if not self._polling:
            try:
                self._watch()
                return
            except Exception as error:  # no inotify here (or it ran out of watches)
                self._log.warning("inbox.watch_unavailable", error=str(error), fallback="polling")
                self.mode = "polling"
        self._poll(waiting)

    def _watch(self) -> None:
        for changes in watchfiles.watch(
            self.inbox,
            watch_filter=_landed,
            debounce=500,
            step=20,
            stop_event=self._halt,
            rust_timeout=1000,
            recursive=False,
            raise_interrupt=False,
        ):
            self._fire({os.path.basename(path) for _, path in changes})

    def _poll(self, seen: set[str]) -> None:
        while not self._halt.wait(self._interval):
            now = _manifests(self.inbox)
            if now - seen:
                self._fire(now - seen)
            seen = now
