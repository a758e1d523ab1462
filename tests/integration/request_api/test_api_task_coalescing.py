"""The API's task queue sends each distinct task once per window, always after the ask
that opened the window, and flushes what is due at shut-down."""

from __future__ import annotations

import threading
import time

from airgap.adapters.memory.tasks import MemoryTaskQueue
from airgap.entrypoints.http.request_network.tasks import CoalescingTaskQueue


def test_many_asks_in_a_window_are_one_send_after_them() -> None:
    inner = MemoryTaskQueue()
    queue = CoalescingTaskQueue(inner, window_s=0.05)

    for _ in range(100):
        queue.enqueue("requests.export")
    assert inner.sent == []  # nothing before the window closes
    time.sleep(0.2)

    assert inner.drain() == [("requests.export", {})]


def test_an_ask_after_a_send_opens_a_new_window() -> None:
    inner = MemoryTaskQueue()
    queue = CoalescingTaskQueue(inner, window_s=0.02)

    queue.enqueue("requests.export")
    time.sleep(0.1)
    queue.enqueue("requests.export")
    time.sleep(0.1)

    assert inner.drain() == [("requests.export", {})] * 2


def test_different_tasks_and_arguments_are_sent_separately() -> None:
    inner = MemoryTaskQueue()
    queue = CoalescingTaskQueue(inner, window_s=0.02)

    queue.enqueue("requests.export")
    queue.enqueue("requests.export", batch="a")
    queue.enqueue("requests.export", batch="a")
    queue.enqueue("users.import")
    time.sleep(0.15)

    assert sorted(inner.drain(), key=str) == sorted(
        [("requests.export", {}), ("requests.export", {"batch": "a"}), ("users.import", {})],
        key=str,
    )


def test_flush_sends_what_is_due_at_once() -> None:
    inner = MemoryTaskQueue()
    queue = CoalescingTaskQueue(inner, window_s=60)

    queue.enqueue("requests.export")
    queue.flush()

    assert inner.drain() == [("requests.export", {})]
    time.sleep(0.05)
    assert inner.sent == []


def test_concurrent_asks_make_one_send() -> None:
    inner = MemoryTaskQueue()
    queue = CoalescingTaskQueue(inner, window_s=0.1)
    start = threading.Barrier(20)

    def ask() -> None:
        start.wait()
        queue.enqueue("requests.export")

    threads = [threading.Thread(target=ask) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    time.sleep(0.3)

    assert inner.drain() == [("requests.export", {})]
