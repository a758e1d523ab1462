"""Transfer bookkeeping both networks keep: export and import batches and the two ends of
each channel (the ``batch_records`` ports)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import attrs
from sqlalchemy import Connection, Table, and_, exists, func, not_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from airgap.adapters.postgres import tables
from airgap.adapters.postgres.statements import by, fetch_all, fetch_one, insert, select_by, upsert
from airgap.adapters.postgres.translation import (
    channel_key,
    export_batch_from,
    export_batch_row,
    import_batch_from,
    import_batch_row,
    inbound_from,
    inbound_row,
    outbound_from,
    outbound_row,
)
from airgap.domain.model.batching import (
    Channel,
    ExportBatch,
    ExportStatus,
    ImportBatch,
    ImportStatus,
    InboundChannel,
    OutboundChannel,
)

# Advisory-lock class for "importing batch X" (the second key is taken from the batch id).
_IMPORT_LOCK_CLASS = 0x41475049  # "AGPI"


@attrs.frozen
class TransferTables:
    export_batches: Table
    import_batches: Table
    outbound_channels: Table
    inbound_channels: Table


REQUEST_TRANSFER_TABLES = TransferTables(
    tables.request_export_batches,
    tables.request_import_batches,
    tables.request_outbound_channels,
    tables.request_inbound_channels,
)
RESPONSE_TRANSFER_TABLES = TransferTables(
    tables.response_export_batches,
    tables.response_import_batches,
    tables.response_outbound_channels,
    tables.response_inbound_channels,
)


def _wall_clock() -> datetime:
    return datetime.now(UTC)


class PostgresExportBatches:
    """Batches this network wrote. ``completed_at`` (a seeds column the domain does not
    keep) records, by the wall clock, when the batch was first stored as written."""

    def __init__(self, connection: Connection, table: Table) -> None:
        self._connection = connection
        self._table = table

    def _row(self, batch: ExportBatch) -> dict[str, object]:
        row = export_batch_row(batch)
        row["completed_at"] = None if batch.status is ExportStatus.PENDING else _wall_clock()
        return row

    def add(self, batch: ExportBatch) -> None:
        insert(self._connection, self._table, [self._row(batch)])

    def save(self, batch: ExportBatch) -> None:
        upsert(self._connection, self._table, [self._row(batch)], keep_existing=("completed_at",))

    def get(self, batch_id: uuid.UUID) -> ExportBatch | None:
        row = fetch_one(self._connection, select_by(self._table, "id"), by(id=batch_id))
        return None if row is None else export_batch_from(row)

    def by_sequence(self, channel: Channel, sequence: int) -> ExportBatch | None:
        statement = select_by(self._table, "source_network", "destination_network", "sequence")
        params = by(**channel_key(channel), sequence=sequence)
        row = fetch_one(self._connection, statement, params)
        return None if row is None else export_batch_from(row)

    def _where(
        self, channel: Channel, status: ExportStatus, *, lock: bool = False
    ) -> list[ExportBatch]:
        t = self._table
        statement = (
            select(t)
            .where(
                t.c.source_network == channel.source.value,
                t.c.destination_network == channel.destination.value,
                t.c.status == status.value,
            )
            .order_by(t.c.sequence)
        )
        if lock:
            statement = statement.with_for_update()
        return [export_batch_from(r) for r in fetch_all(self._connection, statement)]

    def awaiting_ack(self, channel: Channel) -> Sequence[ExportBatch]:
        """Locked ``FOR UPDATE``: acks arriving in an import and the re-send rule both
        change these rows; the second to come waits and sees what the first decided."""
        return self._where(channel, ExportStatus.COMPLETED, lock=True)

    def unwritten(self, channel: Channel) -> Sequence[ExportBatch]:
        return self._where(channel, ExportStatus.PENDING)

    def all(self) -> list[ExportBatch]:
        t = self._table
        statement = select(t).order_by(t.c.source_network, t.c.destination_network, t.c.sequence)
        return [export_batch_from(r) for r in fetch_all(self._connection, statement)]


class PostgresImportBatches:
    def __init__(self, connection: Connection, table: Table) -> None:
        self._connection = connection
        self._table = table

    def add(self, batch: ImportBatch) -> None:
        insert(self._connection, self._table, [import_batch_row(batch)])

    def save(self, batch: ImportBatch) -> None:
        upsert(self._connection, self._table, [import_batch_row(batch)])

    def get(self, import_id: uuid.UUID) -> ImportBatch | None:
        row = fetch_one(self._connection, select_by(self._table, "id"), by(id=import_id))
        return None if row is None else import_batch_from(row)

    def was_imported(self, batch_id: uuid.UUID) -> bool:
        """Also takes a transaction-scoped advisory lock on ``batch_id``: two imports of the
        same batch racing each other are serialised here, and the second -- its check runs
        in a new statement, so it sees what the first committed -- finds the batch imported
        and records a duplicate instead of importing it again."""
        lock_key = int.from_bytes(batch_id.bytes[:4], "big", signed=True)
        self._connection.execute(select(func.pg_advisory_xact_lock(_IMPORT_LOCK_CLASS, lock_key)))
        t = self._table
        statement = select(
            exists().where(
                and_(t.c.source_batch_id == batch_id, t.c.status == ImportStatus.COMPLETED.value)
            )
        )
        return bool(self._connection.execute(statement).scalar())

    def unreported(self) -> Sequence[ImportBatch]:
        """Locked ``FOR UPDATE SKIP LOCKED``: two exporters at once never both carry the
        same import report."""
        t = self._table
        statement = (
            select(t)
            .where(not_(t.c.reported))  # spelled as idx_import_batches_unreported's predicate
            .order_by(t.c.created_at, t.c.id)
            .with_for_update(skip_locked=True)
        )
        return [import_batch_from(r) for r in fetch_all(self._connection, statement)]

    def all(self) -> list[ImportBatch]:
        t = self._table
        statement = select(t).order_by(t.c.created_at, t.c.id)
        return [import_batch_from(r) for r in fetch_all(self._connection, statement)]


class PostgresChannels:
    """Both ends of the channels. Reading an end locks its row until the transaction ends:
    the outbound row serialises sequence allocation between exporters, the inbound row
    serialises the read-modify-write of the received ranges between importers (without it,
    two batches imported at once could each save ranges missing the other's sequence)."""

    def __init__(self, connection: Connection, tables: TransferTables) -> None:
        self._connection = connection
        self._outbound = tables.outbound_channels
        self._inbound = tables.inbound_channels

    def _locked(self, table: Table, channel: Channel) -> dict[str, object]:
        key = channel_key(channel)
        statement = (
            select(table)
            .where(
                table.c.source_network == key["source_network"],
                table.c.destination_network == key["destination_network"],
            )
            .with_for_update()
        )
        row = fetch_one(self._connection, statement)
        if row is None:
            # First use. Concurrent first uses both insert; the second waits for the first
            # to commit and then does nothing, and both lock the one row below.
            self._connection.execute(pg_insert(table).values(**key).on_conflict_do_nothing())
            row = fetch_one(self._connection, statement)
            if row is None:  # pragma: no cover - the row was just inserted
                raise RuntimeError(f"channel {channel.name} vanished")
        return dict(row)

    def outbound(self, channel: Channel) -> OutboundChannel:
        return outbound_from(self._locked(self._outbound, channel))

    def inbound(self, channel: Channel) -> InboundChannel:
        return inbound_from(self._locked(self._inbound, channel))

    def save_outbound(self, state: OutboundChannel) -> None:
        upsert(
            self._connection,
            self._outbound,
            [outbound_row(state)],
            key=("source_network", "destination_network"),
        )

    def save_inbound(self, state: InboundChannel) -> None:
        upsert(
            self._connection,
            self._inbound,
            [inbound_row(state)],
            key=("source_network", "destination_network"),
        )
