"""Pages of lists: ``limit`` and ``offset`` query parameters in, ``{"items", "total",
"limit", "offset"}`` out (Litestar's ``OffsetPagination``, so the schema says so)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, TypeVar

import attrs
from litestar.pagination import OffsetPagination
from litestar.params import QueryParameter

from airgap.adapters.postgres.read_models import MAX_LIMIT

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_OFFSET = 1_000_000_000
"""Far beyond any list here, and well inside the database's 64-bit ``OFFSET``."""


@attrs.frozen
class PageParams:
    limit: int
    offset: int


def page_params(
    limit: Annotated[
        int, QueryParameter(ge=1, le=MAX_LIMIT, description=f"Items per page (1–{MAX_LIMIT}).")
    ] = DEFAULT_LIMIT,
    offset: Annotated[int, QueryParameter(ge=0, le=MAX_OFFSET, description="Items to skip.")] = 0,
) -> PageParams:
    """The dependency that reads and checks the page parameters."""
    return PageParams(limit, offset)


def page_of(items: Iterable[T], total: int, page: PageParams) -> OffsetPagination[T]:
    return OffsetPagination(items=list(items), limit=page.limit, offset=page.offset, total=total)
