"""Batches the inbox refused, as an operator sees them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from airgap.domain.model.operations import QuarantinedFile


class QuarantineView(Protocol):
    def files(self) -> Sequence[QuarantinedFile]:
        """Every quarantined batch with its reason, newest first."""
        ...
