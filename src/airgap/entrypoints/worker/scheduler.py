"""The scheduler: one process per network sends the periodic jobs to the workers.

Why APScheduler 3: it is mature and widely deployed, runs interval *and* cron triggers with
second resolution in one process (the imports run every 30 s; periodiq, the Dramatiq-native
alternative, schedules by the minute only), coalesces missed runs after a pause instead of
replaying them, never starts a job while its previous run is still being sent
(``max_instances=1``), and needs no job store — the schedule is configuration, rebuilt at
every start. APScheduler 4 is still a pre-release. The scheduler only *sends* messages; the
work happens in the workers, so a scheduler can restart at any time and two schedulers would
at worst send a job twice (every job is idempotent).

Besides the clock, the scheduler process runs the inbox watcher
(:mod:`~airgap.entrypoints.worker.watcher`), which sends the import job within a second of a
batch landing.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import attrs
import redis
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from airgap.adapters.redis.embedded import resolve_redis_url
from airgap.domain.model.batching import Network
from airgap.entrypoints.bootstrap.settings import Settings
from airgap.entrypoints.worker.config import PipelineSettings
from airgap.entrypoints.worker.logs import configure_logging, get_logger
from airgap.entrypoints.worker.sending import sending_task_queue
from airgap.entrypoints.worker.watcher import InboxWatcher
from airgap.ports.task_queue import TaskQueue

#: The actor each network's inbox watcher (and scheduled import) sends.
IMPORT_TASKS = {Network.REQUEST: "results.import", Network.RESPONSE: "requests.import"}


@attrs.frozen
class ScheduleEntry:
    """One periodic job: send ``task`` with ``kwargs`` whenever ``trigger`` fires."""

    id: str
    task: str
    trigger: Any  # an APScheduler trigger
    kwargs: Mapping[str, str | int] = attrs.field(factory=dict)
    description: str = ""


def schedule_for(
    network: Network, pipeline: PipelineSettings, *, start: datetime | None = None
) -> list[ScheduleEntry]:
    """The periodic jobs of ``network`` (SPEC §11; the intervals are settings). Intervals
    count from ``start`` (default: when the scheduler starts): the first run is one
    interval later."""
    s, tz = pipeline.schedules, pipeline.schedules.timezone

    def _every(interval: timedelta, timezone: str) -> IntervalTrigger:
        first = None if start is None else start + interval
        return IntervalTrigger(
            seconds=interval.total_seconds(), timezone=timezone, start_date=first
        )

    if network is Network.REQUEST:
        return [
            ScheduleEntry(
                "export", "requests.export", _every(s.export, tz), {"scope": "all"},
                "pack pending requests into batches",
            ),
            ScheduleEntry(
                "import", "results.import", _every(s.import_, tz), {},
                "import results, user snapshots and acks from the inbox",
            ),
            ScheduleEntry(
                "resend", "requests.resend", _every(s.resend, tz), {},
                "re-send requests of batches left unacknowledged",
            ),
            ScheduleEntry(
                "cleanup", "maintenance.cleanup",
                CronTrigger.from_crontab(s.cleanup_cron, timezone=tz), {},
                "archive old requests, delete old batch files, sweep Redis",
            ),
        ]  # fmt: skip
    return [
        ScheduleEntry(
            "import", "requests.import", _every(s.import_, tz), {},
            "import request batches and acks from the inbox",
        ),
        ScheduleEntry(
            "export", "results.export", _every(s.export, tz), {"scope": "all"},
            "pack finished results into batches",
        ),
        ScheduleEntry(
            "users", "users.export", _every(s.users_export, tz), {},
            "send a users snapshot when accounts changed",
        ),
        ScheduleEntry(
            "resend", "results.resend", _every(s.resend, tz), {},
            "re-send results of batches left unacknowledged",
        ),
        ScheduleEntry(
            "cache", "cache.maintain",
            CronTrigger.from_crontab(s.cache_cron, timezone=tz), {},
            "sweep expired cache entries, report hot queries",
        ),
        ScheduleEntry(
            "health", "health.check", _every(s.health, tz), {},
            "check disk, memory, backlog and services; write system_logs",
        ),
    ]  # fmt: skip


class PipelineScheduler:
    """Sends each entry's task through ``tasks`` whenever its trigger fires."""

    def __init__(
        self,
        entries: Sequence[ScheduleEntry],
        tasks: TaskQueue,
        *,
        log: Any,
        timezone: str = "UTC",
        scheduler: BaseScheduler | None = None,
    ) -> None:
        self.entries = {entry.id: entry for entry in entries}
        self._tasks = tasks
        self._log = log
        self.scheduler = scheduler or BackgroundScheduler(timezone=timezone)
        for entry in entries:
            self.scheduler.add_job(
                self.send,
                trigger=entry.trigger,
                args=[entry.id],
                id=entry.id,
                name=f"{entry.task}: {entry.description}",
                coalesce=True,  # after a pause, one run, not every missed one
                max_instances=1,
                misfire_grace_time=60,
                replace_existing=True,
            )

    def send(self, entry_id: str) -> None:
        entry = self.entries[entry_id]
        try:
            self._tasks.enqueue(entry.task, **entry.kwargs)
        except Exception as error:  # the broker is away: the next tick tries again
            self._log.error(
                "schedule.send_failed", entry=entry_id, task=entry.task, error=str(error)
            )
            return
        self._log.info("schedule.sent", entry=entry_id, task=entry.task, kwargs=dict(entry.kwargs))

    def start(self) -> None:
        self.scheduler.start()
        for job in self.scheduler.get_jobs():
            self._log.info("schedule.next", entry=job.id, at=str(job.next_run_time))

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    def run_now(self, entry_id: str) -> None:
        """Fire ``entry_id`` at once (as an operator or a test would)."""
        job = self.scheduler.get_job(entry_id)
        if job is None:
            raise KeyError(entry_id)
        job.modify(next_run_time=datetime.now(self.scheduler.timezone))
        self.scheduler.wakeup()

    def next_fire_times(self, now: datetime) -> dict[str, datetime]:
        """When each entry fires next after ``now`` (a clock of your choosing)."""
        return {
            entry.id: entry.trigger.get_next_fire_time(None, now) for entry in self.entries.values()
        }


def run_scheduler(network: Network, settings: Settings, pipeline: PipelineSettings) -> int:
    """``airgap <network> scheduler``: the periodic jobs and the inbox watcher, until
    SIGTERM or Ctrl-C. It imports no more than it needs, so it starts in a moment."""
    configure_logging(settings.log_level)
    log = get_logger("airgap.scheduler", network=network.value, pid=os.getpid())
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    url, embedded = resolve_redis_url(settings.redis_url, settings.network_dir)
    client = redis.Redis.from_url(url)
    try:
        tasks = sending_task_queue(pipeline, client)
        entries = schedule_for(network, pipeline)
        scheduler = PipelineScheduler(entries, tasks, log=log, timezone=pipeline.schedules.timezone)
        watcher = None
        if pipeline.watch_inbox:
            import_task = IMPORT_TASKS[network]
            watcher = InboxWatcher(
                settings.inbox,
                lambda: tasks.enqueue(import_task),
                log=log,
                polling=pipeline.watch_polling,
            )
        scheduler.start()
        if watcher is not None:
            watcher.start()
        log.info(
            "scheduler.started",
            entries={e.id: e.task for e in entries},
            watching=str(settings.inbox) if watcher else None,
            watch_mode=watcher.mode if watcher else None,
        )
        stop.wait()
        if watcher is not None:
            watcher.stop()
            watcher.join(2)
        scheduler.shutdown()
        log.info("scheduler.stopped")
    finally:
        client.close()
        if embedded is not None:
            embedded.stop()
    return 0
