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


def test_csv_import_on_a_full_disk_says_so_closes_its_run_and_stores_nothing(config, tmp_path: Path) -> None:
    from tracker.bootstrap import build_tracker
    from tracker.storage.models import Run

    engine = make_engine(config.database_url)
    if engine.dialect.name != "sqlite":
        engine.dispose()
        return  # PostgreSQL has no page cap to fill; its disk-full SQLSTATE is recognised above
    upgrade_schema(engine)
    engine.dispose()
    t = build_tracker(config)
    ana = t.people.add("Ana", "UTC")
    with t.engine.connect() as conn:
        pages = int(conn.exec_driver_sql("PRAGMA page_count").scalar())

    @sa.event.listens_for(t.engine, "connect")
    def _cap(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.execute(f"PRAGMA max_page_count={pages + 6}")

    t.engine.dispose()
    csv_file = tmp_path / "heart_rate.csv"
    csv_file.write_text("timestamp,bpm\n" + "".join(f"2027-01-01T00:{m // 60:02d}:{m % 60:02d}+00:00,{60 + m % 30}\n"
                                                for m in range(3600)), encoding="utf-8")  # fmt: skip
    result = t.interchange.import_paths(ana, [csv_file])
    [f] = result.files
    assert f.error is not None and "disk full" in f.error, f.error
    with t.sessionmaker() as db:
        assert db.scalar(sa.select(sa.func.count()).select_from(HeartRateRow)) == 0
        statuses = set(db.scalars(sa.select(Run.status)))
    assert "running" not in statuses and "failed" in statuses
    t.close()
