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

    def revoke_all(self, user_id: uuid.UUID, issued_before: datetime) -> None:
        """Refuse every token of ``user_id`` issued before ``issued_before`` (a password
        change ends the account's other sessions); tokens issued later are not affected."""
        ...


class TokenDenyList(Protocol):
    """Revoked tokens, remembered until they would have expired anyway: single tokens by
    id, and all of a user's tokens issued before a cut-off."""

    def revoke(self, token_id: str, until: datetime) -> None: ...

    def revoke_user(self, user_id: str, issued_before: datetime, until: datetime) -> None:
        """Tokens of ``user_id`` issued before ``issued_before`` are revoked; the cut-off is
        kept until ``until`` (when the last of them expires anyway)."""
        ...

    def is_revoked(self, token_id: str, user_id: str, issued_at: datetime) -> bool:
        """Revoked by its own id, or issued before its user's cut-off."""
        ...
