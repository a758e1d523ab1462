"""The response network's monitoring and admin API (Litestar): ``create_app(container)``."""

from airgap.entrypoints.http.response_network.app import create_app

__all__ = ["create_app"]
