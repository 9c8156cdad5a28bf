"""The one write path for samples: bulk, chunked, idempotent, with provenance.

Used by the collector (live captures and history syncs), the file importers and the API. Two ways in:

- `Ingest.heart_rate/rr/sleep(rows, prov, cursor)`: each chunk is one transaction (the collector's path);
  a sync cursor passed in is written with the last chunk, so it never runs ahead of committed data.
- `Ingest.staged()`: one all-or-nothing unit for a file import; rows (any iterator) stream into
  temporary tables and are merged at the end, so a bad row stores nothing and memory stays flat.
- `write_metrics` / `Ingest.device_metrics`: values a device computed itself (`device_metric`), kept apart
  from the samples: they never reach RR, heart rate or the nights computed from them.

Rows whose natural key (person, time, device) already exists are skipped by the database (INSERT ... ON
CONFLICT DO NOTHING), so re-syncs and re-imports never duplicate. On PostgreSQL rows go in with COPY into
a temporary table, then INSERT ... SELECT ... ON CONFLICT DO NOTHING (COPY cannot skip conflicts itself).

Why raw DBAPI `executemany` with tuples instead of ORM objects or Core inserts with dicts: a million rows
must stream in bounded memory at close to the driver's own speed (benchmarks/ingest.py), and building a
dict or an ORM object per row costs more than the insert itself.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from tracker.model import Source
from tracker.nights import mark_written, touch
from tracker.queries import dialect_insert

DEFAULT_CHUNK_ROWS = 20_000
METRIC_CHUNK_ROWS = 1_000  # 7 parameters a row stays under SQLite's 32766-variable limit

_COLUMNS = {
    "heart_rate": ("t_ms", "bpm"),
    "rr_interval": ("t_ms", "rr_ms"),
    "sleep_stage": ("start_ms", "end_ms", "stage"),
}
# Column types of the staging tables (the same on SQLite and PostgreSQL).
_STAGE_TYPES = {
    "heart_rate": ("BIGINT", "SMALLINT"),
    "rr_interval": ("BIGINT", "DOUBLE PRECISION"),
    "sleep_stage": ("BIGINT", "BIGINT", "VARCHAR(8)"),
}
_COPY_TYPES = {
    "heart_rate": ("int8", "int2"),
    "rr_interval": ("int8", "float8"),
    "sleep_stage": ("int8", "int8", "varchar"),
}
_COUNTER = {"heart_rate": "heart_rate", "rr_interval": "rr", "sleep_stage": "sleep"}


@dataclass(frozen=True, slots=True)
class Provenance:
    """Who the rows belong to and where they came from."""

    person_id: int
    source: Source
    device_id: int | None = None
    run_id: int | None = None


@dataclass(frozen=True, slots=True)
class CursorUpdate:
    """Advance a device's sync cursor for `stream` to `cursor_ms`, atomically with the data."""

    device_id: int
    stream: str
    cursor_ms: int


@dataclass(frozen=True, slots=True)
class IngestCounts:
    heart_rate: int = 0
    rr: int = 0
    sleep: int = 0

    def __add__(self, other: IngestCounts) -> IngestCounts:
        return IngestCounts(self.heart_rate + other.heart_rate, self.rr + other.rr, self.sleep + other.sleep)


def _chunks(rows: Iterable[Sequence[Any]], size: int) -> Iterator[list[Sequence[Any]]]:
    it = iter(rows)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


def _sql_literal(value: int | str | None) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, int):
        return str(int(value))
    if value not in tuple(Source):  # only enum values ever reach here; never text from outside
        raise ValueError(f"not a sample source: {value!r}")
    return f"'{value}'"


def _constants(prov: Provenance) -> tuple[str, str]:
    """The provenance columns and their SQL literals (ints and an enum only, never outside text)."""
    values = (prov.person_id, prov.device_id or 0, prov.device_id, str(prov.source), prov.run_id)
    return "person_id, device_key, device_id, source, run_id", ", ".join(_sql_literal(v) for v in values)


def _insert_sql(dialect: str, table: str, prov: Provenance) -> str:
    """INSERT for one provenance: the constant columns are literals (ints and an enum), so each row
    tuple goes to the driver exactly as the caller made it, with no per-row Python rebuilding."""
    cols = _COLUMNS[table]
    mark = "?" if dialect == "sqlite" else "%s"  # sqlite3 uses qmark, psycopg uses format paramstyle
    names, constants = _constants(prov)
    return (
        f"INSERT INTO {table} ({', '.join(cols)}, {names}) "
        f"VALUES ({', '.join([mark] * len(cols))}, {constants}) ON CONFLICT DO NOTHING"
    )


def _create_stage(dbapi_cursor: Any, dialect: str, table: str, name: str) -> None:
    columns = ", ".join(f"{c} {t}" for c, t in zip(_COLUMNS[table], _STAGE_TYPES[table], strict=True))
    # ON COMMIT DROP: a pooled PostgreSQL connection never carries a stage into the next transaction.
    # SQLite keeps temporary tables in a separate database file, so filling one takes no lock on the
    # main database: other writers (the collector) wait only for the final INSERT ... SELECT.
    suffix = " ON COMMIT DROP" if dialect == "postgresql" else ""
    if dialect == "sqlite":
        dbapi_cursor.execute(f"DROP TABLE IF EXISTS temp.{name}")
    dbapi_cursor.execute(f"CREATE TEMPORARY TABLE {name} ({columns}){suffix}")


def _fill_stage(dbapi_cursor: Any, dialect: str, table: str, name: str, rows: Iterable[Sequence[Any]]) -> None:
    """Stream `rows` into the stage without holding them: executemany over the iterator (SQLite) or
    COPY (PostgreSQL, several times faster than executemany there)."""
    cols = ", ".join(_COLUMNS[table])
    if dialect == "sqlite":
        marks = ", ".join("?" * len(_COLUMNS[table]))
        dbapi_cursor.executemany(f"INSERT INTO temp.{name} ({cols}) VALUES ({marks})", rows)
        return
    # Binary COPY: the server parses no text, and psycopg packs each row in C.
    with dbapi_cursor.copy(f"COPY {name} ({cols}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(_COPY_TYPES[table])
        write_row = copy.write_row
        for row in rows:
            write_row(row)


def _merge_stage(dbapi_cursor: Any, dialect: str, table: str, name: str, prov: Provenance) -> int:
    """Move a stage into its table; rows whose key exists are skipped. Returns how many were new."""
    cols = ", ".join(_COLUMNS[table])
    names, constants = _constants(prov)
    stage = f"temp.{name}" if dialect == "sqlite" else name
    # "WHERE true": SQLite's parser needs it to tell ON CONFLICT from a join constraint after SELECT.
    dbapi_cursor.execute(
        f"INSERT INTO {table} ({cols}, {names}) SELECT {cols}, {constants} FROM {stage} WHERE true "
        "ON CONFLICT DO NOTHING"
    )
    inserted = max(dbapi_cursor.rowcount, 0)
    return inserted


def _stage_span(dbapi_cursor: Any, dialect: str, table: str, name: str) -> tuple[int, int] | None:
    """The time range a stage covers (first start, last end), to mark the nights it may change."""
    cols = _COLUMNS[table]
    stage = f"temp.{name}" if dialect == "sqlite" else name
    dbapi_cursor.execute(f"SELECT min({cols[0]}), max({cols[1] if table == 'sleep_stage' else cols[0]}) FROM {stage}")
    lo, hi = dbapi_cursor.fetchone()
    return None if lo is None else (int(lo), int(hi))


def _drop_stage(dbapi_cursor: Any, dialect: str, name: str) -> None:
    if dialect == "sqlite":  # PostgreSQL's stages go at commit (ON COMMIT DROP)
        dbapi_cursor.execute(f"DROP TABLE temp.{name}")


def _cursor_upsert(db: so.Session, cursor: CursorUpdate) -> None:
    # Never move a cursor backwards: a late, partial re-sync must not re-open a gap that is covered.
    dialect = db.get_bind().dialect.name
    insert = dialect_insert(db)
    from tracker.storage.models import SyncCursor

    stmt = insert(SyncCursor).values(device_id=cursor.device_id, stream=cursor.stream, cursor_ms=cursor.cursor_ms)
    stmt = stmt.on_conflict_do_update(
        index_elements=["device_id", "stream"],
        set_={"cursor_ms": sa.func.max(SyncCursor.cursor_ms, stmt.excluded.cursor_ms)}
        if dialect == "sqlite"
        else {"cursor_ms": sa.func.greatest(SyncCursor.cursor_ms, stmt.excluded.cursor_ms)},
    )
    db.execute(stmt)


def write_metrics(db: so.Session, rows: Iterable[tuple[int, str, float]], prov: Provenance) -> int:
    """(t_ms, kind, value) rows into device_metric, idempotently (natural key person, device, kind, time),
    inside the caller's transaction (an importer's `Ingest.staged(db)` one, so a failure later in the same
    file stores none of them either). Returns how many were new.

    Few rows (one per night, per 5 or per 30 minutes), so a Core insert per chunk is plenty. Nights are not
    marked for recomputation: nothing a device computed itself goes into our own nightly metrics."""
    from tracker.storage.models import DeviceMetric

    assert prov.device_id is not None, "a device metric always names its device"
    insert = dialect_insert(db)
    inserted = 0
    for chunk in _chunks(rows, METRIC_CHUNK_ROWS):
        values = [
            {"person_id": prov.person_id, "device_id": prov.device_id, "t_ms": t, "kind": k, "value": v,
             "source": str(Source(prov.source)), "run_id": prov.run_id}  # fmt: skip
            for t, k, v in chunk
        ]
        # RETURNING counts the new rows on both backends (psycopg reports no rowcount for this statement)
        stmt = insert(DeviceMetric).values(values).on_conflict_do_nothing().returning(DeviceMetric.t_ms)
        inserted += len(db.execute(stmt).all())
    return inserted


class StagedWrite:
    """All-or-nothing writer for one import: rows stream into temporary tables and move into the
    sample tables in one statement each when the `with` block ends without an exception.

    Memory stays flat whatever the size (rows are never held in Python), and a bad row anywhere (an
    exception from the row iterator) stores nothing: the transaction, and with it the stages, is rolled
    back. Use through `Ingest.staged()`.
    """

    def __init__(self, db: so.Session) -> None:
        self._db = db
        conn = db.connection()
        self._dialect = conn.dialect.name
        self._cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        self._stages: list[tuple[str, str, Provenance]] = []
        self.counts = IngestCounts()

    def _stage(self, table: str, rows: Iterable[Sequence[Any]], prov: Provenance) -> None:
        # Rows for the same table and provenance go into one stage, however many calls bring them (an
        # importer that flushes in batches), so the number of temporary tables stays small.
        name = next((n for t, n, p in self._stages if t == table and p == prov), None)
        if name is None:
            name = f"stage_{table}_{len(self._stages)}"
            _create_stage(self._cursor, self._dialect, table, name)
            self._stages.append((table, name, prov))
        _fill_stage(self._cursor, self._dialect, table, name, rows)

    def heart_rate(self, rows: Iterable[tuple[int, int]], prov: Provenance) -> None:
        """Stage (t_ms, bpm) rows (any iterable, consumed lazily)."""
        self._stage("heart_rate", rows, prov)

    def rr(self, rows: Iterable[tuple[int, float]], prov: Provenance) -> None:
        """Stage (t_ms, rr_ms) rows."""
        self._stage("rr_interval", rows, prov)

    def sleep(self, rows: Iterable[tuple[int, int, str]], prov: Provenance) -> None:
        """Stage (start_ms, end_ms, stage) rows."""
        self._stage("sleep_stage", rows, prov)

    def _merge_all(self) -> None:
        totals = dict.fromkeys(_COUNTER.values(), 0)
        for table, name, prov in self._stages:
            new = _merge_stage(self._cursor, self._dialect, table, name, prov)
            totals[_COUNTER[table]] += new
            span = _stage_span(self._cursor, self._dialect, table, name) if new else None
            if span is not None:
                touch(self._db, prov.person_id, *span)  # nights to recompute, in the same transaction
            _drop_stage(self._cursor, self._dialect, name)
        self.counts = IngestCounts(**totals)

    def close(self) -> None:
        self._cursor.close()


class Ingest:
    """Bulk idempotent writer; owns its transactions (one per chunk)."""

    def __init__(self, sessionmaker: so.sessionmaker[so.Session], chunk_rows: int = DEFAULT_CHUNK_ROWS) -> None:
        self._db = sessionmaker
        self._chunk_rows = chunk_rows

    def _write(
        self,
        table: str,
        rows: Iterable[Sequence[Any]],
        prov: Provenance,
        cursor: CursorUpdate | None,
    ) -> int:
        inserted = 0
        wrote_cursor = False
        chunks = _chunks(rows, self._chunk_rows)
        chunk = next(chunks, None)
        while chunk is not None:
            following = next(chunks, None)
            with self._db.begin() as db:
                conn = db.connection()
                if conn.dialect.name == "postgresql":  # COPY into a stage, then one INSERT ... SELECT
                    dbapi_cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
                    try:
                        _create_stage(dbapi_cursor, "postgresql", table, "stage_chunk")
                        _fill_stage(dbapi_cursor, "postgresql", table, "stage_chunk", chunk)
                        new = _merge_stage(dbapi_cursor, "postgresql", table, "stage_chunk", prov)
                        _drop_stage(dbapi_cursor, "postgresql", "stage_chunk")
                    finally:
                        dbapi_cursor.close()
                else:
                    new = max(conn.exec_driver_sql(_insert_sql(conn.dialect.name, table, prov), chunk).rowcount, 0)
                inserted += new
                mark_written(db, prov.person_id, table, chunk, new)  # nights to recompute
                if following is None and cursor is not None:
                    _cursor_upsert(db, cursor)
                    wrote_cursor = True
            chunk = following
        if cursor is not None and not wrote_cursor:  # no rows at all: the cursor may still move
            with self._db.begin() as db:
                _cursor_upsert(db, cursor)
        return inserted

    def heart_rate(
        self, rows: Iterable[tuple[int, int]], prov: Provenance, cursor: CursorUpdate | None = None
    ) -> int:
        """Write (t_ms, bpm) rows; return how many were new."""
        return self._write("heart_rate", rows, prov, cursor)

    def rr(self, rows: Iterable[tuple[int, float]], prov: Provenance, cursor: CursorUpdate | None = None) -> int:
        """Write (t_ms, rr_ms) rows; return how many were new."""
        return self._write("rr_interval", rows, prov, cursor)

    def sleep(
        self, rows: Iterable[tuple[int, int, str]], prov: Provenance, cursor: CursorUpdate | None = None
    ) -> int:
        """Write (start_ms, end_ms, stage) rows; return how many were new."""
        return self._write("sleep_stage", rows, prov, cursor)

    def device_metrics(
        self, rows: Iterable[tuple[int, str, float]], prov: Provenance, cursor: CursorUpdate | None = None
    ) -> int:
        """Write (t_ms, kind, value) device metrics and advance `cursor`, in one transaction; return how
        many were new."""
        with self._db.begin() as db:
            inserted = write_metrics(db, rows, prov)
            if cursor is not None:
                _cursor_upsert(db, cursor)
        return inserted

    @contextlib.contextmanager
    def staged(self, db: so.Session | None = None) -> Iterator[StagedWrite]:
        """One all-or-nothing import: `with ingest.staged() as batch: batch.heart_rate(rows, prov)`.

        On leaving the block the staged rows are merged (INSERT ... SELECT ... ON CONFLICT DO NOTHING)
        and committed; `batch.counts` then says how many rows were new. An exception inside the block
        stores nothing. Pass `db` to merge inside a transaction the caller owns (the caller commits).
        """
        if db is not None:
            batch = StagedWrite(db)
            try:
                yield batch
                batch._merge_all()
            finally:
                batch.close()
            return
        with self._db.begin() as own:
            batch = StagedWrite(own)
            try:
                yield batch
                batch._merge_all()
            finally:
                batch.close()

    def cursor(self, device_id: int, stream: str) -> int | None:
        from tracker.storage.models import SyncCursor

        with self._db() as db:
            row = db.get(SyncCursor, (device_id, stream))
            return None if row is None else row.cursor_ms
