"""Composition roots: build each network from settings and adapters."""
