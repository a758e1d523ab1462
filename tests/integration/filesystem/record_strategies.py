"""Hypothesis strategies for every transfer record type, with free-form JSON inside."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import strategies as st

from airgap.domain.model.batching import SENDERS, BatchType, Channel, ImportStatus, Rejection
from airgap.domain.model.records import (
    ALLOWED_RECORDS,
    ImportReportRecord,
    RequestRecord,
    ResultRecord,
    TransferRecord,
    UserRecord,
)

INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
text = st.text(max_size=40)
# Whole seconds included on purpose: they are spelled differently by orjson and by hand.
timestamps = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
) | st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
).map(lambda d: d.replace(microsecond=0))

json_scalars = (
    st.none() | st.booleans() | INT64 | st.floats(allow_nan=False, allow_infinity=False) | text
)
json_values: st.SearchStrategy[Any] = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=12,
)
json_objects = st.dictionaries(text, json_values, max_size=5)
small = st.integers(min_value=0, max_value=10**6)
optional_small = st.none() | small

requests_ = st.builds(
    RequestRecord,
    request_id=st.uuids(),
    user_id=st.uuids(),
    query_type=text,
    query_params=json_objects,
    query_hash=text,
    priority=st.integers(min_value=1, max_value=10),
    created_at=timestamps,
    expires_at=timestamps,
)
results = st.builds(
    ResultRecord,
    request_id=st.uuids(),
    request_batch_id=st.uuids(),
    request_batch_sequence=st.integers(min_value=1, max_value=10**9),
    query_hash=text,
    status=st.sampled_from(["completed", "failed"]),
    backend=text,
    index=text,
    executed_at=timestamps,
    result_data=st.none() | json_objects,
    result_count=optional_small,
    execution_time_ms=optional_small,
    took_ms=optional_small,
    cache_hit=st.booleans(),
    error=st.none() | text,
    metadata=json_objects,
)
users = st.builds(
    UserRecord,
    user_id=st.uuids(),
    username=text,
    email=text,
    hashed_password=text,
    profile_type=text,
    rate_limit_per_minute=optional_small,
    rate_limit_per_hour=optional_small,
    rate_limit_per_day=optional_small,
    priority=st.integers(min_value=1, max_value=10),
    role=text,
    is_active=st.booleans(),
    version=small,
    snapshot_version=small,
    full_name=st.none() | text,
)
reports = st.builds(
    ImportReportRecord,
    batch_id=st.uuids(),
    sequence=st.none() | st.integers(min_value=1, max_value=10**9),
    batch_type=st.none() | st.sampled_from(BatchType),
    status=st.sampled_from(ImportStatus),
    accepted=small,
    duplicates=small,
    rejections=st.lists(st.builds(Rejection, text, text), max_size=3).map(tuple),
    error=st.none() | text,
)

BY_CLASS: dict[type, st.SearchStrategy[Any]] = {
    RequestRecord: requests_,
    ResultRecord: results,
    UserRecord: users,
    ImportReportRecord: reports,
}
any_record: st.SearchStrategy[TransferRecord] = st.one_of(*BY_CLASS.values())


@st.composite
def batch_contents(
    draw: st.DrawFn, max_records: int = 12
) -> tuple[BatchType, Channel, list[TransferRecord]]:
    """A batch type, a channel that may carry it, and records it may hold."""
    batch_type = draw(st.sampled_from(BatchType))
    source = draw(st.sampled_from(sorted(SENDERS[batch_type])))
    allowed = st.one_of(*(BY_CLASS[cls] for cls in ALLOWED_RECORDS[batch_type]))
    records = draw(st.lists(allowed, max_size=max_records))
    return batch_type, Channel.from_(source), records
