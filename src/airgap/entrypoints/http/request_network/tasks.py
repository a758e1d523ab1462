"""Background tasks from the API, coalesced.

Every submission asks for ``requests.export`` once it has committed; at a thousand
submissions a second that would be a thousand identical messages for the export worker to
run through. :class:`CoalescingTaskQueue` sends each distinct task at most once per short
window, always *after* the ask that opened it -- so every committed request is followed by a
send within the window, and the export (which takes everything pending) sees it.
"""

from __future__ import annotations

import threading

from airgap.ports.task_queue import TaskQueue

DEFAULT_WINDOW_S = 0.1

_Key = tuple[str, tuple[tuple[str, str | int], ...]]


class CoalescingTaskQueue:
    """A :class:`~airgap.ports.task_queue.TaskQueue` in front of another."""

    def __init__(self, inner: TaskQueue, window_s: float = DEFAULT_WINDOW_S) -> None:
        self._inner = inner
        self._window_s = window_s
        self._lock = threading.Lock()
        self._due: dict[_Key, threading.Timer] = {}

    def enqueue(self, task: str, **kwargs: str | int) -> None:
        key: _Key = (task, tuple(sorted(kwargs.items())))
        with self._lock:
            if key in self._due:
                return  # a send is already due after this ask
            timer = threading.Timer(self._window_s, self._send, args=(key,))
            timer.daemon = True
            self._due[key] = timer
        timer.start()

    def _send(self, key: _Key) -> None:
        with self._lock:
            self._due.pop(key, None)
        task, kwargs = key
        self._inner.enqueue(task, **dict(kwargs))

    def flush(self) -> None:
        """Send whatever is due now (at shutdown)."""
        with self._lock:
            due, self._due = self._due, {}
        for key, timer in due.items():
            timer.cancel()
            task, kwargs = key
            self._inner.enqueue(task, **dict(kwargs))
