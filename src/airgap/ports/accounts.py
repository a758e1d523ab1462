"""What authentication needs from a network's persistence: accounts and API keys."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from types import TracebackType
from typing import Protocol, Self

from airgap.domain.model.users import ApiKey, User


class Accounts(Protocol):
    def get(self, user_id: uuid.UUID) -> User | None: ...

    def get_by_username(self, username: str) -> User | None: ...

    def save(self, user: User) -> None: ...


class ApiKeys(Protocol):
    def add(self, key: ApiKey) -> None: ...

    def save(self, key: ApiKey) -> None: ...

    def get(self, key_id: uuid.UUID) -> ApiKey | None: ...

    def get_by_hash(self, key_hash: str) -> ApiKey | None: ...

    def for_user(self, user_id: uuid.UUID) -> Sequence[ApiKey]: ...


class AccountsUnitOfWork(Protocol):
    """Any network's unit of work that holds users and API keys."""

    @property
    def users(self) -> Accounts: ...

    @property
    def api_keys(self) -> ApiKeys: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...
