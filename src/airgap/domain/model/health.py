"""The response network's periodic health check: what was measured, and which readings
cross the alerting thresholds of the seeds (disk > 80 %, memory > 90 %, queue backlog >
1000)."""

from __future__ import annotations

from collections.abc import Mapping

import attrs


@attrs.frozen
class HealthThresholds:
    disk_percent: float = 80.0
    memory_percent: float = 90.0
    queue_backlog: int = 1000


@attrs.frozen
class HealthReadings:
    """One round of measurements. ``services`` maps a dependency (``database``, ``redis``,
    ``search``) to None when it answered, else to what went wrong."""

    disk_percent: float
    memory_percent: float
    queue_backlog: int
    services: Mapping[str, str | None] = attrs.field(factory=dict)


@attrs.frozen
class HealthReport:
    readings: HealthReadings
    alerts: tuple[str, ...]

    @property
    def healthy(self) -> bool:
        return not self.alerts


def assess(readings: HealthReadings, thresholds: HealthThresholds) -> HealthReport:
    """Each reading over its threshold, and each service that did not answer, is an alert."""
    alerts: list[str] = []
    if readings.disk_percent > thresholds.disk_percent:
        alerts.append(
            f"disk {readings.disk_percent:.1f} % used (threshold {thresholds.disk_percent:g} %)"
        )
    if readings.memory_percent > thresholds.memory_percent:
        alerts.append(
            f"memory {readings.memory_percent:.1f} % used "
            f"(threshold {thresholds.memory_percent:g} %)"
        )
    if readings.queue_backlog > thresholds.queue_backlog:
        alerts.append(
            f"queue backlog {readings.queue_backlog} jobs (threshold {thresholds.queue_backlog})"
        )
    alerts += [
        f"{name} unavailable: {problem}"
        for name, problem in sorted(readings.services.items())
        if problem is not None
    ]
    return HealthReport(readings, tuple(alerts))
