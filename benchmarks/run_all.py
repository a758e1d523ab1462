"""Run every benchmark and print one table of headline figures with their same-run baselines.

    uv run python benchmarks/run_all.py [--only api e2e …] [--quick] [--out FILE]

(``make bench`` runs this.) Each ``bench_*.py`` runs in its own process, one after another
so they never share the machine; its own detailed output goes to a log file (the path is
printed) and its headline rows come back through ``report.emit``. ``--quick`` passes each
benchmark shorter settings (a smoke run, not figures to record). ``--out`` also writes the
table, with the machine it ran on, to a file (for ``docs/performance.md``).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from report import REPORT_ENV, Row, load

HERE = Path(__file__).resolve().parent

#: In the order they run, with the arguments ``--quick`` adds.
BENCHMARKS: dict[str, list[str]] = {
    "search": ["--iterations", "300"],
    "batches": ["--runs", "2", "--large", "10000"],
    "postgres": ["--runs", "3"],
    "cache": ["--iterations", "50", "--replay", "300", "--pool", "40"],
    "pipeline": ["--trials", "2", "--queries", "200"],
    "api": ["--seconds", "3"],
    "e2e": ["--minutes", "0.25"],
}


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return (
        f"{os.cpu_count()} CPUs ({model}){memory}, {platform.system()} {platform.release()}, "
        f"{platform.python_implementation()} {platform.python_version()}"
    )


def _number(value: float) -> str:
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def table(rows: list[Row]) -> str:
    lines = [
        "| area | measure | value | same-run baseline | ratio | goal (SPEC §13) | met |",
        "|---|---|---:|---|---:|---|---|",
    ]
    for row in rows:
        baseline = (
            f"{row.baseline}: {_number(row.baseline_value)} {row.unit}"
            if row.baseline and row.baseline_value is not None
            else (row.baseline or "—")
        )
        ratio = f"{row.ratio:.2f}" if row.ratio is not None else "—"
        met = {True: "yes", False: "**NO**", None: "—"}[row.met]
        lines.append(
            f"| {row.area} | {row.measure} | {_number(row.value)} {row.unit} | {baseline} | "
            f"{ratio} | {row.goal or '—'} | {met} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=list(BENCHMARKS), default=list(BENCHMARKS))
    parser.add_argument("--quick", action="store_true", help="short runs: a smoke test")
    parser.add_argument("--out", type=Path, help="also write the table to this file")
    args = parser.parse_args()

    logs = Path(tempfile.mkdtemp(prefix="airgap-bench-"))
    report_path = logs / "rows.jsonl"
    report_path.touch()
    env = {**os.environ, REPORT_ENV: str(report_path)}
    failed: list[str] = []
    started = datetime.now(UTC)
    print(f"benchmark logs: {logs}", flush=True)
    for name in args.only:
        command = [sys.executable, str(HERE / f"bench_{name}.py")]
        if args.quick:
            command += BENCHMARKS[name]
        log = logs / f"{name}.log"
        print(f"  {name:<9} …", end=" ", flush=True)
        began = time.perf_counter()
        with log.open("wb") as out:
            run = subprocess.run(
                command, check=False, stdout=out, stderr=subprocess.STDOUT, env=env
            )
        code = run.returncode
        took = time.perf_counter() - began
        print(f"{'done' if code == 0 else f'FAILED (exit {code})'} in {took:.0f} s", flush=True)
        if code != 0:
            failed.append(name)

    rows = load(str(report_path))
    header = (
        f"airgap benchmarks, {started:%Y-%m-%d %H:%M} UTC{' (quick)' if args.quick else ''} — "
        f"{machine()}"
    )
    text = f"{header}\n\n{table(rows)}\n"
    print()
    print(text)
    if args.out is not None:
        args.out.write_text(text, encoding="utf-8")
    if failed:
        print(f"failed: {', '.join(failed)} (see their logs in {logs})", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
