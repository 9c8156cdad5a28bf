"""import-ics with recurring events: RRULE, RDATE, EXDATE and RECURRENCE-ID overrides, keyed by (UID,
RECURRENCE-ID), idempotent, following moves and cancellations (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

from tracker.bootstrap import Tracker
from tracker.calendar_import import import_ics
from tracker.cli import main
from tracker.model import SessionStatus

HEAD = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Google Inc//Google Calendar 70.9054//EN\r\n"
SERIES = (
    "BEGIN:VEVENT\r\nUID:weekly-1@google.com\r\nDTSTART;TZID=Europe/Berlin:20270301T100000\r\n"
    "DTEND;TZID=Europe/Berlin:20270301T110000\r\nRRULE:FREQ=WEEKLY;COUNT={count}\r\n{extra}"
    "SUMMARY:Swedish massage\r\nEND:VEVENT\r\n"
)
MOVED = (
    "BEGIN:VEVENT\r\nUID:weekly-1@google.com\r\nRECURRENCE-ID;TZID=Europe/Berlin:20270308T100000\r\n"
    "DTSTART;TZID=Europe/Berlin:{start}\r\nDTEND;TZID=Europe/Berlin:{end}\r\n{status}"
    "SUMMARY:Swedish massage\r\nEND:VEVENT\r\n"
)
TAIL = "END:VCALENDAR\r\n"


def _cal(count: int = 4, extra: str = "", moved: str | None = "20270309T140000", status: str = "") -> bytes:
    text = HEAD + SERIES.format(count=count, extra=extra)
    if moved:
        end = moved[:9] + f"{int(moved[9:11]) + 1:02d}" + moved[11:]
        text += MOVED.format(start=moved, end=end, status=status)
    return (text + TAIL).encode()


def _starts(tracker: Tracker, person_id: int, status: SessionStatus | None = None) -> list[str]:
    """Starts of the sessions with `status`, or of all not cancelled (the first lies before the tests' now)."""
    return sorted(
        s.to_dict()["start"] for s in tracker.sessions.list(person_id)
        if (s.status == status if status else s.status != SessionStatus.CANCELLED)
    )


def test_series_with_a_moved_occurrence_imports_every_occurrence_once(tracker: Tracker) -> None:
    ana = tracker.people.add("Ana", "Europe/Berlin")
    r = import_ics(tracker.sessions, ana, _cal(), match="massage", origin="cal.ics")
    assert (r.created, r.errors) == (4, [])
    assert _starts(tracker, ana.id) == [
        "2027-03-01T10:00:00+01:00", "2027-03-09T14:00:00+01:00",  # the moved occurrence, not 03-08
        "2027-03-15T10:00:00+01:00", "2027-03-22T10:00:00+01:00",
    ]  # fmt: skip
    again = import_ics(tracker.sessions, ana, _cal(), match="massage", origin="cal.ics")
    assert (again.created, again.moved, again.cancelled, again.unchanged) == (0, 0, 0, 4)
    keys = sorted((s.ics_uid, s.to_dict()["start"]) for s in tracker.sessions.list(ana.id))
    assert all(uid == "weekly-1@google.com" for uid, _ in keys)


def test_moves_exdates_rdates_and_cancellations_are_followed(tracker: Tracker) -> None:
    ana = tracker.people.add("Ana", "Europe/Berlin")
    import_ics(tracker.sessions, ana, _cal(), match="massage", origin="cal.ics")
    # the override moves again; the 15th is excluded; an extra date is added
    extra = "EXDATE;TZID=Europe/Berlin:20270315T100000\r\nRDATE;TZID=Europe/Berlin:20270402T090000\r\n"
    r = import_ics(tracker.sessions, ana, _cal(extra=extra, moved="20270310T160000"), match="massage", origin="cal.ics")
    assert (r.created, r.moved, r.cancelled, r.errors) == (1, 1, 1, [])
    assert _starts(tracker, ana.id) == [
        "2027-03-01T10:00:00+01:00", "2027-03-10T16:00:00+01:00", "2027-03-22T10:00:00+01:00",
        "2027-04-02T09:00:00+02:00",
    ]  # fmt: skip
    assert _starts(tracker, ana.id, SessionStatus.CANCELLED) == ["2027-03-15T10:00:00+01:00"]
    # the moved occurrence is cancelled in the calendar
    r = import_ics(tracker.sessions, ana, _cal(extra=extra, moved="20270310T160000", status="STATUS:CANCELLED\r\n"),
                   match="massage", origin="cal.ics")  # fmt: skip
    assert r.cancelled == 1 and "2027-03-10T16:00:00+01:00" in _starts(tracker, ana.id, SessionStatus.CANCELLED)
    # the same file again: nothing changes
    r = import_ics(tracker.sessions, ana, _cal(extra=extra, moved="20270310T160000", status="STATUS:CANCELLED\r\n"),
                   match="massage", origin="cal.ics")  # fmt: skip
    assert (r.created, r.moved, r.cancelled) == (0, 0, 0)


def test_same_calendar_for_two_people_keeps_them_apart(tracker: Tracker) -> None:
    ana = tracker.people.add("Ana", "Europe/Berlin")
    bo = tracker.people.add("Bo", "Europe/Berlin")
    assert import_ics(tracker.sessions, ana, _cal(), match="massage", origin="a.ics").created == 4
    assert import_ics(tracker.sessions, bo, _cal(), match="massage", origin="b.ics").created == 4
    assert len(_starts(tracker, ana.id)) == 4 and len(_starts(tracker, bo.id)) == 4


def test_cli_errors_are_messages_not_tracebacks(config_file: Path, tmp_path: Path, capsys) -> None:
    cfg = ["--config", str(config_file)]
    main([*cfg, "init"])
    main([*cfg, "person", "add", "Ana", "--tz", "Europe/Berlin"])
    bad_rule = tmp_path / "bad.ics"
    bad_rule.write_bytes(_cal().replace(b"FREQ=WEEKLY;COUNT=4", b"FREQ=SOMETIMES"))
    good = tmp_path / "cal.ics"
    good.write_bytes(_cal())
    capsys.readouterr()
    for path in (bad_rule, tmp_path / "missing.ics", tmp_path):
        code = main([*cfg, "session", "import-ics", str(path), "--person", "Ana"])
        err = capsys.readouterr().err
        assert code == 2 and "Traceback" not in err and str(path) in err, (path, err)
    assert main([*cfg, "session", "import-ics", str(good), "--person", "Ana"]) == 0
    assert "4 new, 0 moved, 0 cancelled" in capsys.readouterr().out
