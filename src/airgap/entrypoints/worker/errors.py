"""Which failures a task retries: the transient ones.

A task that fails transiently — the database or Redis unreachable, a lock or serialization
conflict, a search timeout, a full disk, a webhook that is down — is retried with an
exponential back-off (``AIRGAP_RETRY_*``). Anything else is a bug or bad input that the
same call will hit again: the message goes straight to the dead letters, with its
traceback, for an operator.
"""

from __future__ import annotations

from collections.abc import Callable

import redis
from sqlalchemy import exc as sa

from airgap.domain.model.errors import TransientSearchError
from airgap.ports.notifications import DeliveryFailed


class RetryLater(Exception):
    """Raised by a job that could not run now and should be tried again (e.g. it waited
    too long for a lock)."""


def is_transient(error: BaseException) -> bool:
    if isinstance(error, RetryLater | TransientSearchError):
        return True
    if isinstance(error, DeliveryFailed):
        return error.transient
    if isinstance(error, sa.OperationalError | sa.InterfaceError | sa.TimeoutError):
        return True  # connection lost, pool exhausted, deadlock, serialization failure
    if isinstance(error, sa.DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, redis.ConnectionError | redis.TimeoutError | redis.BusyLoadingError):
        return True
    # Includes ConnectionError and TimeoutError (both OSError), httpx/OS network errors are
    # wrapped into DeliveryFailed by the notifier.
    return isinstance(error, OSError)


def retry_when(max_retries: int) -> Callable[[int, BaseException], bool]:
    """Dramatiq's ``retry_when`` predicate: retry transient failures ``max_retries`` times."""

    def decide(retries: int, error: BaseException) -> bool:
        return retries < max_retries and is_transient(error)

    return decide
