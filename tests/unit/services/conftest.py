"""Fixtures for use-case tests."""

from support.pipeline import system, user

__all__ = ["system", "user"]
