"""Password strength: long enough, not trivially guessable, not the username."""

from __future__ import annotations

import attrs

from airgap.domain.model.errors import ValidationFailed

# The most common passwords of public breach lists (and their obvious variants below).
COMMON = frozenset(
    {
        "password",
        "passw0rd",
        "123456789012",
        "qwertyuiop",
        "iloveyou",
        "letmein",
        "welcome",
        "admin",
        "administrator",
        "changeme",
        "trustno1",
        "monkey",
        "dragon",
        "football",
        "baseball",
        "sunshine",
        "princess",
        "qwerty123",
        "1q2w3e4r5t",
    }
)


@attrs.frozen
class PasswordPolicy:
    """Length over complexity rules (NIST SP 800-63B): at least ``min_length`` characters,
    at least ``min_distinct`` different ones, not a common password, not the username."""

    min_length: int = 12
    max_length: int = 256
    min_distinct: int = 5

    def check(self, password: str, *, username: str | None = None) -> None:
        """Raise :class:`ValidationFailed` naming the first rule ``password`` breaks."""
        if len(password) < self.min_length:
            raise ValidationFailed(f"password must be at least {self.min_length} characters")
        if len(password) > self.max_length:
            raise ValidationFailed(f"password must be at most {self.max_length} characters")
        if len(set(password)) < self.min_distinct:
            raise ValidationFailed(
                f"password must use at least {self.min_distinct} different characters"
            )
        lowered = password.lower()
        stripped = lowered.rstrip("0123456789!@#$%^&*.")
        if lowered in COMMON or stripped in COMMON:
            raise ValidationFailed("password is too common")
        if username and username.lower() in lowered:
            raise ValidationFailed("password must not contain the username")
