"""The `airgap up` instance the end-to-end tests share (one per module)."""

from support.airgap_up import airgap_up

__all__ = ["airgap_up"]
