"""The response network's health check (every 5 minutes): assess the readings and keep the
outcome in ``system_logs`` — ``info`` when healthy, ``warning`` with the alerts otherwise."""

from __future__ import annotations

from airgap.domain.model.audit import LogLevel, SystemLogEntry
from airgap.domain.model.health import HealthReadings, HealthReport, HealthThresholds, assess
from airgap.domain.services.context import ResponseSide


def record_health(
    side: ResponseSide, readings: HealthReadings, thresholds: HealthThresholds
) -> HealthReport:
    report = assess(readings, thresholds)
    with side.uow() as uow:
        uow.system_logs.record(
            SystemLogEntry(
                level=LogLevel.INFO if report.healthy else LogLevel.WARNING,
                component="health",
                message="healthy" if report.healthy else "; ".join(report.alerts),
                created_at=side.clock.now(),
                details={
                    "disk_percent": round(readings.disk_percent, 1),
                    "memory_percent": round(readings.memory_percent, 1),
                    "queue_backlog": readings.queue_backlog,
                    "services": {k: v or "ok" for k, v in sorted(readings.services.items())},
                    "thresholds": {
                        "disk_percent": thresholds.disk_percent,
                        "memory_percent": thresholds.memory_percent,
                        "queue_backlog": thresholds.queue_backlog,
                    },
                    "alerts": list(report.alerts),
                },
            )
        )
        uow.commit()
    return report
