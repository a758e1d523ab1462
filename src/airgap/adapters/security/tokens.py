"""JWT access (1 h) and refresh (7 d) tokens, HS256, with a deny-list for revocation.

``iat`` carries milliseconds (RFC 7519 allows a non-integer NumericDate), so a cut-off set
by a password change separates the tokens issued before it from the one issued right after.
"""

from __future__ import annotations

import math
import secrets
import uuid
from datetime import UTC, datetime, timedelta

import jwt

from airgap.domain.model.errors import AuthenticationFailed
from airgap.domain.model.users import Role
from airgap.ports.tokens import TokenClaims, TokenDenyList

LIFETIMES = {"access": timedelta(hours=1), "refresh": timedelta(days=7)}
ALGORITHM = "HS256"
# Processes' clocks may disagree a little; a token from a few seconds ahead is still fine.
ISSUED_AT_LEEWAY = timedelta(seconds=60)


class JwtTokenIssuer:
    """Signs tokens with a secret; ``issuer`` names the network so a token of one network is
    never accepted by the other."""

    def __init__(self, secret: str, denylist: TokenDenyList, *, issuer: str) -> None:
        if len(secret) < 32:
            raise ValueError("the token secret must be at least 32 characters")
        self._secret = secret
        self._denylist = denylist
        self._issuer = issuer

    def issue(self, user_id: uuid.UUID, role: Role, kind: str, now: datetime) -> str:
        if kind not in LIFETIMES:
            raise ValueError(f"unknown token kind {kind!r}")
        payload = {
            "sub": str(user_id),
            "role": role.value,
            "kind": kind,
            "jti": secrets.token_urlsafe(16),
            "iat": _milliseconds(now),
            "exp": int((now + LIFETIMES[kind]).timestamp()),
            "iss": self._issuer,
        }
        return jwt.encode(payload, self._secret, algorithm=ALGORITHM)

    def decode(self, token: str, now: datetime) -> TokenClaims:
        try:
            payload = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                issuer=self._issuer,
                options={
                    "require": ["sub", "exp", "iat", "jti", "kind", "role"],
                    "verify_exp": False,
                    "verify_iat": False,
                },
            )
            claims = TokenClaims(
                user_id=uuid.UUID(payload["sub"]),
                role=Role(payload["role"]),
                kind=str(payload["kind"]),
                token_id=str(payload["jti"]),
                issued_at=datetime.fromtimestamp(payload["iat"], UTC),
                expires_at=datetime.fromtimestamp(payload["exp"], UTC),
            )
        except (jwt.InvalidTokenError, ValueError, KeyError, TypeError):
            raise AuthenticationFailed("invalid token") from None
        # Expiry (and issue time) are checked against the injected clock, not the machine's,
        # so tests and the domain agree on time.
        if now >= claims.expires_at:
            raise AuthenticationFailed("token expired")
        if claims.issued_at > now + ISSUED_AT_LEEWAY:
            raise AuthenticationFailed("token issued in the future")
        if self._denylist.is_revoked(claims.token_id, str(claims.user_id), claims.issued_at):
            raise AuthenticationFailed("token revoked")
        return claims

    def revoke(self, claims: TokenClaims) -> None:
        self._denylist.revoke(claims.token_id, claims.expires_at)

    def revoke_all(self, user_id: uuid.UUID, issued_before: datetime) -> None:
        cutoff = datetime.fromtimestamp(_milliseconds(issued_before), UTC)
        self._denylist.revoke_user(str(user_id), cutoff, cutoff + max(LIFETIMES.values()))


def _milliseconds(moment: datetime) -> float:
    """Seconds since the epoch, rounded down to the millisecond (exact in a float)."""
    return math.floor(moment.timestamp() * 1000) / 1000
