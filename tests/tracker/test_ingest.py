"""The bulk write path: chunked, idempotent, provenance on every row, cursor only with committed data."""

import pytest
import sqlalchemy as sa

from tracker.bootstrap import Tracker
from tracker.ingest import CursorUpdate, Ingest, Provenance
from tracker.model import RunKind, Source
from tracker.storage.models import Device, HeartRateRow, RRRow, Run, SleepRow


def _device(tracker: Tracker, person_id: int) -> int:
    with tracker.sessionmaker.begin() as db:
        dev = Device(person_id=person_id, address="C0:00:00:00:00:01", name="strap", family="hrs", paired_ms=0)
        db.add(dev)
        db.flush()
        return dev.id


def test_chunked_idempotent_writes_with_provenance(tracker: Tracker) -> None:
    person = tracker.people.add("Ana", "UTC")
    device_id = _device(tracker, person.id)
    with tracker.sessionmaker.begin() as db:
        run = Run(kind=str(RunKind.SYNC), started_ms=0, status="running", device_id=device_id)
        db.add(run)
        db.flush()
        run_id = run.id
    ingest = Ingest(tracker.sessionmaker, chunk_rows=7)  # small chunks: many transactions
    prov = Provenance(person.id, Source.HISTORY, device_id, run_id)
    rows = [(1000 * i, 60 + i % 30) for i in range(50)]
    assert ingest.heart_rate(rows, prov) == 50
    assert ingest.heart_rate(rows, prov) == 0  # re-sync: nothing twice
    assert ingest.heart_rate(rows[40:] + [(10**6, 70)], prov) == 1
    with tracker.sessionmaker() as db:
        stored = db.execute(sa.select(HeartRateRow).order_by(HeartRateRow.t_ms)).scalars().all()
    assert len(stored) == 51
    assert {(r.device_id, r.source, r.run_id) for r in stored} == {(device_id, "history", run_id)}
    assert [(r.t_ms, r.bpm) for r in stored[:50]] == rows


def test_rr_and_sleep_round_trip_exact_values(tracker: Tracker) -> None:
    person = tracker.people.add("Ana", "UTC")
    prov = Provenance(person.id, Source.IMPORT)
    ticks = [1023, 800, 1, 65535 // 30]
    rr = [(1000 * i, t * 1000 / 1024) for i, t in enumerate(ticks)]
    assert tracker.ingest.rr(rr, prov) == 4
    assert tracker.ingest.sleep([(0, 60_000, "light"), (60_000, 120_000, "deep")], prov) == 2
    with tracker.sessionmaker() as db:
        back = db.execute(sa.select(RRRow.rr_ms).order_by(RRRow.t_ms)).scalars().all()
        stages = db.execute(sa.select(SleepRow.stage).order_by(SleepRow.start_ms)).scalars().all()
    assert [round(v * 1024 / 1000) for v in back] == ticks  # ticks recoverable exactly
    assert back == [v for _, v in rr]
    assert stages == ["light", "deep"]


def test_cursor_moves_only_with_data_and_never_backwards(tracker: Tracker) -> None:
    person = tracker.people.add("Ana", "UTC")
    device_id = _device(tracker, person.id)
    prov = Provenance(person.id, Source.HISTORY, device_id)
    ingest = Ingest(tracker.sessionmaker, chunk_rows=5)
    assert ingest.cursor(device_id, "hr_log") is None
    ingest.heart_rate([(i, 60) for i in range(12)], prov, CursorUpdate(device_id, "hr_log", 12))
    assert ingest.cursor(device_id, "hr_log") == 12
    ingest.heart_rate([], prov, CursorUpdate(device_id, "hr_log", 5))
    assert ingest.cursor(device_id, "hr_log") == 12


def test_failed_chunk_leaves_cursor_behind(tracker: Tracker) -> None:
    person = tracker.people.add("Ana", "UTC")
    device_id = _device(tracker, person.id)
    prov = Provenance(person.id, Source.HISTORY, device_id)
    ingest = Ingest(tracker.sessionmaker, chunk_rows=5)

    def rows():
        yield from [(i, 60) for i in range(7)]
        raise ConnectionError("link lost mid-transfer")

    with pytest.raises(ConnectionError):
        ingest.heart_rate(rows(), prov, CursorUpdate(device_id, "hr_log", 100))
    assert ingest.cursor(device_id, "hr_log") is None  # the cursor never runs ahead of committed data
    with tracker.sessionmaker() as db:
        kept = db.scalar(sa.select(sa.func.count()).select_from(HeartRateRow))
    assert kept in (0, 5)  # whole chunks only
    assert ingest.heart_rate([(i, 60) for i in range(10)], prov, CursorUpdate(device_id, "hr_log", 100)) == 10 - kept
    assert ingest.cursor(device_id, "hr_log") == 100
    with tracker.sessionmaker() as db:
        assert db.scalars(sa.select(HeartRateRow.t_ms).order_by(HeartRateRow.t_ms)).all() == list(range(10))
