"""Session service validation, capture planning (DST-correct local times), ICS import, the session CLI."""

import datetime as dt
import json
from pathlib import Path

import pytest

from tracker.bootstrap import Tracker
from tracker.config import CaptureConfig
from tracker.errors import Conflict
from tracker.model import SessionKind, SessionStatus
from tracker.planning import Planner, morning_after_ms, plan_session
from tracker.ports import JobInfo
from tracker.sessions import SessionFields, ValidationError
from tracker.timefmt import format_local, parse_local
from tracker.cli import main


class RecordingJobs:
    """A JobPort that remembers what was scheduled (a unit-test double for the planner only)."""

    def __init__(self) -> None:
        self.jobs_by_id: dict[str, tuple[int, str, dict]] = {}

    def at(self, job_id, run_at_ms, func, **kwargs):
        self.jobs_by_id[job_id] = (run_at_ms, func, kwargs)

    def every(self, job_id, interval_s, jitter_s, func, **kwargs):
        self.jobs_by_id[job_id] = (0, func, kwargs)

    def remove(self, job_id):
        self.jobs_by_id.pop(job_id, None)

    def jobs(self):
        return [JobInfo(k, v[1], v[0]) for k, v in self.jobs_by_id.items()]


def _fields(tz: str, start: str, minutes: int = 60, **kw) -> SessionFields:
    start_ms = parse_local(start, tz)
    return SessionFields(start_ms=start_ms, end_ms=start_ms + minutes * 60_000, **kw)


def test_validation_messages_per_field(tracker: Tracker) -> None:
    ana = tracker.people.add("Ana", "UTC")
    bad = SessionFields(start_ms=1000, end_ms=500, pressure=6, pain_before=11)
    with pytest.raises(ValidationError) as info:
        tracker.sessions.create(ana.id, bad)
    assert info.value.errors == {
        "end": "end must be after start", "pressure": "pressure must be 1-5", "pain_before": "pain before must be 0-10",
    }  # fmt: skip
    assert tracker.sessions.list(ana.id) == []


def test_overlap_refused_but_cancelled_sessions_free_the_slot(tracker: Tracker) -> None:
    ana = tracker.people.add("Ana", "UTC")
    bo = tracker.people.add("Bo", "UTC")
    first = tracker.sessions.create(ana.id, _fields("UTC", "2027-04-01 10:00"))
    with pytest.raises(Conflict, match=f"overlaps session {first.id}"):
        tracker.sessions.create(ana.id, _fields("UTC", "2027-04-01 10:59"))
    tracker.sessions.create(bo.id, _fields("UTC", "2027-04-01 10:30"))  # another person: fine
    tracker.sessions.create(ana.id, _fields("UTC", "2027-04-01 11:00"))  # touching: fine
    tracker.sessions.cancel(first.id)
    tracker.sessions.create(ana.id, _fields("UTC", "2027-04-01 10:00"))
    assert [s.status for s in tracker.sessions.list(ana.id)] == ["cancelled", "planned", "planned"]


def test_past_session_is_done_future_is_planned(tracker: Tracker) -> None:
    ana = tracker.people.add("Ana", "UTC")
    past = tracker.sessions.create(ana.id, _fields("UTC", "2027-02-01 10:00"))
    future = tracker.sessions.create(ana.id, _fields("UTC", "2027-03-02 10:00"))
    assert (past.status, future.status) == (SessionStatus.DONE, SessionStatus.PLANNED)
    with pytest.raises(Conflict, match="once it has started"):  # not before the session has started
        tracker.sessions.complete(future.id, pain_before=5, pain_after=2)
    tracker.clock.advance(s=(future.start_ms - tracker.clock.now_ms()) / 1000 + 60)  # type: ignore[attr-defined]
    done = tracker.sessions.complete(future.id, pain_before=5, pain_after=2)
    assert done.status == SessionStatus.DONE and done.fields.pain_after == 2


def test_plan_windows_in_local_time_across_dst() -> None:
    """Berlin switches to summer time on 2027-03-28 at 02:00: a session on the evening of the 27th gets
    its morning-after sync at 09:00 CEST, which is 07:00 UTC, not 08:00."""
    from tracker.sessions import SessionInfo

    tz = "Europe/Berlin"
    f = _fields(tz, "2027-03-27 20:00", 60)
    info = SessionInfo(1, 1, "Ana", tz, SessionStatus.PLANNED, f)
    plan = plan_session(info, CaptureConfig())
    pre, post = plan.captures
    assert format_local(pre.start_ms, tz) == "2027-03-27T19:55:00+01:00"
    assert format_local(pre.end_ms, tz) == "2027-03-27T20:00:00+01:00"
    assert format_local(post.start_ms, tz) == "2027-03-27T21:05:00+01:00"
    assert format_local(post.end_ms, tz) == "2027-03-27T21:10:00+01:00"
    assert format_local(plan.morning_sync_ms, tz) == "2027-03-28T09:00:00+02:00"
    assert plan.morning_sync_ms == parse_local("2027-03-28T07:00:00Z", tz)
    # autumn: 2027-10-31 back to +01:00
    assert format_local(morning_after_ms(parse_local("2027-10-30 22:00", tz), tz, "09:00"), tz) == "2027-10-31T09:00:00+01:00"
    with_during = plan_session(info, CaptureConfig(during=True, pre_min=10))
    assert [c.phase for c in with_during.captures] == ["pre", "during", "post"]
    assert with_during.captures[0].end_ms - with_during.captures[0].start_ms == 600_000


def test_planner_schedules_moves_and_removes_jobs(tracker: Tracker) -> None:
    jobs = RecordingJobs()
    tracker.sessions.listeners.append(Planner(tracker.sessionmaker, jobs, CaptureConfig(), tracker.clock))
    ana = tracker.people.add("Ana", "Europe/Berlin")
    s = tracker.sessions.create(ana.id, _fields(ana.tz, "2027-03-27 20:00"))
    assert sorted(jobs.jobs_by_id) == [f"session-{s.id}-morning", f"session-{s.id}-post", f"session-{s.id}-pre"]
    assert format_local(jobs.jobs_by_id[f"session-{s.id}-pre"][0], ana.tz) == "2027-03-27T19:55:00+01:00"
    tracker.sessions.update(s.id, start_ms=parse_local("2027-03-28 20:00", ana.tz),
                            end_ms=parse_local("2027-03-28 21:00", ana.tz))  # fmt: skip
    assert format_local(jobs.jobs_by_id[f"session-{s.id}-pre"][0], ana.tz) == "2027-03-28T19:55:00+02:00"
    from tracker.devices import Devices

    captures = Devices(tracker.sessionmaker, tracker.clock).captures(session_id=s.id)
    assert [(c.phase, c.status, format_local(c.planned_start_ms, ana.tz)) for c in captures] == [
        ("pre", "planned", "2027-03-28T19:55:00+02:00"), ("post", "planned", "2027-03-28T21:05:00+02:00"),
    ]  # fmt: skip
    tracker.sessions.cancel(s.id)
    assert jobs.jobs_by_id == {}
    assert Devices(tracker.sessionmaker, tracker.clock).captures(session_id=s.id) == []


ICS = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:evt-1@example.org
DTSTART;TZID=Europe/Berlin:{start}
DTEND;TZID=Europe/Berlin:{end}
SUMMARY:Deep tissue massage with Mia
END:VEVENT
BEGIN:VEVENT
UID:evt-2@example.org
DTSTART:20270405T080000Z
DTEND:20270405T090000Z
SUMMARY:Dentist
END:VEVENT
BEGIN:VEVENT
UID:evt-3@example.org
DTSTART;VALUE=DATE:20270406
SUMMARY:Massage day (all day)
END:VEVENT
END:VCALENDAR
"""


def test_import_ics_is_idempotent_and_follows_moves(tracker: Tracker, tmp_path: Path) -> None:
    from tracker.calendar_import import import_ics

    ana = tracker.people.add("Ana", "Europe/Berlin")
    data = ICS.format(start="20270403T100000", end="20270403T110000").encode()
    r1 = import_ics(tracker.sessions, ana, data, match="massage", origin="cal.ics")
    assert (r1.created, r1.skipped) == (1, 2)
    r2 = import_ics(tracker.sessions, ana, data, match="massage", origin="cal.ics")
    assert (r2.created, r2.unchanged) == (0, 1)
    moved = ICS.format(start="20270404T150000", end="20270404T161500").encode()
    r3 = import_ics(tracker.sessions, ana, moved, match="MASSAGE", origin="cal.ics")
    assert r3.moved == 1
    [s] = tracker.sessions.list(ana.id)
    assert s.to_dict()["start"] == "2027-04-04T15:00:00+02:00" and s.to_dict()["minutes"] == 75
    assert s.fields.technique == "deep_tissue" and s.ics_uid == "evt-1@example.org"


def test_session_cli(config_file: Path, capsys) -> None:
    run = lambda *a: main(["--config", str(config_file), *a])  # noqa: E731
    assert run("init") == 0
    assert run("person", "add", "Ana", "--tz", "Europe/Berlin") == 0
    capsys.readouterr()
    assert run("session", "add", "--person", "Ana", "--start", "2099-06-10 10:00", "--minutes", "60",
               "--technique", "Swedish", "--pressure", "3", "--areas", "back,neck", "--therapist", "Mia") == 0  # fmt: skip
    sid = int(capsys.readouterr().out.strip())
    assert run("session", "show", str(sid), "--json") == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["start"] == "2099-06-10T10:00:00+02:00" and shown["areas"] == ["back", "neck"]
    assert [c["phase"] for c in shown["captures"]] == ["pre", "post"]
    assert run("jobs", "--json") == 0
    jobs = json.loads(capsys.readouterr().out)
    assert [(j["id"], j["next_run"]) for j in jobs] == [
        (f"session-{sid}-pre", "2099-06-10T09:55:00+02:00"),
        (f"session-{sid}-post", "2099-06-10T11:05:00+02:00"),
        (f"session-{sid}-morning", "2099-06-11T09:00:00+02:00"),
    ]
    assert run("session", "add", "--person", "Ana", "--start", "2099-06-10 10:30", "--minutes", "30") == 2
    assert "overlaps session" in capsys.readouterr().err
    assert run("session", "edit", str(sid), "--start", "2099-06-11 10:00", "--json") == 0
    assert json.loads(capsys.readouterr().out)["end"] == "2099-06-11T11:00:00+02:00"
    assert run("jobs", "--json") == 0
    assert json.loads(capsys.readouterr().out)[0]["next_run"] == "2099-06-11T09:55:00+02:00"
    assert run("session", "cancel", str(sid)) == 0
    assert run("jobs", "--json") == 0
    assert json.loads(capsys.readouterr().out.split("\n", 1)[1]) == []
    assert run("session", "list", "--json") == 0
    assert [s["status"] for s in json.loads(capsys.readouterr().out)] == ["cancelled"]
