"""One row format for every benchmark, so ``make bench`` can print a single table.

A benchmark prints its own detailed tables as before and, at the end, hands its headline
figures to :func:`emit`: each :class:`Row` is one figure with the baseline measured in the
same run, and the SPEC §13 bar it is held to. When ``AIRGAP_BENCH_REPORT`` names a file
(``benchmarks/run_all.py`` sets it), the rows are appended there as JSON Lines; otherwise
``emit`` does nothing, so every benchmark still runs on its own.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass

REPORT_ENV = "AIRGAP_BENCH_REPORT"


@dataclass(frozen=True)
class Row:
    """One headline figure.

    ``value`` is in ``unit``; ``baseline`` names what it is compared with (measured in the
    same run, same unit) and ``baseline_value`` is that figure; ``ratio`` is filled in as
    value / baseline. ``goal`` is the bar as text (``"≥ 1,000/s"``) and ``met`` whether the
    figure reaches it (``None`` when the SPEC sets no bar for it).
    """

    area: str
    measure: str
    value: float
    unit: str
    baseline: str | None = None
    baseline_value: float | None = None
    goal: str | None = None
    met: bool | None = None

    @property
    def ratio(self) -> float | None:
        if self.baseline_value in (None, 0):
            return None
        assert self.baseline_value is not None
        return self.value / self.baseline_value


def emit(rows: Iterable[Row]) -> None:
    """Append ``rows`` to the report file named by ``AIRGAP_BENCH_REPORT``, if any."""
    path = os.environ.get(REPORT_ENV)
    if not path:
        return
    with open(path, "a", encoding="utf-8") as report:
        for row in rows:
            report.write(json.dumps(asdict(row), ensure_ascii=False) + "\n")


def load(path: str) -> list[Row]:
    with open(path, encoding="utf-8") as report:
        return [Row(**json.loads(line)) for line in report if line.strip()]
