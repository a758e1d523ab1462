"""What the host has left: disk and memory use, measured with psutil."""

from __future__ import annotations

from pathlib import Path

import psutil  # type: ignore[import-untyped]  # no type information shipped


def disk_percent(path: Path) -> float:
    """Percent used of the file system holding ``path`` (its nearest existing parent)."""
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return float(psutil.disk_usage(str(probe)).percent)


def memory_percent() -> float:
    return float(psutil.virtual_memory().percent)
