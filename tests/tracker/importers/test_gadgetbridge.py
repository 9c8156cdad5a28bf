"""Gadgetbridge import: a database with greenDAO's DDL, every family, compared value by value with the model."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.tracker.importers import gb_fixture
from tracker.bootstrap import Tracker
from tracker.cli import main
from tracker.importers import Importers
from tracker.importers import gb_rules as rules
from tracker.model import Stage
from tracker.storage.models import Device, DeviceMetric, HeartRateRow, RRRow, Run, SleepRow


@pytest.fixture(scope="module")
def gb_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[int, gb_fixture.Expected]]:
    path = tmp_path_factory.mktemp("gb") / "Gadgetbridge"
    return path, gb_fixture.build(path)


def _stored(tracker: Tracker, device_id: int) -> gb_fixture.Expected:
    with tracker.sessionmaker() as db:
        hr = db.execute(sa.select(HeartRateRow.t_ms, HeartRateRow.bpm).where(HeartRateRow.device_id == device_id)
                        .order_by(HeartRateRow.t_ms)).all()  # fmt: skip
        rr = db.execute(sa.select(RRRow.t_ms, RRRow.rr_ms).where(RRRow.device_id == device_id).order_by(RRRow.t_ms)).all()
        sleep = db.execute(sa.select(SleepRow.start_ms, SleepRow.end_ms, SleepRow.stage)
                           .where(SleepRow.device_id == device_id).order_by(SleepRow.start_ms)).all()  # fmt: skip
        metrics = db.execute(sa.select(DeviceMetric.t_ms, DeviceMetric.kind, DeviceMetric.value)
                             .where(DeviceMetric.device_id == device_id)
                             .order_by(DeviceMetric.kind, DeviceMetric.t_ms)).all()  # fmt: skip
    return gb_fixture.Expected([tuple(r) for r in hr], [tuple(r) for r in rr], [tuple(r) for r in sleep],
                               [tuple(r) for r in metrics])  # fmt: skip


def test_every_family_imports_value_by_value(tracker: Tracker, gb_file) -> None:  # type: ignore[no-untyped-def]
    path, expected = gb_file
    before = path.read_bytes()
    ana = tracker.people.add("Ana", "Europe/Berlin")
    outcomes = Importers(tracker).import_path(ana.id, path)
    assert path.read_bytes() == before  # opened read-only, never changed
    assert all(o.error is None for o in outcomes), [o.error for o in outcomes]
    assert len(outcomes) == len(gb_fixture.DEVICES)
    assert "HUAMI_STRESS_SAMPLE (5 rows)" in outcomes[0].detail and "PEBBLE_HEALTH_ACTIVITY_SAMPLE (1 rows)" in outcomes[0].detail
    pebble = next(o for o in outcomes if "Pebble" in o.path)
    assert pebble.rows == 0 and pebble.run_id is None and "skipped: PEBBLE" in pebble.detail

    with tracker.sessionmaker() as db:
        devices = {d.address: d for d in db.scalars(sa.select(Device))}
    assert "C8:0F:10:00:00:0A" not in devices  # nothing imported from it: not recorded
    for spec in gb_fixture.DEVICES[:-1]:
        dev = devices[spec.mac]
        assert (dev.person_id, dev.family, dev.name, dev.model) == (ana.id, spec.family, spec.name, spec.type_name)
        assert dev.unpaired_ms is not None  # known for provenance; no Bluetooth sync is ever planned for it
        want, got = expected[spec.id], _stored(tracker, dev.id)
        want.metrics.sort(key=lambda m: (m[1], m[0]))
        assert got.hr == want.hr, spec.type_name
        assert got.rr == want.rr, spec.type_name
        assert got.sleep == want.sleep, spec.type_name
        assert got.metrics == want.metrics, spec.type_name
        assert want.hr, spec.type_name  # the fixture really has data for every family
    assert expected[1].sleep and expected[2].sleep and expected[3].sleep and expected[4].sleep and expected[5].sleep
    assert {s for *_, s in expected[2].sleep} == {"light", "deep", "rem"}  # Zepp thresholds give all three
    assert {s for *_, s in expected[5].sleep} == {"awake", "light", "deep", "rem"}
    assert len(expected[3].rr) > 400  # ~9 of the 10 minutes of beats

    with tracker.sessionmaker() as db:
        sources = set(db.scalars(sa.select(HeartRateRow.source).distinct()))
        runs = db.scalars(sa.select(Run).where(Run.kind == "import").order_by(Run.id)).all()
    assert sources == {"import"}
    assert len(runs) == 9 and all(r.status == "ok" and r.person_id == ana.id for r in runs)
    assert runs[0].heart_rate_count == len(expected[1].hr) and runs[0].sleep_count == len(expected[1].sleep)

    again = Importers(tracker).import_path(ana.id, path)  # idempotent: nothing twice
    assert sum(o.inserted for o in again) == 0 and sum(o.rows for o in again) == sum(o.rows for o in outcomes)


def test_one_device_by_name_and_unknown_name(tracker: Tracker, gb_file, config_file: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    path, expected = gb_file
    tracker.people.add("Ana", "UTC")
    code = main(["--config", str(config_file), "import", str(path), "--person", "Ana", "--device", "r02_ac01"])
    out = capsys.readouterr()
    assert code == 0, out.err
    ring = expected[4]  # heart rate, sleep and the ring's own HRV values
    assert f"Gadgetbridge [R02_AC01]: {len(ring.hr) + len(ring.sleep) + len(ring.metrics)} rows" in out.out
    assert len(ring.metrics) == 3 and {k for _, k, _ in ring.metrics} == {"device_hrv_ms"}
    with tracker.sessionmaker() as db:
        assert db.scalar(sa.select(sa.func.count()).select_from(Device)) == 1
        assert db.scalar(sa.select(sa.func.count()).select_from(HeartRateRow)) == len(expected[4].hr)
    code = main(["--config", str(config_file), "import", str(path), "--person", "Ana", "--device", "Fitbit"])
    err = capsys.readouterr().err
    assert code == 2 and "no device named 'Fitbit'" in err and "R02_AC01" in err and "Traceback" not in err


def test_not_a_gadgetbridge_file_is_a_clear_error(tracker: Tracker, tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    ana = tracker.people.add("Ana", "UTC")
    [outcome] = Importers(tracker).import_path(ana.id, other)
    assert outcome.error is not None and "not a Gadgetbridge database" in outcome.error


def test_huami_classic_rules() -> None:
    # & 0x0F, then 0/10 repeat the previous valid kind; 9 light, 11 deep; 12 "wake up" is activity
    rows = [(0, 0), (60, 9 | 0x70), (120, 16), (180, 10), (240, 11), (300, 0), (360, 12), (420, 0)]
    got = list(rules.minute_spans(rules.huami_classic_stages(rows)))
    assert got == [(60_000, 240_000, "light"), (240_000, 360_000, "deep")]
    # heart rate while "not worn" (3) counts for nothing, also where "no change" rows carry the not-worn kind on
    hr_rows = [(0, 1, 60), (60, 3 | 0x10, 61), (120, 0, 62), (180, 10, 63), (240, 1, 64), (300, 9, 255)]
    assert list(rules.worn_heart_rate(rules.huami_classic_kinds(hr_rows), rules.HUAMI_NOT_WORN)) == [
        (0, 60), (240_000, 64)]  # fmt: skip
    # Zepp: REM above 55, else deep above 42 (after & 0x7F), else light; other kinds are not sleep
    assert rules.zepp_stage(120, 43, 55) == Stage.DEEP and rules.zepp_stage(120, 42 | 0x80, 56) == Stage.REM
    assert rules.zepp_stage(120, 42, 55) == Stage.LIGHT and rules.zepp_stage(115, 100, 100) is None
    # a missing minute ends a span: nothing is filled in
    assert list(rules.minute_spans([(0, Stage.LIGHT), (120_000, Stage.LIGHT)])) == [
        (0, 60_000, "light"), (120_000, 180_000, "light")]  # fmt: skip


def test_garmin_stage_without_a_known_start_is_left_out() -> None:
    assert list(rules.garmin_sleep([], [(600_000, 2), (900_000, 3)])) == [(600_000, 900_000, "deep")]
    assert list(rules.garmin_sleep([0], [(600_000, 2), (900_000, 0)])) == [(0, 600_000, "light")]
