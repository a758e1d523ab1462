"""``airgap transfer``: the carrier's tool."""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

import click

from airgap.domain.model.batching import ReceivedSequences

_DIRECTORY = click.Path(exists=True, file_okay=False, path_type=Path)


@click.command()
@click.option("--from", "source", required=True, type=_DIRECTORY, help="Outbox (or medium).")
@click.option("--to", "destination", required=True, type=_DIRECTORY, help="Inbox (or medium).")
def transfer(source: Path, destination: Path) -> None:
    """Copy complete, verified batches from SOURCE to DESTINATION, read them back, and mark
    them carried in SOURCE (moved to SOURCE/carried/) so none is carried twice. Exits 1 if
    any batch had to be left behind."""
    from airgap.adapters.filesystem.carrier import CarryResult, FilesystemCarrier

    carrier = FilesystemCarrier(source, destination)
    result: CarryResult
    if sys.stdout.isatty():
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        ready, _ = carrier.waiting()
        total = sum(w.size for w in ready)
        with Progress(
            TextColumn("carrying"),
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
            transient=True,
        ) as bar:
            task = bar.add_task("carry", total=total)
            result = carrier.carry_batches(lambda n: bar.advance(task, n))
    else:
        result = carrier.carry_batches()
    report = result.report()
    click.echo(
        f"carried {report.batches} batch{'es' if report.batches != 1 else ''}: "
        f"{report.records:,} records, {report.bytes:,} bytes"
    )
    channels: dict[str, ReceivedSequences] = defaultdict(ReceivedSequences)
    for manifest in result.carried:
        channels[manifest.channel.name].add(manifest.sequence)
    for channel, sequences in sorted(channels.items()):
        ranges = ", ".join(f"{lo}" if lo == hi else f"{lo}-{hi}" for lo, hi in sequences.ranges)
        click.echo(f"  {channel} sequences {ranges}")
    for skipped in result.skipped:
        click.echo(f"left behind {skipped.name}: {skipped.reason}", err=True)
    if result.skipped:
        sys.exit(1)
