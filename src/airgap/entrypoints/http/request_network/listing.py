"""Calling the read models from handlers: their refusals (a bad sort or page) are the
caller's mistake, 422."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from airgap.adapters.postgres.read_models import InvalidQuery, Page
from airgap.domain.model.errors import ValidationFailed

T = TypeVar("T")


def listed(query: Callable[..., Page[T]], **arguments: Any) -> Page[T]:
    try:
        return query(**arguments)
    except InvalidQuery as refused:
        raise ValidationFailed(str(refused)) from None
