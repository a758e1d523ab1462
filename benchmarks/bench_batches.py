"""Batch packing and unpacking through the filesystem adapters, next to plain orjson +
hashlib on the same records, in the same run.

    uv run python benchmarks/bench_batches.py [--runs 7] [--large 100000]

For 500- and 100,000-record batches of synthetic requests, plain and signed+encrypted:

- ``pack``: encoding the records the way the outbox does, and hashing them (no disk);
- ``write``: ``FilesystemOutbox.write`` — encode, encrypt, hash, write, fsync, rename,
  manifest, signature;
- ``read``: ``FilesystemInbox`` — manifest checks, signature, SHA-256 of the file, then
  decrypting and parsing every record as a stream;
- baselines: ``orjson.dumps`` + ``hashlib.sha256`` of the same records as plain dicts, and
  ``orjson.loads`` + ``hashlib.sha256`` of the same lines.

Every figure is the median of ``--runs`` timed runs after one warm-up. The ratio column is
baseline time / operation time, against the encode baseline (pack, write) or the decode
baseline (read) of the same records, each run paired with a baseline run just before it.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import os
import platform
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import attrs
import orjson
import report

from airgap.adapters.filesystem.inbox import FilesystemInbox
from airgap.adapters.filesystem.outbox import FilesystemOutbox
from airgap.adapters.security.encryption import AesGcmCipher, generate_key
from airgap.adapters.security.signing import Ed25519Signer, Ed25519Verifier
from airgap.adapters.serialization import encode_record, record_to_json
from airgap.domain.model.batching import (
    Acks,
    BatchHeader,
    BatchLimits,
    BatchType,
    Channel,
    Network,
)
from airgap.domain.model.records import TransferRecord
from airgap.entrypoints.cli.samples import sample_records

CHANNEL = Channel(Network.REQUEST, Network.RESPONSE)
# Row names, shared by the detailed table and the headline figures.
PACK = "pack (encode + sha256)"
WRITE = "write (outbox, fsync)"
READ = "read (inbox, streaming)"
SECURED = "signed+encrypted"


def timed(run: Callable[[], object], setup: Callable[[], None] | None) -> float:
    if setup:
        setup()
    gc.collect()
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


@attrs.frozen
class Measured:
    seconds: float  # median
    ratio: float | None  # median of (baseline time / subject time) over paired runs
    baseline_seconds: float | None = None  # median of the paired baseline runs


def measure(
    run: Callable[[], object],
    runs: int,
    *,
    baseline: Callable[[], object] | None = None,
    setup: Callable[[], None] | None = None,
) -> Measured:
    """Median time of ``runs`` runs after one warm-up. With a baseline, each run is paired
    with a baseline run right before it, so both see the same machine (the 2-core machines
    this runs on are shared and noisy) and the ratio is the median of the pairs."""
    times, ratios, bases = [], [], []
    for attempt in range(runs + 1):
        base = timed(baseline, None) if baseline else None
        elapsed = timed(run, setup)
        if attempt:
            times.append(elapsed)
            if base is not None:
                ratios.append(base / elapsed)
                bases.append(base)
    return Measured(
        statistics.median(times),
        statistics.median(ratios) if ratios else None,
        statistics.median(bases) if bases else None,
    )


def header(sequence: int) -> BatchHeader:
    return BatchHeader(
        batch_id=uuid.uuid4(),
        batch_type=BatchType.REQUESTS,
        channel=CHANNEL,
        sequence=sequence,
        created_at=datetime.now(UTC),
        acks=Acks(received=((1, sequence),)),
    )


@attrs.frozen
class Row:
    operation: str
    records: int
    mode: str
    measured: Measured

    @property
    def rate(self) -> float:
        return self.records / self.measured.seconds

    @property
    def ms(self) -> float:
        return self.measured.seconds * 1000

    @property
    def baseline_rate(self) -> float | None:
        base = self.measured.baseline_seconds
        return self.records / base if base else None

    @property
    def baseline_ms(self) -> float | None:
        base = self.measured.baseline_seconds
        return base * 1000 if base is not None else None

    def cells(self) -> list[str]:
        ratio = self.measured.ratio
        return [
            self.operation,
            f"{self.records:,}",
            self.mode,
            f"{self.ms:,.2f}",
            f"{self.rate:,.0f}",
            f"{ratio:.0%}" if ratio is not None else "—",
        ]


def bench_size(count: int, runs: int, root: Path) -> list[Row]:
    records: list[TransferRecord] = sample_records(BatchType.REQUESTS, count, seed=count)
    limits = BatchLimits(max_records=max(count, 500))
    dicts = [record_to_json(r) for r in records]
    lines = [orjson.dumps(d, option=orjson.OPT_APPEND_NEWLINE) for d in dicts]

    def encode_baseline() -> str:
        digest = hashlib.sha256()
        for d in dicts:
            digest.update(orjson.dumps(d, option=orjson.OPT_APPEND_NEWLINE))
        return digest.hexdigest()

    def decode_baseline() -> str:
        digest = hashlib.sha256()
        for line in lines:
            digest.update(line)
            orjson.loads(line)
        return digest.hexdigest()

    def pack() -> str:
        digest = hashlib.sha256()
        for record in records:
            digest.update(encode_record(record))
        return digest.hexdigest()

    rows = [
        Row("baseline: orjson.dumps + sha256", count, "—", measure(encode_baseline, runs)),
        Row("baseline: orjson.loads + sha256", count, "—", measure(decode_baseline, runs)),
        Row(PACK, count, "—", measure(pack, runs, baseline=encode_baseline)),
    ]

    signer = Ed25519Signer.generate()
    cipher = AesGcmCipher(generate_key())
    for mode, use_signer, use_cipher in (
        ("plain", None, None),
        (SECURED, signer, cipher),
    ):
        directory = root / f"{count}-{mode}"
        sequence = iter(range(1, 10_000))

        def reset(directory: Path = directory) -> None:
            shutil.rmtree(directory, ignore_errors=True)
            directory.mkdir()

        outbox = FilesystemOutbox(directory, signer=use_signer, cipher=use_cipher, limits=limits)

        def write(outbox: FilesystemOutbox = outbox, sequence: Iterator[int] = sequence) -> object:
            return outbox.write(header(next(sequence)), records)

        rows.append(
            Row(
                WRITE,
                count,
                mode,
                measure(write, runs, baseline=encode_baseline, setup=reset),
            )
        )
        inbox = FilesystemInbox(
            directory,
            Network.RESPONSE,
            limits=limits,
            verifier=Ed25519Verifier([signer.public_key]),
            decipher=cipher,
            require_signature=use_signer is not None,
            require_encryption=use_cipher is not None,
        )

        def read(inbox: FilesystemInbox = inbox) -> int:
            (found,) = inbox.pending()
            found.manifest()
            read = 0
            for _ in found.records():
                read += 1
            assert read == count
            return read

        rows.append(
            Row(
                READ,
                count,
                mode,
                measure(read, runs, baseline=decode_baseline),
            )
        )
    return rows


def table(rows: list[Row]) -> str:
    head = ["operation", "records", "mode", "ms per batch", "records/s", "vs baseline"]
    body = [r.cells() for r in rows]
    widths = [max(len(line[i]) for line in [head, *body]) for i in range(len(head))]
    numeric = {1, 3, 4, 5}

    def fmt(line: list[str]) -> str:
        cells = [
            c.rjust(w) if i in numeric else c.ljust(w)
            for i, (c, w) in enumerate(zip(line, widths, strict=True))
        ]
        return "| " + " | ".join(cells) + " |"

    rule = (
        "|"
        + "|".join(
            ("-" * (w + 1) + ":") if i in numeric else ("-" * (w + 2)) for i, w in enumerate(widths)
        )
        + "|"
    )
    return "\n".join([fmt(head), rule, *(fmt(line) for line in body)])


def headline(rows: list[Row], large: int) -> list[report.Row]:
    """The figures SPEC §13 holds batches to, next to plain orjson + hashlib on the same
    records: the median of the baseline runs paired with each figure's runs (so value /
    baseline is close to the table's "vs baseline", inverted for times). These are the
    filesystem side only: the database half of an export or import is in
    ``bench_postgres.py``."""
    found = {(r.operation, r.records, r.mode): r for r in rows}
    pack = found[PACK, large, "—"]
    read = found[READ, large, SECURED]
    write_500 = found[WRITE, 500, SECURED]
    read_500 = found[READ, 500, SECURED]
    small_bar = "< 100 ms (floor), goal < 20 ms; file side only"
    return [
        report.Row(
            area="Batches",
            measure=f"pack + hash, {large:,} records",
            value=pack.rate,
            unit="records/s",
            baseline="orjson.dumps + sha256, paired runs",
            baseline_value=pack.baseline_rate,
            goal="≥ 100,000/s (floor), goal ≥ 300,000/s and ≥ 40 % of baseline",
            met=pack.rate >= 100_000,
        ),
        report.Row(
            area="Batches",
            measure=f"read {large:,}-record batch, {SECURED} (import, no database)",
            value=read.rate,
            unit="records/s",
            baseline="orjson.loads + sha256, paired runs",
            baseline_value=read.baseline_rate,
            goal="≥ 30,000/s (floor), goal ≥ 50,000/s; file side only",
            met=read.rate >= 30_000,
        ),
        report.Row(
            area="Batches",
            measure=f"write 500-record batch, {SECURED}, fsync (export, no database)",
            value=write_500.ms,
            unit="ms",
            baseline="orjson.dumps + sha256, paired runs",
            baseline_value=write_500.baseline_ms,
            goal=small_bar,
            met=write_500.ms < 100,
        ),
        report.Row(
            area="Batches",
            measure=f"read 500-record batch, {SECURED} (import, no database)",
            value=read_500.ms,
            unit="ms",
            baseline="orjson.loads + sha256, paired runs",
            baseline_value=read_500.baseline_ms,
            goal=small_bar,
            met=read_500.ms < 100,
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--large", type=int, default=100_000)
    args = parser.parse_args()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-batches-") as tmp:
        for count, runs in ((500, args.runs * 3), (args.large, args.runs)):
            rows.extend(bench_size(count, runs, Path(tmp)))
    cpus = os.cpu_count()
    print(
        f"Batches — {platform.python_implementation()} {platform.python_version()}, {cpus} CPUs, "
        f"median of {args.runs} runs ({args.runs * 3} for 500 records)"
    )
    print()
    print(table(rows))
    report.emit(headline(rows, args.large))


if __name__ == "__main__":
    main()
