"""The pipeline's jobs: each calls a use case (which opens its own units of work), then
logs and measures what it did.

Actors (:mod:`~airgap.entrypoints.worker.actors`) and the run-once commands
(``airgap request export-now``, …) call these, so a job logs the same ``job.started`` /
``job.finished`` lines and moves the same metrics whoever runs it. Every job is idempotent:
Dramatiq delivers at least once, and the scheduler and the inbox watcher may ask for the same
job twice.

Triggers and schedules: a use case that commits new work asks for the next step without
arguments (``requests.export`` after a submit, ``results.export`` after executions); such an
event-triggered export runs only when a *full* batch is waiting, so batches stay full under
load (``AIRGAP_EVENT_EXPORT_MIN_RECORDS`` lowers that bar; ``airgap up`` sets it to 1 so an
answer comes back within seconds). The scheduler asks with ``scope="all"`` every two
minutes, which sends whatever waits.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from airgap.adapters.filesystem.retention import prune_batch_files
from airgap.adapters.host import disk_percent, memory_percent
from airgap.domain.model.batching import BatchType, ImportBatch, ImportStatus, Manifest
from airgap.domain.model.health import HealthReadings
from airgap.domain.services import request_transfer, response_transfer
from airgap.domain.services.context import RequestSide, ResponseSide
from airgap.domain.services.execute_queries import execute_available
from airgap.domain.services.health import record_health
from airgap.domain.services.notifications import notify_finished
from airgap.domain.services.retention import archive_old_requests
from airgap.domain.services.users import export_users
from airgap.entrypoints.worker.config import PipelineSettings
from airgap.entrypoints.worker.errors import RetryLater
from airgap.entrypoints.worker.logs import get_logger
from airgap.entrypoints.worker.metrics import PipelineMetrics, pipeline_metrics
from airgap.ports.backlog import RequestBacklog, ResponseBacklog
from airgap.ports.locks import JobLocks
from airgap.ports.notifications import AnsweredRequests, Notifier, Webhooks
from airgap.ports.retention import RequestArchive, RequestRetention

#: Scopes of the export jobs: ``full`` (an event: only when a full batch waits) or ``all``.
SCOPES = ("full", "all")
NOTIFY_TASK = "notifications.send"
IMPORT_LOCK_WAIT_S = 60.0


@attrs.frozen
class JobSummary:
    """What a job did: a line for a person and the same facts as fields for the logs."""

    job: str
    text: str
    fields: Mapping[str, Any] = attrs.field(factory=dict)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 'es' if word.endswith('h') else 's'}"


def _check_scope(scope: str) -> None:
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {', '.join(SCOPES)}, not {scope!r}")


@attrs.define
class _Jobs:
    network: str
    metrics: PipelineMetrics
    log: Any

    def _run(self, job: str, body: Callable[[], JobSummary]) -> JobSummary:
        started = time.perf_counter()
        self.log.info("job.started", job=job)
        try:
            summary = body()
        except BaseException as error:
            elapsed = time.perf_counter() - started
            self.metrics.job_failures.labels(self.network, job).inc()
            self.metrics.job_duration.labels(self.network, job).observe(elapsed)
            self.log.error(
                "job.failed",
                job=job,
                duration_ms=round(elapsed * 1000, 2),
                error=f"{type(error).__name__}: {error}",
            )
            raise
        elapsed = time.perf_counter() - started
        self.metrics.jobs.labels(self.network, job).inc()
        self.metrics.job_duration.labels(self.network, job).observe(elapsed)
        self.log.info(
            "job.finished",
            job=job,
            duration_ms=round(elapsed * 1000, 2),
            summary=summary.text,
            **summary.fields,
        )
        return summary

    def _exported(self, manifests: Sequence[Manifest]) -> dict[str, Any]:
        """Measure written batches; the fields that describe them."""
        for manifest in manifests:
            kind = manifest.batch_type.value
            self.metrics.batch_records.labels(self.network, "export", kind).observe(
                manifest.record_count
            )
            self.metrics.batch_bytes.labels(self.network, "export", kind).observe(
                manifest.payload_size
            )
            self.metrics.records_exported.labels(self.network, kind).inc(manifest.record_count)
        return {
            "batches": len(manifests),
            "records": sum(m.record_count for m in manifests),
            "bytes": sum(m.payload_size for m in manifests),
            "sequences": [m.sequence for m in manifests],
        }

    def _imported(self, batches: Sequence[ImportBatch]) -> JobSummary:
        accepted = duplicates = rejected = failed = repeated = 0
        for batch in batches:
            if batch.status is ImportStatus.FAILED:
                failed += 1
                self.metrics.batches_rejected.labels(self.network).inc()
                self.log.warning(
                    "batch.quarantined", batch=batch.filename, reason=batch.error_message
                )
                continue
            if batch.status is ImportStatus.DUPLICATE:
                repeated += 1
                continue
            kind = batch.batch_type.value if batch.batch_type else "unknown"
            self.metrics.batch_records.labels(self.network, "import", kind).observe(
                batch.record_count
            )
            for outcome, count in (
                ("accepted", batch.accepted),
                ("duplicate", batch.duplicates),
                ("rejected", batch.rejected),
            ):
                self.metrics.records_imported.labels(self.network, kind, outcome).inc(count)
            accepted += batch.accepted
            duplicates += batch.duplicates
            rejected += batch.rejected
        fields = {
            "batches": len(batches),
            "accepted": accepted,
            "duplicates": duplicates,
            "rejected": rejected,
            "repeated_batches": repeated,
            "quarantined": failed,
        }
        text = (
            f"imported {_plural(len(batches), 'batch')}: {accepted} records accepted, "
            f"{duplicates} duplicate, {rejected} rejected; "
            f"{repeated} repeated batches, {failed} quarantined"
        )
        return JobSummary("import", text, fields)


@attrs.define
class RequestJobs(_Jobs):
    """The request network's jobs."""

    side: RequestSide
    pipeline: PipelineSettings
    backlog: RequestBacklog
    answered: AnsweredRequests
    locks: JobLocks
    outbox: Path
    inbox: Path
    retention: RequestRetention | None = None
    archive: RequestArchive | None = None
    sweep_redis: Callable[[], Mapping[str, int]] | None = None
    webhooks: Webhooks | None = None
    notifier: Notifier | None = None

    def export_requests(self, scope: str = "all") -> JobSummary:
        """Pack pending requests into batches (``scope="full"``: only if a full batch
        waits)."""
        _check_scope(scope)

        def body() -> JobSummary:
            full = self.side.limits.max_records
            bar = self.pipeline.event_export_threshold(full)
            if scope == "full":
                waiting = self.backlog.pending_requests(full)  # up to a batch, for the gauge
                self.metrics.queue_backlog.labels(self.network).set(waiting)
                if waiting < bar:
                    return JobSummary(
                        "export",
                        f"{waiting} pending requests, fewer than the {bar} an event-triggered "
                        "export waits for: left for the scheduled export",
                        {"pending": waiting, "skipped": True},
                    )
            report = request_transfer.export_requests(self.side)
            fields = self._exported(report.manifests)
            fields |= {"requests": report.requests, "expired": report.expired}
            text = (
                f"exported {report.requests} requests in {_plural(len(report.manifests), 'batch')}"
                f" (sequences {fields['sequences'] or '-'}, {fields['bytes']} bytes); "
                f"{report.expired} expired"
            )
            return JobSummary("export", text, fields)

        return self._run("requests.export", body)

    def import_inbox(self) -> JobSummary:
        """Import every batch waiting in the inbox: results, user snapshots, acks."""

        def body() -> JobSummary:
            with self.locks.hold(
                f"airgap:{self.network}:import", timeout_s=IMPORT_LOCK_WAIT_S
            ) as held:
                if not held:
                    raise RetryLater("another import held the inbox too long")
                batches = request_transfer.import_batches(self.side)
            summary = self._imported(batches)
            notified = self._ask_notifications(batches)
            if notified:
                summary = attrs.evolve(
                    summary,
                    text=f"{summary.text}; {notified} notifications queued",
                    fields={**summary.fields, "notifications": notified},
                )
            return summary

        return self._run("results.import", body)

    def _ask_notifications(self, batches: Sequence[ImportBatch]) -> int:
        if self.webhooks is None or self.notifier is None:
            return 0
        count = 0
        for batch in batches:
            if (
                batch.status is ImportStatus.COMPLETED
                and batch.batch_type is BatchType.RESPONSES
                and batch.accepted
                and batch.batch_id is not None
            ):
                for request_id in self.answered.answered_in(batch.batch_id):
                    self.side.tasks.enqueue(NOTIFY_TASK, request_id=str(request_id))
                    count += 1
        return count

    def resend(self) -> JobSummary:
        def body() -> JobSummary:
            count = request_transfer.resend_unacknowledged(self.side)
            return JobSummary(
                "resend",
                f"{count} requests of unacknowledged batches back to pending",
                {"requests": count},
            )

        return self._run("requests.resend", body)

    def cleanup(self) -> JobSummary:
        """The nightly cleanup: archive old requests, prune old batch files, sweep Redis."""

        def body() -> JobSummary:
            keep = self.pipeline.retention
            archived = 0
            if self.retention is not None and self.archive is not None:
                archived = archive_old_requests(
                    self.side, self.retention, self.archive, keep.requests
                )
            now = self.side.clock.now()
            pruned_files = pruned_bytes = 0
            for directory, age in (
                (self.outbox, keep.outbox),
                (self.outbox / "carried", keep.outbox),
                (self.inbox / "archive", keep.inbox_archive),
            ):
                report = prune_batch_files(directory, now - age)
                pruned_files += report.files
                pruned_bytes += report.bytes
            swept = dict(self.sweep_redis()) if self.sweep_redis else {}
            fields = {
                "archived": archived,
                "files_deleted": pruned_files,
                "bytes_deleted": pruned_bytes,
                **{f"redis_{k}": v for k, v in swept.items()},
            }
            text = (
                f"archived {archived} requests; deleted {pruned_files} old batch files "
                f"({pruned_bytes} bytes); redis keys scanned {swept.get('scanned', 0)}, "
                f"leaked keys removed {swept.get('removed', 0)}"
            )
            return JobSummary("cleanup", text, fields)

        return self._run("maintenance.cleanup", body)

    def notify(self, request_id: uuid.UUID) -> JobSummary:
        def body() -> JobSummary:
            if self.webhooks is None or self.notifier is None:
                return JobSummary("notify", "notifications are off", {"sent": False})
            sent = notify_finished(self.side, self.webhooks, self.notifier, request_id)
            return JobSummary(
                "notify",
                f"request {request_id}: {'notified' if sent else 'nothing to send'}",
                {"request_id": str(request_id), "sent": sent},
            )

        return self._run("notifications.send", body)


@attrs.define
class ResponseJobs(_Jobs):
    """The response network's jobs."""

    side: ResponseSide
    pipeline: PipelineSettings
    backlog: ResponseBacklog
    locks: JobLocks
    worker_name: str
    data_dir: Path
    maintain_cache_table: Callable[[], JobSummary] | None = None
    probes: Mapping[str, Callable[[], None]] = attrs.field(factory=dict)

    def import_inbox(self) -> JobSummary:
        """Import request batches (and acks); new jobs wake the executors."""

        def body() -> JobSummary:
            with self.locks.hold(
                f"airgap:{self.network}:import", timeout_s=IMPORT_LOCK_WAIT_S
            ) as held:
                if not held:
                    raise RetryLater("another import held the inbox too long")
                batches = response_transfer.import_batches(self.side)
            return self._imported(batches)

        return self._run("requests.import", body)

    def execute(self, max_jobs: int = 100) -> JobSummary:
        """Run queued queries until none is claimable or ``max_jobs`` ran."""

        def body() -> JobSummary:
            done = execute_available(self.side, self.worker_name, max_jobs=max_jobs)
            counts: dict[str, int] = {}
            hits = 0
            for execution in done:
                counts[execution.status.value] = counts.get(execution.status.value, 0) + 1
                hits += int(execution.cache_hit)
                self.metrics.queries.labels(
                    execution.status.value, str(execution.cache_hit).lower()
                ).inc()
                self.metrics.cache_hit_ratio.set(
                    self.metrics.cache_ratio.record(execution.cache_hit)
                )
            detail = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "none waiting"
            return JobSummary(
                "execute",
                f"executed {len(done)} queries ({detail}; {hits} from the cache)",
                {"executed": len(done), "cache_hits": hits, **counts},
            )

        return self._run("queries.execute", body)

    def export_results(self, scope: str = "all") -> JobSummary:
        _check_scope(scope)

        def body() -> JobSummary:
            bar = self.pipeline.event_export_threshold(self.side.limits.max_records)
            if scope == "full":
                waiting = self.backlog.unexported_results(bar)
                if waiting < bar:
                    return JobSummary(
                        "export",
                        f"{waiting} results waiting, fewer than the {bar} an event-triggered "
                        "export waits for: left for the scheduled export",
                        {"waiting": waiting, "skipped": True},
                    )
            manifests = response_transfer.export_results(self.side)
            fields = self._exported(manifests)
            text = (
                f"exported {_plural(len(manifests), 'batch')} of results "
                f"({fields['records']} records with import reports, {fields['bytes']} bytes, "
                f"sequences {fields['sequences'] or '-'})"
            )
            return JobSummary("export", text, fields)

        return self._run("results.export", body)

    def export_users(self) -> JobSummary:
        def body() -> JobSummary:
            manifests = export_users(self.side)
            fields = self._exported(manifests)
            text = (
                f"users snapshot: {_plural(len(manifests), 'batch')}, {fields['records']} accounts"
                if manifests
                else "users unchanged: nothing to send"
            )
            return JobSummary("users", text, fields)

        return self._run("users.export", body)

    def resend(self) -> JobSummary:
        def body() -> JobSummary:
            count = response_transfer.resend_unacknowledged(self.side)
            return JobSummary(
                "resend",
                f"{count} results of unacknowledged batches queued to go again",
                {"results": count},
            )

        return self._run("results.resend", body)

    def maintain_cache(self) -> JobSummary:
        def body() -> JobSummary:
            if self.maintain_cache_table is None:
                return JobSummary("cache", "no durable cache to maintain", {})
            return self.maintain_cache_table()

        return self._run("cache.maintain", body)

    def health_check(self) -> JobSummary:
        def body() -> JobSummary:
            services: dict[str, str | None] = {}
            for name, probe in sorted(self.probes.items()):
                try:
                    probe()
                    services[name] = None
                except Exception as error:
                    services[name] = f"{type(error).__name__}: {error}"[:300]
            try:
                backlog = self.backlog.open_jobs()
            except Exception as error:
                backlog = -1
                services["database"] = f"{type(error).__name__}: {error}"[:300]
            else:
                self.metrics.queue_backlog.labels(self.network).set(backlog)
            readings = HealthReadings(
                disk_percent=disk_percent(self.data_dir),
                memory_percent=memory_percent(),
                queue_backlog=max(backlog, 0),
                services=services,
            )
            report = record_health(self.side, readings, self.pipeline.health)
            text = "healthy" if report.healthy else "alerts: " + "; ".join(report.alerts)
            return JobSummary(
                "health",
                text,
                {
                    "healthy": report.healthy,
                    "alerts": list(report.alerts),
                    "disk_percent": round(readings.disk_percent, 1),
                    "memory_percent": round(readings.memory_percent, 1),
                    "queue_backlog": readings.queue_backlog,
                },
            )

        return self._run("health.check", body)


def request_jobs(side: RequestSide, pipeline: PipelineSettings, **ports: Any) -> RequestJobs:
    """The request network's jobs, logging as ``airgap.worker``."""
    return RequestJobs(
        network="request",
        metrics=pipeline_metrics(),
        log=get_logger("airgap.worker", network="request"),
        side=side,
        pipeline=pipeline,
        **ports,
    )


def response_jobs(side: ResponseSide, pipeline: PipelineSettings, **ports: Any) -> ResponseJobs:
    return ResponseJobs(
        network="response",
        metrics=pipeline_metrics(),
        log=get_logger("airgap.worker", network="response"),
        side=side,
        pipeline=pipeline,
        **ports,
    )
