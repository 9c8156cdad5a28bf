"""CSV interchange: byte-identical round trip, idempotent re-import, bad rows named by file:line, DST."""

from pathlib import Path

import pytest
import sqlalchemy as sa

from tracker.bootstrap import Tracker
from tracker.storage.models import HeartRateRow, MassageSession, RRRow, Run, SleepRow

HR = """timestamp,bpm
2027-03-27T23:59:00+01:00,58
2027-03-28T01:59:59.250+01:00,57
2027-03-28T03:00:00+02:00,55
2027-03-28T03:00:01Z,56
"""
RR = """timestamp,rr_ms
2027-03-28T01:59:59.999+01:00,1023.4375
2027-03-28T03:00:00.976+02:00,976.5625
2027-03-28T03:00:01.900+02:00,924
"""
SLEEP = """start,end,stage
2027-03-27T23:30:00+01:00,2027-03-28T01:00:00+01:00,light
2027-03-28T01:00:00+01:00,2027-03-28T03:30:00+02:00,deep
2027-03-28T03:30:00+02:00,2027-03-28T04:00:00+02:00,rem
2027-03-28T04:00:00+02:00,2027-03-28T04:05:00+02:00,awake
2027-03-28T04:05:00+02:00,2027-03-28T07:00:00+02:00,asleep
"""
SESSIONS = """start,end,kind,technique,pressure,areas,therapist,pain_before,pain_after,stress_before,stress_after,mood_before,mood_after,notes
2027-03-26T18:00:00+01:00,2027-03-26T19:00:00+01:00,massage,swedish,3,back;neck,Mia,4,2,6,3,5,7,"felt good, slept well"
2027-03-27T18:00:00+01:00,2027-03-27T18:45:00+01:00,rest,,,,,,,,,,,
2027-04-02T10:00:00+02:00,2027-04-02T11:00:00+02:00,massage,deep_tissue,4,legs,,,,,,,,
"""


def _write(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
    return directory


FILES = {"heart_rate.csv": HR, "rr_intervals.csv": RR, "sleep_stages.csv": SLEEP, "sessions.csv": SESSIONS}


def test_export_import_export_is_byte_identical(tracker: Tracker, tmp_path: Path) -> None:
    ana = tracker.people.add("Ana", "Europe/Berlin")
    result = tracker.interchange.import_paths(ana, [_write(tmp_path / "in", FILES)])
    assert result.ok, result
    assert {f.kind: f.inserted for f in result.files} == {
        "heart_rate.csv": 4, "rr_intervals.csv": 3, "sleep_stages.csv": 5, "sessions.csv": 3,
    }  # fmt: skip
    first = tracker.interchange.export_dir(ana, tmp_path / "out1")
    assert first == {"heart_rate.csv": 4, "rr_intervals.csv": 3, "sleep_stages.csv": 5, "sessions.csv": 3,
                     "device_metrics.csv": 0}  # fmt: skip
    # local times with the DST change visible in the offsets; UTC input rendered in Berlin time
    hr_text = (tmp_path / "out1" / "heart_rate.csv").read_text()
    assert "2027-03-28T01:59:59.250+01:00,57" in hr_text
    assert "2027-03-28T05:00:01+02:00,56" in hr_text
    # into an empty database (another person), export again: byte-identical
    bo = tracker.people.add("Bo", "Europe/Berlin")
    assert tracker.interchange.import_paths(bo, [tmp_path / "out1"]).ok
    tracker.interchange.export_dir(bo, tmp_path / "out2")
    for name in FILES:
        assert (tmp_path / "out1" / name).read_bytes() == (tmp_path / "out2" / name).read_bytes(), name


def test_reimport_changes_nothing(tracker: Tracker, tmp_path: Path) -> None:
    ana = tracker.people.add("Ana", "Europe/Berlin")
    src = _write(tmp_path / "in", FILES)
    tracker.interchange.import_paths(ana, [src])

    def snapshot() -> tuple:
        with tracker.sessionmaker() as db:
            return tuple(
                db.execute(sa.select(*t.__table__.c).order_by(*t.__table__.primary_key.columns)).all()
                for t in (HeartRateRow, RRRow, SleepRow)
            ) + (db.execute(sa.select(MassageSession.start_ms, MassageSession.kind)).all(),)

    before = snapshot()
    again = tracker.interchange.import_paths(ana, [src])
    assert again.ok and all(f.inserted == 0 for f in again.files)
    assert snapshot() == before


@pytest.mark.parametrize(
    ("name", "bad_line", "reason"),
    [
        ("heart_rate.csv", "2027-03-28 10:00,60", "has no offset"),
        ("heart_rate.csv", "yesterday,60", "unparseable time"),
        ("heart_rate.csv", "2027-03-28T10:00:00Z,251", "bpm 251 outside 20-250"),
        ("heart_rate.csv", "2027-03-28T10:00:00Z,19", "bpm 19 outside 20-250"),
        ("rr_intervals.csv", "2027-03-28T10:00:00Z,3001", "rr_ms 3001 outside 200-3000"),
        ("rr_intervals.csv", "2027-03-28T10:00:00Z,199.9", "outside 200-3000"),
        ("sleep_stages.csv", "2027-03-28T10:00:00Z,2027-03-28T09:00:00Z,deep", "end before start"),
        ("sleep_stages.csv", "2027-03-28T10:00:00Z,2027-03-28T11:00:00Z,dozing", "unknown stage 'dozing'"),
        ("sessions.csv", "2027-03-28T10:00:00Z,2027-03-28T09:00:00Z,massage,,,,,,,,,,,", "end before start"),
        ("sessions.csv", "2027-03-28T10:00:00Z,2027-03-28T11:00:00Z,massage,,7,,,,,,,,,", "pressure 7 outside 1-5"),
    ],
)
def test_bad_row_stops_that_file_only(tracker: Tracker, tmp_path: Path, name: str, bad_line: str, reason: str) -> None:
    ana = tracker.people.add("Ana", "Europe/Berlin")
    files = dict(FILES)
    lines = files[name].splitlines()
    lines.insert(2, bad_line)  # becomes line 3 of the file
    files[name] = "\n".join(lines) + "\n"
    src = _write(tmp_path / "in", files)
    result = tracker.interchange.import_paths(ana, [src])
    errors = {Path(f.path).name: f.error for f in result.files if f.error}
    assert list(errors) == [name]
    assert errors[name].startswith(f"{src / name}:3: ")
    assert reason in errors[name]
    table = {"heart_rate.csv": HeartRateRow, "rr_intervals.csv": RRRow, "sleep_stages.csv": SleepRow,
             "sessions.csv": MassageSession}  # fmt: skip
    with tracker.sessionmaker() as db:
        for fname, model in table.items():
            n = db.scalar(sa.select(sa.func.count()).select_from(model))
            assert (n == 0) == (fname == name), fname
        failed = db.scalars(sa.select(Run).where(Run.status == "failed")).all()
    assert len(failed) == 1 and failed[0].error == errors[name]


def test_overlapping_session_in_file_stores_none_of_it(tracker: Tracker, tmp_path: Path) -> None:
    ana = tracker.people.add("Ana", "UTC")
    text = SESSIONS + "2027-03-26T18:30:00+01:00,2027-03-26T19:30:00+01:00,massage,,,,,,,,,,,\n"
    result = tracker.interchange.import_paths(ana, [_write(tmp_path, {"sessions.csv": text})])
    assert result.files[0].error is not None
    assert ":5: overlaps session" in result.files[0].error
    assert tracker.sessions.list(ana.id) == []


def test_export_date_range_uses_local_dates(tracker: Tracker, tmp_path: Path) -> None:
    ana = tracker.people.add("Ana", "Europe/Berlin")
    tracker.interchange.import_paths(ana, [_write(tmp_path / "in", FILES)])
    import datetime as dt

    texts = tracker.interchange.export_texts(ana, dt.date(2027, 3, 28), dt.date(2027, 3, 28))
    # 2027-03-27T23:59+01:00 is the 27th locally, even though it is the 27th 22:59 UTC
    assert texts["heart_rate.csv"].splitlines()[1:] == [
        "2027-03-28T01:59:59.250+01:00,57", "2027-03-28T03:00:00+02:00,55", "2027-03-28T05:00:01+02:00,56",
    ]  # fmt: skip
    assert texts["sessions.csv"].count("\n") == 1  # header only


def test_notes_with_line_breaks_round_trip_and_count_as_one_row(tracker: Tracker, tmp_path: Path) -> None:
    ana = tracker.people.add("Ana", "UTC")
    text = SESSIONS.splitlines()[0] + '\n2027-03-26T18:00:00+00:00,2027-03-26T19:00:00+00:00,massage,,,,,,,,,,,"line one\nline two, with comma"\n'
    assert tracker.interchange.import_paths(ana, [_write(tmp_path / "in", {"sessions.csv": text})]).ok
    assert tracker.interchange.export_dir(ana, tmp_path / "out")["sessions.csv"] == 1
    assert tracker.sessions.list(ana.id)[0].fields.notes == "line one\nline two, with comma"
    assert (tmp_path / "out" / "sessions.csv").read_text() == text


def test_unrecognised_file_is_named(tracker: Tracker, tmp_path: Path) -> None:
    ana = tracker.people.add("Ana", "UTC")
    path = tmp_path / "steps.csv"
    path.write_text("time,steps\n1,2\n", encoding="utf-8")
    result = tracker.interchange.import_paths(ana, [path])
    assert result.files[0].error == f"{path}:1: unrecognised header 'time,steps' (read with separator comma ','; see the README for the four formats)"
