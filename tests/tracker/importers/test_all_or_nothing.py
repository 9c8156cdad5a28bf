"""Imports are all-or-nothing per Gadgetbridge device and per Apple/FIT file, and stream with flat memory."""

from __future__ import annotations

import shutil
import sqlite3
import tracemalloc
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.tracker.importers import apple_fixture, gb_fixture
from tracker.bootstrap import Tracker
from tracker.importers import Importers
from tracker.importers import apple_health
from tracker.model import RunStatus
from tracker.storage.models import Device, DeviceMetric, HeartRateRow, RRRow, Run, SleepRow


@pytest.fixture(scope="module")
def gb_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[int, gb_fixture.Expected]]:
    path = tmp_path_factory.mktemp("gb") / "Gadgetbridge"
    return path, gb_fixture.build(path)


def _rows_of_device(tracker: Tracker, address: str) -> tuple[int, int]:
    """(samples and metrics stored for the device at `address`, its runs' ids) — 0 rows if not recorded."""
    with tracker.sessionmaker() as db:
        device_id = db.scalar(sa.select(Device.id).where(Device.address == address))
        if device_id is None:
            return 0, 0
        n = sum(db.scalar(sa.select(sa.func.count()).select_from(m).where(m.device_id == device_id)) or 0
                for m in (HeartRateRow, RRRow, SleepRow, DeviceMetric))  # fmt: skip
    return n, device_id


def _run(tracker: Tracker, run_id: int | None) -> Run:
    assert run_id is not None
    with tracker.sessionmaker() as db:
        run = db.get(Run, run_id)
        assert run is not None
        db.expunge(run)
        return run


def test_an_unreadable_later_table_stores_nothing_of_that_device(tracker: Tracker, gb_file, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    src, expected = gb_file
    path = tmp_path / "Gadgetbridge"
    shutil.copy(src, path)
    # Garmin's HRV table is read last for the Venu 3, after its heart rate, sleep and resting heart rate have
    # gone into the transaction; here it lacks its VALUE column (a schema we do not know).
    conn = sqlite3.connect(path)
    conn.execute('ALTER TABLE "GARMIN_HRV_VALUE_SAMPLE" RENAME TO "GARMIN_HRV_OLD"')
    conn.execute('CREATE TABLE "GARMIN_HRV_VALUE_SAMPLE" ("TIMESTAMP" INTEGER, "DEVICE_ID" INTEGER, "USER_ID" INTEGER)')
    conn.execute('INSERT INTO "GARMIN_HRV_VALUE_SAMPLE" VALUES (1700000000000, 5, 1)')
    conn.commit()
    conn.close()
    ana = tracker.people.add("Ana", "Europe/Berlin")
    outcomes = Importers(tracker).import_path(ana.id, path)
    garmin = next(o for o in outcomes if "Venu 3" in o.path)
    assert garmin.error is not None and "cannot read GARMIN_HRV_VALUE_SAMPLE" in garmin.error
    assert "nothing of this device was stored" in garmin.error and garmin.inserted == 0
    assert garmin.rows > 0  # its earlier tables were read (and staged) before the failure
    venu = next(d for d in gb_fixture.DEVICES if d.id == 5)
    assert _rows_of_device(tracker, venu.mac)[0] == 0  # no heart rate, sleep or device metric of it
    run = _run(tracker, garmin.run_id)
    assert run.status == str(RunStatus.FAILED) and run.ended_ms is not None
    assert (run.heart_rate_count, run.rr_count, run.sleep_count) == (0, 0, 0)
    # the other devices of the file are whole
    pinetime = next(d for d in gb_fixture.DEVICES if d.id == 6)
    assert _rows_of_device(tracker, pinetime.mac)[0] == len(expected[6].hr) > 0
    assert all(o.error is None for o in outcomes if o is not garmin)


def _pinetime_db(path: Path, n_rows: int, garbled_from: int | None = None) -> None:
    """A Gadgetbridge database with one PineTime and `n_rows` minutes of heart rate, streamed in; rows from
    `garbled_from` on carry text where the heart rate belongs (a damaged export)."""
    conn = sqlite3.connect(path)
    for table in ("USER", "DEVICE", "PINE_TIME_ACTIVITY_SAMPLE"):
        conn.execute(gb_fixture.greendao_ddl(table, gb_fixture.ENTITIES[table]))
    conn.execute('INSERT INTO "DEVICE" VALUES (1, "InfiniTime", "test", "C8:0F:10:00:01:06", 0, "PINETIME_JF", NULL, NULL, NULL)')
    t0_s = 1_700_000_000
    conn.executemany(
        'INSERT INTO "PINE_TIME_ACTIVITY_SAMPLE" VALUES (?, 1, 1, 0, 0, ?)',
        ((t0_s + 60 * i, "garbled" if garbled_from is not None and i >= garbled_from else 60 + i % 40)
         for i in range(n_rows)),
    )  # fmt: skip
    conn.commit()
    conn.close()


def test_garbled_later_rows_store_nothing_and_close_the_run_failed(tracker: Tracker, tmp_path: Path) -> None:
    path = tmp_path / "Gadgetbridge"
    _pinetime_db(path, 50_000, garbled_from=45_000)  # the failure comes after several ingest chunks' worth
    ana = tracker.people.add("Ana", "UTC")
    [outcome] = Importers(tracker).import_path(ana.id, path)
    assert outcome.error is not None and "cannot read PINE_TIME_ACTIVITY_SAMPLE" in outcome.error
    assert _rows_of_device(tracker, "C8:0F:10:00:01:06")[0] == 0
    run = _run(tracker, outcome.run_id)
    assert run.status == str(RunStatus.FAILED) and run.heart_rate_count == 0
    # the same file repaired imports whole
    path.unlink()
    _pinetime_db(path, 50_000)
    [again] = Importers(tracker).import_path(ana.id, path)
    assert again.error is None and again.inserted == 50_000
    assert _rows_of_device(tracker, "C8:0F:10:00:01:06")[0] == 50_000


def test_gadgetbridge_import_memory_stays_flat(tracker: Tracker, tmp_path: Path) -> None:
    small, large = tmp_path / "small", tmp_path / "large"
    _pinetime_db(small, 20_000)
    _pinetime_db(large, 200_000)
    ana = tracker.people.add("Ana", "UTC")
    peaks = []
    for path in (small, large):
        with tracker.sessionmaker.begin() as db:  # each file's rows are new: clear the previous one's
            db.execute(sa.delete(HeartRateRow))
        tracemalloc.start()
        [outcome] = Importers(tracker).import_path(ana.id, path)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert outcome.error is None and outcome.inserted == outcome.rows
    # ten times the rows, not ten times the memory: 200,000 rows held as tuples alone would take > 20 MB
    assert peaks[1] < 2 * peaks[0] + 2_000_000, peaks
    assert peaks[1] < 8_000_000, peaks


def test_an_apple_export_broken_late_stores_nothing(tracker: Tracker, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    good = tmp_path / "good.xml"
    exp = apple_fixture.build(good, as_zip=False)
    text = good.read_text(encoding="utf-8")
    cut = text.rindex("<Record")  # the last record is cut off: a half-synced file
    broken = tmp_path / "export.xml"
    broken.write_text(text[:cut] + "<Record type=", encoding="utf-8")
    monkeypatch.setattr(apple_health, "FLUSH_ROWS", 3)  # many batches reach the stages before the break
    ana = tracker.people.add("Ana", "Europe/Berlin")
    [outcome] = Importers(tracker).import_path(ana.id, broken)
    assert outcome.error is not None and "not a readable Apple Health export" in outcome.error
    assert "nothing from this file was stored" in outcome.error and outcome.rows > 3
    with tracker.sessionmaker() as db:
        for model in (HeartRateRow, SleepRow, DeviceMetric, Device):
            assert db.scalar(sa.select(sa.func.count()).select_from(model)) == 0, model
    run = _run(tracker, outcome.run_id)
    assert run.status == str(RunStatus.FAILED) and run.heart_rate_count == 0
    [whole] = Importers(tracker).import_path(ana.id, good)
    assert whole.error is None and whole.inserted == len(exp.hr) + len(exp.sleep) + len(exp.metrics)
