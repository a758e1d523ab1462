"""Domain errors.

Every error the core raises on purpose derives from :class:`DomainError` and carries a stable
``code`` that entrypoints map to HTTP statuses or CLI exit messages. Nothing here knows about
transports.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every deliberate domain failure."""

    code: str = "domain_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class IllegalTransition(DomainError):
    """A lifecycle method was called in a state that does not allow it."""

    code = "illegal_transition"

    def __init__(self, entity: str, current: str, action: str) -> None:
        super().__init__(f"cannot {action} a {entity} that is {current}")
        self.entity = entity
        self.current = current
        self.action = action


class NotFound(DomainError):
    """The object does not exist, or the caller may not see it (same answer on purpose)."""

    code = "not_found"


class Conflict(DomainError):
    """The object exists but its state forbids the request."""

    code = "conflict"


class PermissionDenied(DomainError):
    """The caller is known but their role or scope does not allow the action."""

    code = "forbidden"


class AuthenticationFailed(DomainError):
    """Credentials or token are missing, wrong, expired, revoked, or the account is locked."""

    code = "unauthenticated"


class ValidationFailed(DomainError):
    """Input is malformed in a way that is not a query-policy matter."""

    code = "validation_error"


class QueryPolicyViolation(DomainError):
    """A query breaks the query policy; ``path`` names the offending part, e.g.
    ``query.bool.must[2].script``."""

    code = "query_policy_violation"

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.reason = message


class RateLimitExceeded(DomainError):
    """The caller's profile does not admit another request now."""

    code = "rate_limited"

    def __init__(
        self, retry_after: float, message: str = "rate limit exceeded", decision: object = None
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        # The RateLimitDecision behind the refusal, for the rate-limit headers.
        self.decision = decision


class SearchError(DomainError):
    """Base for failures reported by a search backend."""

    code = "search_error"


class TransientSearchError(SearchError):
    """Timeouts, connection errors: worth retrying with back-off."""

    code = "search_unavailable"


class PermanentSearchError(SearchError):
    """Syntax errors, unknown fields, unsupported clauses: retrying cannot help."""

    code = "search_rejected"


class BatchRejected(DomainError):
    """An inbound batch failed verification; ``reason`` is the one-line cause."""

    code = "batch_rejected"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
