"""Identifiers for new objects."""

from __future__ import annotations

import uuid
from typing import Protocol


class IdGenerator(Protocol):
    """Hands out new unique ids (UUIDs)."""

    def new_id(self) -> uuid.UUID: ...
