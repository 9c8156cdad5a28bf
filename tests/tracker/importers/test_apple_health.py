"""Apple Health export: streamed, watch sources only, SDNN kept as the device's SDNN, bombs refused."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.tracker.importers import apple_fixture
from tracker.bootstrap import Tracker
from tracker.importers import Importers
from tracker.importers.detect import APPLE_XML, APPLE_ZIP, detect
from tracker.storage.models import Device, DeviceMetric, HeartRateRow, RRRow, SleepRow


def _stored(tracker: Tracker) -> tuple[list, list, list]:  # type: ignore[type-arg]
    with tracker.sessionmaker() as db:
        hr = [tuple(r) for r in db.execute(sa.select(HeartRateRow.t_ms, HeartRateRow.bpm).order_by(HeartRateRow.t_ms))]
        sleep = [tuple(r) for r in db.execute(sa.select(SleepRow.start_ms, SleepRow.end_ms, SleepRow.stage)
                                              .order_by(SleepRow.start_ms))]  # fmt: skip
        metrics = [tuple(r) for r in db.execute(sa.select(DeviceMetric.t_ms, DeviceMetric.kind, DeviceMetric.value)
                                                .order_by(DeviceMetric.t_ms))]  # fmt: skip
    return hr, sleep, metrics


@pytest.mark.parametrize("as_zip", [False, True], ids=["export.xml", "export.zip"])
def test_export_imports_value_by_value(tracker: Tracker, tmp_path: Path, as_zip: bool) -> None:
    path = tmp_path / ("export.zip" if as_zip else "export.xml")
    exp = apple_fixture.build(path, as_zip=as_zip)
    assert detect(path) == (APPLE_ZIP if as_zip else APPLE_XML)
    ana = tracker.people.add("Ana", "Europe/Berlin")
    [outcome] = Importers(tracker).import_path(ana.id, path)
    assert outcome.error is None, outcome.error
    hr, sleep, metrics = _stored(tracker)
    assert hr == exp.hr
    assert sleep == sorted(exp.sleep)
    assert metrics == sorted(exp.metrics)
    assert ("sdnn_ms" in {k for _, k, _ in metrics}) and "rmssd_ms" not in {k for _, k, _ in metrics}
    with tracker.sessionmaker() as db:
        assert db.scalar(sa.select(sa.func.count()).select_from(RRRow)) == 0  # instantaneous bpm are not RR
        [dev] = db.scalars(sa.select(Device)).all()
    assert (dev.name, dev.family, dev.model, dev.person_id) == (apple_fixture.WATCH, "apple-watch", "Watch6,2", ana.id)
    detail = outcome.detail
    assert f"ignored {exp.ignored_phone_hr} HeartRate from {apple_fixture.PHONE} (not a watch)" in detail
    assert "ignored 1 StepCount" in detail and "ignored 1 BloodPressureSystolic" in detail  # correlation copy: once
    assert "ignored 1 Workout" in detail and "ignored 3 InstantaneousBeatsPerMinute" in detail
    assert "ignored 1 sleep 'in bed' spans" in detail
    assert outcome.rows == len(exp.hr) + len(exp.sleep) + len(exp.metrics) == outcome.inserted
    again = Importers(tracker).import_path(ana.id, path)[0]
    assert again.inserted == 0 and again.rows == outcome.rows


@pytest.mark.parametrize("text, says", [
    (apple_fixture.BOMB, "declares XML entities"),
    (apple_fixture.EXTERNAL, "declares XML entities"),
    (apple_fixture.EXTERNAL_DTD, "external DTD"),
])  # fmt: skip
def test_bombs_and_external_entities_are_refused(tracker: Tracker, tmp_path: Path, text: str, says: str) -> None:
    path = tmp_path / "export.xml"
    path.write_text(text, encoding="utf-8")
    ana = tracker.people.add("Ana", "UTC")
    [outcome] = Importers(tracker).import_path(ana.id, path)
    assert outcome.error is not None and says in outcome.error and "refused" in outcome.error
    assert _stored(tracker) == ([], [], [])


def test_broken_xml_names_the_line(tracker: Tracker, tmp_path: Path) -> None:
    path = tmp_path / "export.xml"
    good = apple_fixture.preamble() + ' <Record type="HKQuantityTypeIdentifierHeartRate"\n <oops>\n</HealthData>\n'
    path.write_text(good, encoding="utf-8")
    ana = tracker.people.add("Ana", "UTC")
    [outcome] = Importers(tracker).import_path(ana.id, path)
    assert outcome.error is not None and outcome.error.startswith(f"{path}:") and "not a readable Apple Health export" in outcome.error


def test_undo_of_an_apple_import_deletes_its_device_metrics_too(tracker: Tracker, tmp_path: Path) -> None:
    path = tmp_path / "export.xml"
    exp = apple_fixture.build(path, as_zip=False)
    ana = tracker.people.add("Ana", "Europe/Berlin")
    [outcome] = Importers(tracker).import_path(ana.id, path)
    assert outcome.error is None, outcome.error
    with tracker.sessionmaker() as db:
        run_id = db.scalar(sa.select(DeviceMetric.run_id).limit(1))
    assert run_id is not None
    shown = tracker.import_runs.stored(run_id)
    assert shown.device_metrics == len(exp.metrics) > 0
    undone = tracker.import_runs.undo(run_id)
    assert undone.device_metrics == len(exp.metrics)
    hr, sleep, metrics = _stored(tracker)
    assert (hr, sleep, metrics) == ([], [], [])
