"""Rate-limit headers (SPEC §7): the IETF draft's ``RateLimit-Policy`` and ``RateLimit``, the
familiar ``X-RateLimit-Limit/Remaining/Reset``, ``X-RateLimit-Warning`` from 80 % of any
window, and ``Retry-After`` on a refusal (added by the 429 error handler).

A handler that counted the call against the quota leaves its decision in the scope
(:func:`remember_decision`); every other authenticated response describes the quota as it
stands, from a ``peek`` that counts nothing (:func:`standing`).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import attrs

from airgap.domain.model.rate_limit import WARNING_RATIO, RateLimitDecision, Window, WindowUsage

_STATE_KEY = "airgap_rate_limit"
_WARNING = Fraction(repr(WARNING_RATIO))
_ORDER = {window: index for index, window in enumerate(Window)}


def remember_decision(scope: Any, decision: object) -> None:
    """Keep the decision that counted this call, for the response headers."""
    if isinstance(decision, RateLimitDecision):
        scope.setdefault("state", {})[_STATE_KEY] = decision


def remembered_decision(scope: Any) -> RateLimitDecision | None:
    found = scope.get("state", {}).get(_STATE_KEY)
    return found if isinstance(found, RateLimitDecision) else None


def standing(peeked: RateLimitDecision) -> RateLimitDecision:
    """The quota as it stands, from a ``peek``: a peek that would admit counts the request it
    imagines; take that one out again so ``remaining`` is what may still be sent now."""
    if not peeked.allowed or not peeked.windows:
        return peeked
    usages = tuple(
        attrs.evolve(
            usage,
            used=usage.used - 1,
            remaining=usage.remaining + 1,
            reset_after=usage.reset_after if usage.used > 1 else 0.0,
        )
        for usage in peeked.windows
    )
    binding = min(usages, key=lambda u: (u.remaining, -u.reset_after, _ORDER[u.window]))
    return attrs.evolve(
        peeked,
        limit=binding.limit,
        remaining=binding.remaining,
        reset_after=binding.reset_after,
        warning=any(_warns(u) for u in usages),
        windows=usages,
    )


def _warns(usage: WindowUsage) -> bool:
    return usage.used >= _WARNING * usage.limit


def rate_limit_headers(decision: RateLimitDecision) -> dict[str, str]:
    """The headers describing ``decision``; none for an unlimited profile."""
    if not decision.windows or decision.limit is None or decision.remaining is None:
        return {}
    headers = {
        "RateLimit-Policy": decision.policy_header,
        "RateLimit": decision.rate_limit_header,
        "X-RateLimit-Limit": str(decision.limit),
        "X-RateLimit-Remaining": str(decision.remaining),
        "X-RateLimit-Reset": str(decision.reset_seconds),
    }
    if decision.warning:
        near = [u for u in decision.windows if _warns(u)]
        headers["X-RateLimit-Warning"] = ", ".join(
            f"{u.used} of {u.limit} per {u.window.value} used" for u in near
        )
    return headers
