"""A full disk is recognised as such (on a real SQLite database made to run out of pages), and a failed
write keeps nothing half-done."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
import sqlalchemy as sa

from tracker.ingest import Ingest, Provenance
from tracker.model import Source
from tracker.storage import failures
from tracker.storage.db import make_engine, make_sessionmaker, upgrade_schema
from tracker.storage.models import HeartRateRow, Person


def _full_sqlite(tmp_path: Path) -> sa.Engine:
    """A real SQLite file that reports SQLITE_FULL once it reaches a few more pages than its schema needs."""
    engine = make_engine(f"sqlite:///{tmp_path / 'small.db'}")
    upgrade_schema(engine)
    with engine.connect() as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar()

    @sa.event.listens_for(engine, "connect")
    def _cap(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.execute(f"PRAGMA max_page_count={int(pages) + 8}")

    engine.dispose()  # new connections get the cap
    return engine


def test_sqlite_disk_full_is_recognised_and_nothing_half_done_is_kept(tmp_path: Path) -> None:
    engine = _full_sqlite(tmp_path)
    db = make_sessionmaker(engine)
    with db.begin() as s:
        s.add(Person(id=1, name="Ana", tz="UTC", created_ms=0))
    ingest = Ingest(db, chunk_rows=10**6)  # one transaction for the whole batch
    rows = [(1_800_000_000_000 + i * 1000, 60 + i % 40) for i in range(200_000)]
    with pytest.raises(Exception) as caught:
        ingest.heart_rate(rows, Provenance(person_id=1, source=Source.IMPORT))
    assert failures.is_disk_full(caught.value)
    assert failures.describe(caught.value) == failures.DISK_FULL
    with db() as s:  # the failed transaction rolled back whole
        assert s.scalar(sa.select(sa.func.count()).select_from(HeartRateRow)) == 0


def test_enospc_is_disk_full_and_other_errors_are_not() -> None:
    assert failures.is_disk_full(OSError(errno.ENOSPC, "No space left on device"))
    assert not failures.is_disk_full(OSError(errno.EACCES, "Permission denied"))
    assert failures.describe(ValueError("bad row")) is None
