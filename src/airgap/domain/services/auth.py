"""Signing in: passwords, access and refresh tokens, API keys.

A deactivated (or locally stopped) account is refused at once, also with a token issued
before the stop, because every authenticated call looks the account up again.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime

import attrs

from airgap.domain.model.errors import AuthenticationFailed, NotFound, ValidationFailed
from airgap.domain.model.users import ApiKey, Role, User
from airgap.ports.accounts import AccountsUnitOfWork
from airgap.ports.clock import Clock
from airgap.ports.ids import IdGenerator
from airgap.ports.passwords import PasswordHasher
from airgap.ports.tokens import TokenClaims, TokenIssuer

API_KEY_PREFIX = "ak_live_"
ACCESS_LIFETIME_S = 3600
# Verified against when the username is unknown, so both failures take as long.
_DUMMY_PASSWORD = "no such user; constant-time decoy"  # noqa: S105 - not a credential


@attrs.frozen
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int = ACCESS_LIFETIME_S
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type


@attrs.frozen
class Principal:
    """Who is calling, and how they proved it."""

    user: User
    via: str  # "token" or "api_key"
    scopes: frozenset[str] = frozenset({"*"})
    api_key_id: uuid.UUID | None = None

    @property
    def role(self) -> Role:
        return self.user.role

    def allows(self, scope: str) -> bool:
        return "*" in self.scopes or scope in self.scopes


@attrs.frozen
class NewApiKey:
    key: ApiKey
    secret: str  # shown to the user once, never stored


def hash_api_key(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@attrs.frozen
class Authenticator:
    uow: Callable[[], AccountsUnitOfWork]
    clock: Clock
    ids: IdGenerator
    hasher: PasswordHasher
    tokens: TokenIssuer
    decoy_hash: str = ""

    def _usable(self, user: User | None) -> User:
        if user is None or not user.may_sign_in:
            raise AuthenticationFailed("account unknown, locked or deactivated")
        return user

    def _pair(self, user: User, now: datetime) -> TokenPair:
        return TokenPair(
            access_token=self.tokens.issue(user.id, user.role, "access", now),
            refresh_token=self.tokens.issue(user.id, user.role, "refresh", now),
        )

    def login(self, username: str, password: str) -> TokenPair:
        with self.uow() as uow:
            now = self.clock.now()
            user = uow.users.get_by_username(username)
            if user is None:
                self.hasher.verify(self.decoy_hash or self.hasher.hash(_DUMMY_PASSWORD), password)
                raise AuthenticationFailed("invalid username or password")
            if not self.hasher.verify(user.hashed_password, password):
                raise AuthenticationFailed("invalid username or password")
            user = self._usable(user)
            user.last_login = now
            uow.users.save(user)
            uow.commit()
            return self._pair(user, now)

    def refresh(self, refresh_token: str) -> TokenPair:
        """Rotate: the refresh token used is revoked and a new pair issued."""
        now = self.clock.now()
        claims = self._claims(refresh_token, "refresh", now)
        with self.uow() as uow:
            user = self._usable(uow.users.get(claims.user_id))
        self.tokens.revoke(claims)
        return self._pair(user, now)

    def logout(self, refresh_token: str) -> None:
        claims = self._claims(refresh_token, "refresh", self.clock.now())
        self.tokens.revoke(claims)

    def _claims(self, token: str, kind: str, now: datetime) -> TokenClaims:
        claims = self.tokens.decode(token, now)
        if claims.kind != kind:
            raise AuthenticationFailed(f"a {kind} token is required")
        return claims

    def from_access_token(self, token: str) -> Principal:
        claims = self._claims(token, "access", self.clock.now())
        with self.uow() as uow:
            return Principal(self._usable(uow.users.get(claims.user_id)), via="token")

    def from_api_key(self, secret: str) -> Principal:
        with self.uow() as uow:
            now = self.clock.now()
            key = uow.api_keys.get_by_hash(hash_api_key(secret))
            if key is None or not key.usable_at(now):
                raise AuthenticationFailed("invalid, revoked or expired API key")
            user = self._usable(uow.users.get(key.user_id))
            key.mark_used(now)
            uow.api_keys.save(key)
            uow.commit()
            return Principal(user, via="api_key", scopes=key.scopes, api_key_id=key.id)

    def create_api_key(
        self,
        user_id: uuid.UUID,
        name: str,
        scopes: frozenset[str] = frozenset({"*"}),
        expires_at: datetime | None = None,
    ) -> NewApiKey:
        if not name.strip() or len(name) > 100:
            raise ValidationFailed("an API key needs a name of 1 to 100 characters")
        secret = API_KEY_PREFIX + secrets.token_urlsafe(32)
        with self.uow() as uow:
            now = self.clock.now()
            if expires_at is not None and expires_at <= now:
                raise ValidationFailed("expires_at must be in the future")
            self._usable(uow.users.get(user_id))
            key = ApiKey(
                id=self.ids.new_id(),
                user_id=user_id,
                name=name,
                prefix=secret[: len(API_KEY_PREFIX) + 6],
                key_hash=hash_api_key(secret),
                scopes=scopes,
                created_at=now,
                expires_at=expires_at,
            )
            uow.api_keys.add(key)
            uow.commit()
        return NewApiKey(key, secret)

    def api_keys_of(self, user_id: uuid.UUID) -> Sequence[ApiKey]:
        with self.uow() as uow:
            return sorted(uow.api_keys.for_user(user_id), key=lambda k: k.created_at)

    def revoke_api_key(self, user_id: uuid.UUID, key_id: uuid.UUID) -> ApiKey:
        with self.uow() as uow:
            key = uow.api_keys.get(key_id)
            if key is None or key.user_id != user_id:
                raise NotFound("API key not found")
            key.revoke()
            uow.api_keys.save(key)
            uow.commit()
            return key
