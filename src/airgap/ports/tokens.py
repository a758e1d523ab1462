"""Access and refresh tokens."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Protocol

import attrs

from airgap.domain.model.users import Role


@attrs.frozen
class TokenClaims:
    user_id: uuid.UUID
    role: Role
    kind: str  # "access" or "refresh"
    token_id: str
    issued_at: datetime
    expires_at: datetime


class TokenIssuer(Protocol):
    def issue(self, user_id: uuid.UUID, role: Role, kind: str, now: datetime) -> str: ...

    def decode(self, token: str, now: datetime) -> TokenClaims:
        """Raises AuthenticationFailed for a bad, expired or revoked token."""
        ...

    def revoke(self, claims: TokenClaims) -> None: ...


class TokenDenyList(Protocol):
    """Revoked token ids, remembered until the token would have expired anyway."""

    def revoke(self, token_id: str, until: datetime) -> None: ...

    def is_revoked(self, token_id: str) -> bool: ...
