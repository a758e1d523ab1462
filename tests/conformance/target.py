"""What the conformance fixtures hand to the tests."""

from __future__ import annotations

import attrs

from airgap.ports.search import SearchBackend


@attrs.frozen
class Target:
    """A backend holding the conformance documents under ``index``."""

    backend: SearchBackend
    index: str
