"""The one write path for samples: bulk, chunked, idempotent, with provenance.

Used by the collector (live captures and history syncs), the CSV importer and the API. Each chunk is one
transaction; rows whose natural key (person, time) already exists are skipped by the database
(INSERT ... ON CONFLICT DO NOTHING), so re-syncs and re-imports never duplicate. A sync cursor passed in is
written in the same transaction as the last chunk, so it never runs ahead of committed data.

Why raw DBAPI `executemany` with tuples instead of ORM objects or Core inserts with dicts: a million rows
must stream in bounded memory at close to the driver's own speed (benchmarks/ingest.py), and building a
dict or an ORM object per row costs more than the insert itself.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from tracker.model import Source
from tracker.nights import mark_written

DEFAULT_CHUNK_ROWS = 20_000

_COLUMNS = {
    "heart_rate": ("t_ms", "bpm"),
    "rr_interval": ("t_ms", "rr_ms"),
    "sleep_stage": ("start_ms", "end_ms", "stage"),
}


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


def _insert_sql(dialect: str, table: str, prov: Provenance) -> str:
    """INSERT for one provenance: the constant columns are literals (ints and an enum), so each row
    tuple goes to the driver exactly as the caller made it, with no per-row Python rebuilding."""
    cols = _COLUMNS[table]
    mark = "?" if dialect == "sqlite" else "%s"  # sqlite3 uses qmark, psycopg uses format paramstyle
    constants = ", ".join(_sql_literal(v) for v in (prov.person_id, prov.device_id, str(prov.source), prov.run_id))
    return (
        f"INSERT INTO {table} ({', '.join(cols)}, person_id, device_id, source, run_id) "
        f"VALUES ({', '.join([mark] * len(cols))}, {constants}) ON CONFLICT DO NOTHING"
    )


def _cursor_upsert(db: so.Session, cursor: CursorUpdate) -> None:
    # Never move a cursor backwards: a late, partial re-sync must not re-open a gap that is covered.
    dialect = db.get_bind().dialect.name
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:
        from sqlalchemy.dialects.postgresql import insert  # type: ignore[assignment]
    from tracker.storage.models import SyncCursor

    stmt = insert(SyncCursor).values(device_id=cursor.device_id, stream=cursor.stream, cursor_ms=cursor.cursor_ms)
    stmt = stmt.on_conflict_do_update(
        index_elements=["device_id", "stream"],
        set_={"cursor_ms": sa.func.max(SyncCursor.cursor_ms, stmt.excluded.cursor_ms)}
        if dialect == "sqlite"
        else {"cursor_ms": sa.func.greatest(SyncCursor.cursor_ms, stmt.excluded.cursor_ms)},
    )
    db.execute(stmt)


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
                sql = _insert_sql(conn.dialect.name, table, prov)
                result = conn.exec_driver_sql(sql, chunk)
                inserted += max(result.rowcount, 0)
                mark_written(db, prov.person_id, table, chunk, result.rowcount)  # nights to recompute
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

    def cursor(self, device_id: int, stream: str) -> int | None:
        from tracker.storage.models import SyncCursor

        with self._db() as db:
            row = db.get(SyncCursor, (device_id, stream))
            return None if row is None else row.cursor_ms
