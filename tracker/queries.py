"""Read-only sample queries for charts (SQLAlchemy Core over a `sessionmaker`): extent, count, samples.

Moved here from web/ so that the web layer touches no tables: `web.api` calls these three functions.

Callers must already have checked that the person belongs to the signed-in account; these functions take
a person id and do no access control.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sqlalchemy as sa
import sqlalchemy.orm as so

from tracker.sources import SourceChoice, choose_source
from tracker.storage.models import HeartRateRow, RRRow


@dataclass(frozen=True, slots=True)
class SampleKind:
    """One chartable stream: its table's columns, the value's unit and a label."""

    name: str
    model: type[HeartRateRow] | type[RRRow]
    person_id: so.InstrumentedAttribute[int]
    t_ms: so.InstrumentedAttribute[int]
    value: so.InstrumentedAttribute[int] | so.InstrumentedAttribute[float]
    unit: str
    label: str


SAMPLE_KINDS: dict[str, SampleKind] = {
    "heart_rate": SampleKind(
        "heart_rate", HeartRateRow, HeartRateRow.person_id, HeartRateRow.t_ms, HeartRateRow.bpm, "bpm", "Heart rate"
    ),
    "rr": SampleKind("rr", RRRow, RRRow.person_id, RRRow.t_ms, RRRow.rr_ms, "ms", "RR interval"),
}


def sample_extent(
    sessionmaker: so.sessionmaker[so.Session], person_id: int, kind: SampleKind
) -> tuple[int, int] | None:
    """(first t_ms, last t_ms) of the person's samples of `kind`, or None when there are none."""
    t = kind.t_ms
    # Two scalar subqueries, each one index probe; `SELECT min(t), max(t)` in one statement made SQLite scan
    # the person's whole index range (85 ms at 1 year, 214 ms at 2 years of 1-minute heart rate).
    first = sa.select(sa.func.min(t)).where(kind.person_id == person_id).scalar_subquery()
    last = sa.select(sa.func.max(t)).where(kind.person_id == person_id).scalar_subquery()
    with sessionmaker() as db:
        row = db.execute(sa.select(first, last)).one()
    return None if row[0] is None else (int(row[0]), int(row[1]))


def sample_source(
    sessionmaker: so.sessionmaker[so.Session], person_id: int, kind: SampleKind, from_ms: int, to_ms: int
) -> tuple[SourceChoice, str] | None:
    """The source the charts use for [from_ms, to_ms) (tracker.sources.RULE) and its name."""
    from tracker.sources import source_label

    with sessionmaker() as db:
        choice = choose_source(db, kind.model, kind.t_ms, person_id, from_ms, to_ms)
        return None if choice is None else (choice, source_label(db, choice.device_key))


def count_samples(
    sessionmaker: so.sessionmaker[so.Session], person_id: int, kind: SampleKind, from_ms: int, to_ms: int
) -> int:
    t = kind.t_ms
    stmt = sa.select(sa.func.count()).where(kind.person_id == person_id, t >= from_ms, t < to_ms)
    with sessionmaker() as db:
        return int(db.scalar(stmt) or 0)


def read_samples(
    sessionmaker: so.sessionmaker[so.Session],
    person_id: int,
    kind: SampleKind,
    from_ms: int,
    to_ms: int,
    bucket_ms: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Samples in [from_ms, to_ms) ordered by time, as (t_ms int64, value float64) arrays.

    With `bucket_ms`, one mean point per bucket instead (computed in the database), so a range holding
    millions of rows never has to travel into Python whole. Only the one source chosen for the range by
    tracker.sources.RULE is read.
    """
    t, v = kind.t_ms, kind.value
    where: tuple[Any, ...] = (kind.person_id == person_id, t >= from_ms, t < to_ms)
    with sessionmaker() as db:
        choice = choose_source(db, kind.model, t, person_id, from_ms, to_ms)
    if choice is None:
        return rows_to_arrays([])
    where = (*where, kind.model.device_key == choice.device_key)  # one source per period (tracker.sources)
    if bucket_ms is None:
        stmt = sa.select(t, v).where(*where).order_by(t)
    else:
        # t_ms - from_ms >= 0, so integer division is a floor on both SQLite and PostgreSQL
        bucket = ((t - from_ms) // bucket_ms).label("bucket")
        stmt = sa.select(sa.func.avg(t), sa.func.avg(v)).where(*where).group_by(bucket).order_by(bucket)
    with sessionmaker() as db:
        rows = fetch_tuples(db, stmt)
    return rows_to_arrays(rows)


def dialect_insert(db: so.Session) -> Any:
    """The `insert` construct of the session's database, the one with ON CONFLICT (SQLite or PostgreSQL)."""
    if db.get_bind().dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:
        from sqlalchemy.dialects.postgresql import insert  # type: ignore[assignment]
    return insert


@functools.lru_cache(maxsize=32)
def _compiled_text(dialect: sa.Dialect, sql: str) -> tuple[str, tuple[str, ...]]:
    """Textual SQL with :named parameters in the dialect's own parameter style, and their order."""
    compiled = sa.text(sql).compile(dialect=dialect)
    return str(compiled), tuple(compiled.positiontup or ())


def _execute_raw(db: so.Session, stmt: sa.Executable | str, values: Mapping[str, Any] | None = None) -> Any:
    """A DBAPI cursor that has executed `stmt` (compiled by SQLAlchemy: same SQL on SQLite and PostgreSQL).

    `stmt` may be textual SQL with :named parameters (`values`): compiled once per dialect and text, so a
    long statement sent again with other values costs nothing to prepare.
    """
    conn = db.connection()
    if not isinstance(stmt, str):  # through the compiled cache (stmt.compile() would compile anew each time)
        return conn.execute(stmt).cursor
    text, order = _compiled_text(conn.dialect, stmt)
    params: Mapping[str, Any] = values or {}
    args: Any = tuple(params[name] for name in order) if conn.dialect.paramstyle in ("qmark", "numeric") else params
    cursor = conn.connection.cursor()  # the pooled DBAPI connection of this session's transaction
    try:
        cursor.execute(text, args)
    except BaseException:
        cursor.close()
        raise
    return cursor


FETCH_CHUNK_ROWS = 8_192


def fetch_matrix(db: so.Session, stmt: sa.Executable | str, ncols: int,
                 values: Mapping[str, Any] | None = None) -> np.ndarray:  # fmt: skip
    """All rows of `stmt` (numeric columns, no NULLs) as one float64 array of shape (rows, ncols).

    Rows are turned into numbers a chunk at a time, so each chunk's tuples die young: holding 100,000 row
    tuples at once (`fetch_tuples`) made the garbage collector's full passes cost more than the query.
    Integers up to 2^53 (epoch milliseconds) are exact in float64. `stmt`: a statement, or textual SQL
    with :named parameters given in `values` (see `_execute_raw`).
    """
    cursor = _execute_raw(db, stmt, values)
    parts = []
    try:
        while rows := cursor.fetchmany(FETCH_CHUNK_ROWS):
            flat = np.fromiter(itertools.chain.from_iterable(rows), np.float64, len(rows) * ncols)
            parts.append(flat.reshape(len(rows), ncols))
    finally:
        cursor.close()
    return np.concatenate(parts) if parts else np.empty((0, ncols))


def fetch_tuples(db: so.Session, stmt: sa.Select[Any]) -> list[tuple[Any, ...]]:
    """All rows of `stmt` as plain tuples straight from the DBAPI cursor.

    Why not `db.execute(stmt).all()`: building a SQLAlchemy Row per result costs ~4-5 µs, which made a
    page that reads 20,000 one-minute heart-rate samples spend 100 ms on row objects alone. Why through
    `Connection.execute` and not `stmt.compile()` + a raw cursor: `compile()` skips SQLAlchemy's compiled
    cache, so every call compiled its statement anew (~1 ms each; the Evidence report reads two capture
    windows per session, 400 statements at 2 years: 0.4 s of compiling). The execution goes through the
    cache; only the rows are read from the DBAPI cursor, without building Rows (the values are the
    driver's own: int, float, str, as the callers expect).
    """
    result = db.connection().execute(stmt)
    try:
        return list(result.cursor.fetchall())
    finally:
        result.close()


def rows_to_arrays(rows: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    """(t_ms int64, value float64) arrays from (t, value) result rows.

    Not np.asarray(rows): numpy probes every Row object for the array protocol (~4 µs a row, so 9,700 rows
    took 123 ms); unzipping into two plain tuples first and np.fromiter costs a few ms.
    """
    if not rows:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
    t_ms, values = zip(*rows, strict=True)
    t = np.fromiter(t_ms, dtype=np.float64, count=len(rows))  # bucket averages of t_ms come back as floats
    return np.rint(t).astype(np.int64), np.fromiter(values, dtype=np.float64, count=len(rows))
