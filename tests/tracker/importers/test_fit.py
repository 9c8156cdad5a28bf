"""Garmin FIT: files written with the SDK's own Encoder from the physiology model, imported value by value."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa
from garmin_fit_sdk import Encoder, Profile

from tests.tracker.importers.gb_fixture import START_MS, Night
from tracker.bootstrap import Tracker
from tracker.importers import Importers
from tracker.importers.detect import FIT, detect
from tracker.physiology import PersonSpec, simulate
from tracker.storage.models import Device, HeartRateRow, RRRow, SleepRow

MESG = Profile["mesg_num"]
FIT_EPOCH_S = 631_065_600
LEVEL = {"awake": "awake", "light": "light", "deep": "deep", "rem": "rem"}


def _utc(t_ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(t_ms / 1000, dt.timezone.utc)


def _file_id(enc: Encoder, kind: str | int, t_ms: int) -> None:
    enc.write_mesg({"mesg_num": MESG["FILE_ID"], "type": kind, "manufacturer": "garmin", "product": 3415,
                    "serial_number": 3_312_345_678, "time_created": _utc(t_ms)})  # fmt: skip


def build(folder: Path) -> tuple[list, list, list]:  # type: ignore[type-arg]
    sim = simulate(PersonSpec(), START_MS, 4, seed=21)
    night = Night(sim, 1)
    hr_exp, rr_exp, sleep_exp = [], [], []
    # monitoring: one message a minute for 24 h; only the first has a full timestamp (timestamp_16 wraps twice+)
    day0 = int(night.t_ms[0])
    hr = sim.heart_rate_1min(day0, day0 + 24 * 3_600_000)
    enc = Encoder()
    _file_id(enc, "monitoring_b", day0)
    for i, bpm in enumerate(hr):
        t_ms = day0 + i * 60_000
        msg = {"mesg_num": MESG["MONITORING"], "heart_rate": int(bpm) if bpm > 0 else 0}
        if i == 0:
            msg["timestamp"] = _utc(t_ms)
        else:
            msg["timestamp_16"] = (t_ms // 1000 - FIT_EPOCH_S) & 0xFFFF
        enc.write_mesg(msg)
        if 20 <= bpm <= 250:
            hr_exp.append((t_ms, int(bpm)))
    (folder / "monitoring.fit").write_bytes(enc.close())

    # sleep: a sleep-start event, then each stage stamped with its END; a level before the start is left out
    enc = Encoder()
    _file_id(enc, 49, night.bed_min)  # Garmin sleep files: type 49, not in the public profile
    enc.write_mesg({"mesg_num": MESG["SLEEP_LEVEL"], "timestamp": _utc(night.bed_min - 600_000), "sleep_level": "light"})
    enc.write_mesg({"mesg_num": MESG["EVENT"], "timestamp": _utc(night.bed_min), "event": 74, "event_type": "start"})
    for start, end, stage in night.all_runs():
        enc.write_mesg({"mesg_num": MESG["SLEEP_LEVEL"], "timestamp": _utc(end), "sleep_level": LEVEL[stage]})
        sleep_exp.append((start, end, stage))
    (folder / "sleep.fit").write_bytes(enc.close())

    # activity: timer start, records, then hrv messages of up to five intervals (s, 1-ms resolution)
    t0 = night.wake_min + 3 * 3_600_000
    _beats, rr = sim.rr(t0, t0 + 300_000)
    rr_ms = [int(round(v)) for v in rr]
    enc = Encoder()
    _file_id(enc, "activity", t0)
    enc.write_mesg({"mesg_num": MESG["EVENT"], "timestamp": _utc(t0), "event": "timer", "event_type": "start"})
    enc.write_mesg({"mesg_num": MESG["RECORD"], "timestamp": _utc(t0 + 1000), "heart_rate": 90})
    for k in range(0, len(rr_ms), 5):
        enc.write_mesg({"mesg_num": MESG["HRV"], "time": [v / 1000 for v in rr_ms[k : k + 5]]})
    (folder / "activity.fit").write_bytes(enc.close())
    beat = t0
    for v in rr_ms:
        if 200 <= v <= 3000:
            beat += v
            rr_exp.append((beat, float(v)))
    (folder / "notes.txt").write_text("not a FIT file", encoding="utf-8")
    return hr_exp, rr_exp, sleep_exp


def test_fit_folder_imports_value_by_value(tracker: Tracker, tmp_path: Path) -> None:
    hr_exp, rr_exp, sleep_exp = build(tmp_path)
    assert detect(tmp_path / "sleep.fit") == FIT and detect(tmp_path / "notes.txt") is None
    ana = tracker.people.add("Ana", "Europe/Berlin")
    outcomes = Importers(tracker).import_path(ana.id, tmp_path)
    assert [Path(o.path).name for o in outcomes] == ["activity.fit", "monitoring.fit", "sleep.fit"]
    assert all(o.error is None for o in outcomes), [o.error for o in outcomes]
    with tracker.sessionmaker() as db:
        hr = [tuple(r) for r in db.execute(sa.select(HeartRateRow.t_ms, HeartRateRow.bpm).order_by(HeartRateRow.t_ms))]
        rr = [tuple(r) for r in db.execute(sa.select(RRRow.t_ms, RRRow.rr_ms).order_by(RRRow.t_ms))]
        sleep = [tuple(r) for r in db.execute(sa.select(SleepRow.start_ms, SleepRow.end_ms, SleepRow.stage)
                                              .order_by(SleepRow.start_ms))]  # fmt: skip
        [dev] = db.scalars(sa.select(Device)).all()
    assert hr == hr_exp and len(hr) > 1000
    assert rr == rr_exp and len(rr) > 200
    assert sleep == sleep_exp and {s for *_, s in sleep} == {"awake", "light", "deep", "rem"}
    assert (dev.family, dev.serial, dev.person_id) == ("garmin-fit", "3312345678", ana.id)
    assert "skipped 1 sleep levels without a known start" in outcomes[2].detail
    again = Importers(tracker).import_path(ana.id, tmp_path)
    assert sum(o.inserted for o in again) == 0


def test_damaged_fit_file_stores_nothing(tracker: Tracker, tmp_path: Path) -> None:
    build(tmp_path)
    data = bytearray((tmp_path / "monitoring.fit").read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte: the CRC no longer matches
    bad = tmp_path / "bad.fit"
    bad.write_bytes(bytes(data))
    ana = tracker.people.add("Ana", "UTC")
    [outcome] = Importers(tracker).import_path(ana.id, bad)
    assert outcome.error is not None and str(bad) in outcome.error
    with tracker.sessionmaker() as db:
        assert db.scalar(sa.select(sa.func.count()).select_from(HeartRateRow)) == 0
