"""Query parameters the response network's lists share."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from litestar.params import QueryParameter

from airgap.domain.model.errors import ValidationFailed
from airgap.entrypoints.http.common.pagination import PageParams

#: Offsets past this are refused (a list is never that long; PostgreSQL's OFFSET is bigint).
MAX_OFFSET = 1_000_000_000

_PRINTABLE = r"^[^\x00-\x1f\x7f]*$"

Text = Annotated[str | None, QueryParameter(min_length=1, max_length=255, pattern=_PRINTABLE)]
Sort = Annotated[
    str | None,
    QueryParameter(
        min_length=1,
        max_length=50,
        pattern=r"^-?[a-z_]+$",
        description="A field to sort by, '-field' for descending.",
    ),
]
Since = Annotated[
    datetime | None, QueryParameter(description="From this time on (ISO 8601; UTC if no offset).")
]
Until = Annotated[datetime | None, QueryParameter(description="Before this time (ISO 8601).")]


def bounded(page: PageParams) -> PageParams:
    if page.offset > MAX_OFFSET:
        raise ValidationFailed(f"offset must be at most {MAX_OFFSET}")
    return page


def utc(moment: datetime | None) -> datetime | None:
    """A time without an offset is taken as UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def text(value: str | None) -> str | None:
    """Refuse text the database cannot hold (Litestar documents the pattern; this enforces
    it whatever the framework's version does with it)."""
    if value is not None and any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValidationFailed("text parameters must not contain control characters")
    return value
