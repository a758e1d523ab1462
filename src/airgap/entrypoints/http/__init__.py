"""The HTTP APIs: one Litestar app per network, on the shared plumbing in ``common``."""
