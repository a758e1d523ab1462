"""Who may sign in to the response network's API: its operators and admins only.

The response network holds every account (it is the source of truth), but the accounts of
role ``user`` belong to the request network's users: here they are neither found at login
nor accepted with a token or API key. :func:`staff_only` wraps the response network's unit of
work so that the :class:`~airgap.domain.services.auth.Authenticator` sees staff accounts
only — a user's login fails exactly like an unknown username.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from types import TracebackType
from typing import Self

from airgap.domain.model.users import User
from airgap.domain.services.user_admin import STAFF_ROLES
from airgap.ports.accounts import AccountsUnitOfWork, ApiKeys
from airgap.ports.response_store import ResponseNetworkUnitOfWork, UserRepository


def _staff(user: User | None) -> User | None:
    return user if user is not None and user.role in STAFF_ROLES else None


class StaffAccounts:
    """The accounts of operators and admins; everyone else looks unknown."""

    def __init__(self, users: UserRepository) -> None:
        self._users = users

    def get(self, user_id: uuid.UUID) -> User | None:
        return _staff(self._users.get(user_id))

    def get_by_username(self, username: str) -> User | None:
        return _staff(self._users.get_by_username(username))

    def save(self, user: User) -> None:
        self._users.save(user)


class StaffUnitOfWork:
    """A response network unit of work narrowed to what authentication needs."""

    def __init__(self, inner: ResponseNetworkUnitOfWork) -> None:
        self._inner = inner

    @property
    def users(self) -> StaffAccounts:
        return StaffAccounts(self._inner.users)

    @property
    def api_keys(self) -> ApiKeys:
        return self._inner.api_keys

    def __enter__(self) -> Self:
        self._inner.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._inner.__exit__(exc_type, exc, tb)

    def commit(self) -> None:
        self._inner.commit()


def staff_only(
    uow: Callable[[], ResponseNetworkUnitOfWork],
) -> Callable[[], AccountsUnitOfWork]:
    """A unit-of-work factory for the Authenticator that knows staff accounts only."""

    def make() -> AccountsUnitOfWork:
        return StaffUnitOfWork(uow())

    return make
