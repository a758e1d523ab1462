"""A hostile carrier: it picks batches up from one network's outbox and delivers them to the
other's inbox late, twice, out of order, cut short, with a flipped bit, or never.

The carrier is a person with a USB stick, not the project's ``FilesystemCarrier`` (which
checks every batch and refuses to carry a bad one): what it picks up is held *in flight*
until the harness says what becomes of each parcel. The same carrier works over the
in-memory transfer adapters and over real outbox and inbox directories.
"""

from __future__ import annotations

import enum
import os
import re
import secrets
from pathlib import Path
from typing import Protocol

import attrs

from airgap.adapters.filesystem.files import ensure_subdirectory, move_batch, open_regular
from airgap.adapters.filesystem.names import MANIFEST_SUFFIX, PAYLOAD_SUFFIXES, parse_name
from airgap.adapters.filesystem.outbox import CARRIED
from airgap.adapters.memory.transfer import BatchFile, MemoryInbox, MemoryOutbox


@attrs.frozen
class Parcel:
    """One batch as it travels: the manifest's and the payload's bytes under the batch's
    file stem (names never change on the way; only bytes do)."""

    name: str
    manifest: bytes
    payload: bytes
    payload_suffix: str = ".jsonl"


class Pickup(Protocol):
    def take(self) -> list[Parcel]:
        """Every complete batch waiting in the outbox, removed from it (oldest first)."""
        ...


class Dropoff(Protocol):
    def put(self, parcel: Parcel) -> None:
        """Leave ``parcel`` in the inbox, manifest last."""
        ...


class MemoryPickup:
    def __init__(self, outbox: MemoryOutbox) -> None:
        self.outbox = outbox

    def take(self) -> list[Parcel]:
        return [Parcel(f.name, f.manifest, f.payload) for f in self.outbox.take()]


class MemoryDropoff:
    def __init__(self, inbox: MemoryInbox) -> None:
        self.inbox = inbox

    def put(self, parcel: Parcel) -> None:
        self.inbox.deliver(BatchFile(parcel.name, parcel.manifest, parcel.payload))


class DirectoryPickup:
    """Copies complete batches (manifest present) out of an outbox directory and moves them
    to ``carried/`` as the real carrier does, so the outbox knows they have left. Payloads
    without a manifest (a writer died) are left alone."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def take(self) -> list[Parcel]:
        parcels = []
        names = sorted(
            (n for e in os.scandir(self.directory) if (n := parse_name(e.name)) is not None),
            key=lambda n: (n.timestamp, n.stem),
        )
        for name in names:
            if not name.is_manifest:
                continue
            with open_regular(self.directory / name.manifest_name) as file:
                manifest = file.read()
            for suffix in PAYLOAD_SUFFIXES:
                path = self.directory / f"{name.stem}{suffix}"
                if path.exists():
                    with open_regular(path) as file:
                        parcels.append(Parcel(name.stem, manifest, file.read(), suffix))
                    break
            move_batch(self.directory, name.stem, ensure_subdirectory(self.directory, CARRIED))
        return parcels


class DirectoryDropoff:
    """Writes parcels into an inbox directory: payload first, then the manifest, each under
    a temporary name renamed into place (a copy that lands at all lands whole). A parcel
    delivered again while an earlier copy still waits replaces it."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def put(self, parcel: Parcel) -> None:
        self._write(parcel.name + parcel.payload_suffix, parcel.payload)
        self._write(parcel.name + MANIFEST_SUFFIX, parcel.manifest)

    def _write(self, name: str, data: bytes) -> None:
        temp = self.directory / f".{name}.{secrets.token_hex(4)}.tmp"
        temp.write_bytes(data)
        os.replace(temp, self.directory / name)


class Damage(enum.Enum):
    """What the carrier does to one parcel."""

    INTACT = "intact"
    DELAY = "delay"  # stays in flight: arrives after batches picked up later (reordered)
    DROP = "drop"  # lost for good
    DUPLICATE = "duplicate"  # delivered, and a copy stays in flight to arrive again later
    TRUNCATE_PAYLOAD = "truncate payload"
    FLIP_PAYLOAD = "flip a payload bit"
    FLIP_MANIFEST = "flip a manifest bit"
    # A bit flip that turns the last digit of a number in the manifest (a sequence, a size,
    # an ack) into another digit: the JSON stays valid, so only checks on the values
    # themselves, the manifest's own checksum, or a signature can notice.
    FLIP_MANIFEST_NUMBER = "flip a digit of a manifest number"
    TRUNCATE_MANIFEST = "truncate manifest"


_DIGITS = frozenset(b"0123456789")
_NUMBER = re.compile(rb"[0-9]+")
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')


def _flip(data: bytes, at: int, bit: int) -> bytes:
    return data[:at] + bytes([data[at] ^ (1 << (bit % 8))]) + data[at + 1 :]


def _flip_digit(data: bytes, at: int, bit: int) -> bytes:
    """Flip the lowest bit, from ``bit`` on, that turns the digit at ``at`` into another."""
    for step in range(4):
        flipped = _flip(data, at, (bit + step) % 4)
        if flipped[at] in _DIGITS:
            return flipped
    return data


def _cut(data: bytes, position: int) -> bytes:
    return data[: position % len(data)] if data else data


def damaged(parcel: Parcel, damage: Damage, position: int, bit: int) -> Parcel:
    """``parcel`` as it arrives after ``damage`` at byte ``position`` (taken modulo the
    candidates)."""
    if damage is Damage.TRUNCATE_PAYLOAD:
        return attrs.evolve(parcel, payload=_cut(parcel.payload, position))
    if damage is Damage.FLIP_PAYLOAD:
        if not parcel.payload:
            return parcel
        return attrs.evolve(
            parcel, payload=_flip(parcel.payload, position % len(parcel.payload), bit)
        )
    if damage in (Damage.FLIP_MANIFEST, Damage.FLIP_MANIFEST_NUMBER):
        manifest = parcel.manifest
        if damage is Damage.FLIP_MANIFEST_NUMBER:
            # The last digit of a number (outside strings): the smallest change to a value.
            in_strings = {i for m in _STRING.finditer(manifest) for i in range(*m.span())}
            candidates = [
                m.end() - 1 for m in _NUMBER.finditer(manifest) if m.end() - 1 not in in_strings
            ]
        else:
            candidates = list(range(len(manifest)))
        if not candidates:
            return parcel
        at = candidates[position % len(candidates)]
        flip = _flip if damage is Damage.FLIP_MANIFEST else _flip_digit
        return attrs.evolve(parcel, manifest=flip(manifest, at, bit))
    if damage is Damage.TRUNCATE_MANIFEST:
        return attrs.evolve(parcel, manifest=_cut(parcel.manifest, position))
    return parcel


class HostileCarrier:
    """One direction across the gap, with the parcels it is holding."""

    def __init__(self, pickup: Pickup, dropoff: Dropoff) -> None:
        self.pickup = pickup
        self.dropoff = dropoff
        self.in_flight: list[Parcel] = []
        self.delivered = 0
        self.damaged = 0
        self.dropped = 0

    def pick_up(self) -> int:
        """Take what waits in the outbox; how many parcels that was."""
        taken = self.pickup.take()
        self.in_flight.extend(taken)
        return len(taken)

    def deliver(self, pick: int, damage: Damage, position: int = 0, bit: int = 0) -> None:
        """Deliver (or lose, or hold back) in-flight parcel number ``pick`` (modulo how many
        there are)."""
        self._handle(self.in_flight.pop(pick % len(self.in_flight)), damage, position, bit)

    def deliver_with(self, fates: list[tuple[Damage, int, int]], start: int = 0) -> None:
        """Deliver every parcel in flight, starting at number ``start`` and going round, the
        n-th with ``fates[n]`` (damage, byte position, bit), intact when the fates run out.
        Delayed parcels, and second copies, stay in flight for a later trip."""
        parcels, self.in_flight = self.in_flight, []
        if not parcels:
            return
        start %= len(parcels)
        for n, parcel in enumerate(parcels[start:] + parcels[:start]):
            damage, position, bit = fates[n] if n < len(fates) else (Damage.INTACT, 0, 0)
            self._handle(parcel, damage, position, bit)

    def _handle(self, parcel: Parcel, damage: Damage, position: int, bit: int) -> None:
        if damage in (Damage.DELAY, Damage.DUPLICATE):
            self.in_flight.append(parcel)
        if damage in (Damage.DELAY, Damage.DROP):
            self.dropped += damage is Damage.DROP
            return
        arriving = damaged(parcel, damage, position, bit)
        self.damaged += arriving != parcel
        self.dropoff.put(arriving)
        self.delivered += 1

    def deliver_all(self) -> int:
        """Deliver everything in flight, intact and in order (a reliable carrier)."""
        count = len(self.in_flight)
        while self.in_flight:
            self.deliver(0, Damage.INTACT)
        return count

    def carry(self) -> int:
        """Pick up and deliver everything, intact and in order."""
        self.pick_up()
        return self.deliver_all()
