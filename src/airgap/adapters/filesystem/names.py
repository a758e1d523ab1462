"""Batch file names: ``{type}_{YYYYMMDD}_{HHMMSS}_{batch_id}`` plus a suffix.

Only names that match this pattern exactly (lowercase canonical UUID, ASCII digits, one of
the four types) are ever treated as batch files, so a name can never carry a path
separator, ``..``, or anything else a reader would have to defend against later.
"""

from __future__ import annotations

import re
import uuid

import attrs

from airgap.domain.model.batching import BatchType

MANIFEST_SUFFIX = ".manifest.json"
PLAIN_SUFFIX = ".jsonl"
ENCRYPTED_SUFFIX = ".jsonl.enc"
REASON_SUFFIX = ".reason.txt"
PAYLOAD_SUFFIXES = (PLAIN_SUFFIX, ENCRYPTED_SUFFIX)
BATCH_SUFFIXES = (MANIFEST_SUFFIX, *PAYLOAD_SUFFIXES)

_STEM = (
    r"(?P<type>requests|responses|users|system)_(?P<timestamp>[0-9]{8}_[0-9]{6})_"
    r"(?P<batch_id>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
)
_NAME = re.compile(rf"(?P<stem>{_STEM})(?P<suffix>\.manifest\.json|\.jsonl|\.jsonl\.enc)")


@attrs.frozen
class BatchName:
    """What a batch file's name says about the batch."""

    stem: str
    batch_type: BatchType
    timestamp: str  # YYYYMMDD_HHMMSS, UTC
    batch_id: uuid.UUID
    suffix: str

    @property
    def is_manifest(self) -> bool:
        return self.suffix == MANIFEST_SUFFIX

    @property
    def manifest_name(self) -> str:
        return self.stem + MANIFEST_SUFFIX


def parse_name(name: str) -> BatchName | None:
    """The parts of a batch file name, or None for any other name."""
    match = _NAME.fullmatch(name)
    if match is None:
        return None
    return BatchName(
        stem=match["stem"],
        batch_type=BatchType(match["type"]),
        timestamp=match["timestamp"],
        batch_id=uuid.UUID(match["batch_id"]),
        suffix=match["suffix"],
    )


def stem_of(name: str) -> str | None:
    """The stem of a manifest or payload name, or None for any other name."""
    parsed = parse_name(name)
    return parsed.stem if parsed else None
