"""Fixtures of the real-stack tests (see real_stack.py)."""

from real_stack import alice, engine_index, stack

from support.databases import (  # noqa: F401 - fixtures, registered by being imported
    pg_response_store,
    response_database_url,
)

__all__ = ["alice", "engine_index", "stack"]
