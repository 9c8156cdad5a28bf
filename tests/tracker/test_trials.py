"""The trial service on a real database (SQLite, and PostgreSQL when configured): planning with captures,
the allocation stored before the first session, deviations, the analysis, the report hook, the CLI."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from tracker.analysis.trial import allocate
from tracker.bootstrap import Tracker
from tracker.config import AnalysisConfig, CaptureConfig
from tracker.errors import Conflict, UserError
from tracker.model import SessionKind
from tracker.planning import Planner
from tracker.reports import Reports
from tracker.sessions import SessionFields
from tracker.storage.models import Capture, Trial, TrialAllocation
from tracker.timefmt import parse_local
from tracker.cli import main
from tests.tracker.test_sessions import RecordingJobs

# The fixed "now" is Monday 2027-03-01 13:00 in Berlin; Berlin moves to summer time on 2027-03-28.
FIRST_DAY = dt.date(2027, 3, 2)


def _plan(tracker: Tracker, person: str = "Ana", weeks: int = 6, seed: int = 7, **kw):
    return tracker.trials.plan_trial(person, weeks, "Tue 18:00,Fri 18:00", first_day=FIRST_DAY, seed=seed, **kw)


@pytest.fixture
def ana(tracker: Tracker):
    person = tracker.people.add("Ana", "Europe/Berlin")
    jobs = RecordingJobs()
    tracker.sessions.listeners.append(Planner(tracker.sessionmaker, jobs, CaptureConfig(), tracker.clock))
    tracker.extras["jobs"] = jobs
    return person


def test_plan_randomises_each_week_before_the_first_session_and_plans_captures(tracker: Tracker, ana) -> None:
    view = _plan(tracker)
    assert view["seed"] == "7" and view["allocation_matches_seed"] and view["status"] == "planned"
    sessions = tracker.sessions.list(ana.id)
    assert len(sessions) == 12
    expected = allocate(7, 6)
    for w, week in enumerate(view["schedule"], start=1):
        kinds = {s["slot"]: s["allocated"] for s in week["sessions"]}
        assert sorted(kinds.values()) == ["massage", "rest"]
        assert week["massage_slot"] == ("Tue 18:00", "Fri 18:00")[expected[w - 1]]
    # Wall-clock 18:00 in Berlin on both sides of the DST change: 17:00Z in winter, 16:00Z in summer.
    starts = {s.to_dict()["start"] for s in sessions}
    assert "2027-03-02T18:00:00+01:00" in starts and "2027-04-02T18:00:00+02:00" in starts
    assert all(s.end_ms - s.start_ms == 3_600_000 for s in sessions)
    with tracker.sessionmaker() as db:
        trial = db.scalars(sa.select(Trial)).one()
        allocs = db.scalars(sa.select(TrialAllocation)).all()
        captures = db.scalars(sa.select(Capture)).all()
    assert trial.created_ms < min(s.start_ms for s in sessions)  # the allocation exists before the first session
    assert trial.seed == 7 and len(allocs) == 12
    assert {c.phase for c in captures} == {"pre", "post"} and len(captures) == 24  # every session got its windows
    assert len([j for j in tracker.extras["jobs"].jobs_by_id if j.endswith("-morning")]) == 12


def test_bad_plans_store_nothing(tracker: Tracker, ana) -> None:
    with pytest.raises(UserError, match="exactly two weekly slots"):
        tracker.trials.plan_trial("Ana", 6, "Tue 18:00")
    with pytest.raises(UserError, match="different weekdays"):
        tracker.trials.plan_trial("Ana", 6, "Tue 18:00,Tue 20:00")
    with pytest.raises(UserError, match="not a weekday"):
        tracker.trials.plan_trial("Ana", 6, "Tux 18:00,Fri 18:00")
    with pytest.raises(UserError, match="weeks must be"):
        tracker.trials.plan_trial("Ana", 0, "Tue 18:00,Fri 18:00")
    with pytest.raises(UserError, match="must be in the future"):
        tracker.trials.plan_trial("Ana", 6, "Mon 09:00,Fri 18:00", first_day=dt.date(2027, 3, 1))
    # A clash with an existing session rolls the whole plan back (all or none).
    start = parse_local("2027-03-19 18:30", "Europe/Berlin")
    tracker.sessions.create(ana.id, SessionFields(start_ms=start, end_ms=start + 3_600_000))
    with pytest.raises(Conflict, match="overlaps session"):
        _plan(tracker)
    assert len(tracker.sessions.list(ana.id)) == 1
    assert tracker.trials.show("Ana") is None


def test_second_trial_refused_while_one_is_planned(tracker: Tracker, ana) -> None:
    _plan(tracker)
    with pytest.raises(Conflict, match="still has sessions planned"):
        tracker.trials.plan_trial("Ana", 6, "Wed 18:00,Sat 18:00", first_day=FIRST_DAY)


def test_deviations_are_recorded_once_with_time_and_reason(tracker: Tracker, ana, clock) -> None:
    view = _plan(tracker)
    week1 = {s["allocated"]: s["session_id"] for s in view["schedule"][0]["sessions"]}
    week2 = {s["allocated"]: s["session_id"] for s in view["schedule"][1]["sessions"]}
    tracker.sessions.cancel(week1["rest"])
    moved = tracker.sessions.get(week2["massage"])
    tracker.sessions.update(moved.id, start_ms=moved.start_ms + 3_600_000, end_ms=moved.end_ms + 3_600_000)
    tracker.sessions.update(week2["rest"], kind=SessionKind.MASSAGE)
    tracker.sessions.update(week2["rest"], notes="felt tired")  # not a deviation
    devs = tracker.trials.show("Ana", analyse=False)["deviations"]
    assert [(d["week"], d["kind"]) for d in devs] == [(1, "skipped"), (2, "moved"), (2, "swapped")]
    assert "cancelled" in devs[0]["reason"] and "drops out" in devs[0]["reason"]
    assert "to 2027-03-" in devs[1]["reason"] and devs[1]["recorded"] == "2027-03-01T13:00:00+01:00"
    assert "analysed as allocated" in devs[2]["reason"]
    tracker.sessions.update(week2["rest"], kind=SessionKind.REST)
    assert tracker.trials.show("Ana", analyse=False)["deviations"][-1]["kind"] == "restored"
    # A session left "planned" after its time shows as missed.
    clock.set(parse_local("2027-03-06 12:00", "Europe/Berlin"))
    missed = [d for d in tracker.trials.show("Ana", analyse=False)["deviations"] if d["kind"] == "missed"]
    assert [d["session_id"] for d in missed] == [week1["massage"]]


def test_analysis_of_a_finished_trial_is_worded_causally_only_when_significant(tracker: Tracker, ana, clock) -> None:
    view = _plan(tracker, weeks=6)
    clock.set(parse_local("2027-04-20 12:00", "Europe/Berlin"))
    for week in view["schedule"]:
        for s in week["sessions"]:
            drop = 4 if s["allocated"] == "massage" else 0  # pain falls by 4 after massage, 0 after rest
            tracker.sessions.complete(s["session_id"], pain_before=6, pain_after=6 - drop, mood_before=5, mood_after=5)
    shown = tracker.trials.show("Ana")
    assert shown["status"] == "finished"
    analysis = shown["analysis"]
    assert analysis["weeks_with_both_sessions_done"] == 6
    by_name = {o["outcome"]: o for o in analysis["outcomes"]}
    primary = analysis["outcomes"][0]
    assert primary["primary"] and primary["outcome"] == "ln_rmssd_night" and primary["verdict"] == "no data"
    pain = by_name["pain"]
    assert pain["estimate"] == -4 and pain["p"] == pytest.approx(2 / 64) and pain["n_allocations"] == 64
    assert pain["verdict"] == "lowered" and pain["statement"].startswith("In this randomised test massage lowered")
    assert by_name["mood"]["verdict"] == "cannot tell" and "massage lowered" not in by_name["mood"]["statement"]


def test_report_carries_the_trial_and_the_primary_endpoint_history(tracker: Tracker, ana, clock) -> None:
    data = tracker.reports.report(ana.id).to_dict()
    assert data["trial"] is None
    assert [(h["metric"], h["lag"], h["sessions_done"]) for h in data["primary_endpoint_history"]] == [("ln_rmssd_night", 1, 0)]
    assert data["primary_endpoint"]["history_note"] == "set on 2027-03-01, after 0 sessions"
    past = parse_local("2027-02-20 10:00", "Europe/Berlin")
    tracker.sessions.create(ana.id, SessionFields(start_ms=past, end_ms=past + 3_600_000))
    _plan(tracker)
    clock.set(parse_local("2027-03-10 12:00", "Europe/Berlin"))
    cfg = tracker.config.replace(analysis=AnalysisConfig(primary_metric="resting_hr_bpm", primary_lag=1))
    reports = Reports(tracker.sessionmaker, tracker.people, tracker.sessions, cfg, tracker.clock)
    data = reports.report(ana.id).to_dict()
    assert data["trial"]["weeks"] == 6 and data["trial"]["analysis"] is not None
    assert [h["metric"] for h in data["primary_endpoint_history"]] == ["ln_rmssd_night", "resting_hr_bpm"]
    assert data["primary_endpoint"]["history_note"].startswith("changed on 2027-03-10, after 1 session (was ln_rmssd_night")
    assert reports.report(ana.id).to_dict()["primary_endpoint_history"] == data["primary_endpoint_history"]  # once


def test_trial_cli(config_file: Path, capsys) -> None:
    run = lambda *a: main(["--config", str(config_file), *a])  # noqa: E731
    assert run("init") == 0
    assert run("person", "add", "Ana", "--tz", "Europe/Berlin") == 0
    capsys.readouterr()
    assert run("trial", "plan", "--person", "Ana", "--weeks", "8", "--slots", "tue 18:00, Friday 18:30",
               "--start", "2099-06-01") == 0  # fmt: skip
    out = capsys.readouterr().out
    assert out.startswith("trial 1 planned: 8 weeks, slots Tue 18:00,Fri 18:30, seed ")
    assert "2099-06-05T18:30:00+02:00" in out
    assert run("trial", "show", "--person", "Ana", "--json") == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["allocation_matches_seed"] and len(shown["schedule"]) == 8
    assert shown["analysis"]["outcomes"][0]["verdict"] == "no data"
    assert run("jobs", "--json") == 0
    assert len(json.loads(capsys.readouterr().out)) == 8 * 2 * 3  # pre, post, morning sync per session
    for bad, message in ((["--slots", "Tue 25:00,Fri 18:00"], "not a time of day"),
                         (["--slots", "Tue 18:00,Fri 18:00", "--start", "2020-01-01"], "must be in the future"),
                         (["--slots", "Tue 18:00,Fri 18:00", "--start", "soon"], "is not a date")):  # fmt: skip
        assert run("trial", "plan", "--person", "Ana", "--weeks", "6", *bad) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err and "Traceback" not in err
    assert run("trial", "show", "--person", "Ana") == 0
    assert "allocation matches seed: yes" in capsys.readouterr().out
    assert run("report", "--person", "Ana") == 0
    out = capsys.readouterr().out
    assert "primary endpoint: ln_rmssd_night on night 1 after a session\n  (set on " in out
    assert "Fair test (trial 1, planned, 0 of 8 weeks done, 0 deviations):" in out
    assert run("trial", "stop", "--person", "Ana", "--reason", "moving house") == 0
    assert "16 planned sessions cancelled: moving house" in capsys.readouterr().out
    assert run("jobs", "--json") == 0
    assert json.loads(capsys.readouterr().out) == []  # every capture job removed with them
    assert run("trial", "show", "--person", "Ana", "--json") == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["status"] == "stopped" and [d["kind"] for d in shown["deviations"]] == ["stopped"]
    assert run("trial", "stop", "--person", "Ana", "--reason", "again") == 2
    assert "has no active trial" in capsys.readouterr().err


def test_night_outcomes_from_stored_samples_give_a_causal_primary_result(tracker: Tracker, ana, clock) -> None:
    """Six weeks of stored sleep, heart rate and RR: the night after each massage has a resting HR about
    7 bpm lower than the night after the week's rest session. With resting HR as the primary endpoint the
    trial's exact test finds it (all 6 weeks agree: p = 2/64) and words it causally."""
    import numpy as np
    from zoneinfo import ZoneInfo

    from tests.web.seed import rr_series
    from tracker.ingest import Provenance
    from tracker.model import RunKind, Source
    from tracker.trials import Trials

    cfg = tracker.config.replace(analysis=AnalysisConfig(primary_metric="resting_hr_bpm", primary_lag=1))
    trials = Trials(tracker.sessionmaker, tracker.sessions, tracker.people, tracker.reports, cfg, tracker.clock)
    view = trials.plan_trial("Ana", 6, "Tue 18:00,Fri 18:00", first_day=FIRST_DAY, seed=11)
    zone = ZoneInfo("Europe/Berlin")
    massage_days = {dt.date.fromisoformat(s["planned_start"][:10]) for w in view["schedule"] for s in w["sessions"]
                    if s["allocated"] == "massage"}  # fmt: skip
    device = tracker.devices.upsert("C4:7C:8D:6A:11:01", ana.id, name="ring", family="colmi")
    run_id = tracker.devices.start_run(RunKind.SYNC, device.id, ana.id, origin="test")
    prov = Provenance(ana.id, Source.HISTORY, device.id, run_id)
    rng = np.random.default_rng(5)
    sleep, hr, rr = [], [], []
    for k in range(45):
        evening = FIRST_DAY + dt.timedelta(days=k)
        bed_ms = int(dt.datetime.combine(evening, dt.time(23, 0), tzinfo=zone).timestamp() * 1000)
        sleep += [(bed_ms, bed_ms + 10 * 60_000, "awake"), (bed_ms + 10 * 60_000, bed_ms + 4 * 3600_000, "light"),
                  (bed_ms + 4 * 3600_000, bed_ms + 5 * 3600_000, "deep"), (bed_ms + 5 * 3600_000, bed_ms + 8 * 3600_000, "rem")]  # fmt: skip
        base = (48.0 if evening in massage_days else 55.0) + rng.normal(0, 0.5)
        hr += [(bed_ms + m * 60_000, int(round(base + rng.normal(0, 1)))) for m in range(0, 480, 5)]
        rr += rr_series(rng, bed_ms + 3 * 3600_000, 600, 60000 / base, 40)
    tracker.ingest.sleep(sleep, prov)
    tracker.ingest.heart_rate(hr, prov)
    tracker.ingest.rr(rr, prov)
    clock.set(parse_local("2027-04-20 12:00", "Europe/Berlin"))
    for week in view["schedule"]:
        for s in week["sessions"]:
            tracker.sessions.complete(s["session_id"])
    result = trials.show("Ana")["analysis"]
    primary = result["outcomes"][0]
    assert primary["outcome"] == "resting_hr_bpm" and primary["primary"] and primary["n_weeks"] == 6
    assert -8.5 < primary["estimate"] < -5.5 and primary["p"] == pytest.approx(2 / 64)
    assert primary["ci95"][1] < 0 and primary["verdict"] == "lowered"
    assert primary["statement"].startswith("In this randomised test massage lowered resting heart rate on the night after by")
    tst = next(o for o in result["outcomes"] if o["outcome"] == "tst_min")
    assert tst["verdict"] == "cannot tell" and tst["estimate"] == pytest.approx(0, abs=1)


def test_endpoint_history_ignores_a_repeated_entry(tracker: Tracker, ana, clock) -> None:
    """Two reports computed at once may both record the first entry; a repeat is not a change."""
    from tracker import endpoints

    with tracker.sessionmaker.begin() as db:
        db.add_all([endpoints.PrimaryEndpointChange(person_id=ana.id, metric="ln_rmssd_night", lag=1, set_ms=clock.now_ms(),
                                                    sessions_done=0) for _ in range(2)])  # fmt: skip
    with tracker.sessionmaker() as db:
        entries = endpoints.history(db, ana.id)
    assert len(entries) == 1
    assert endpoints.describe(entries, "Europe/Berlin") == "set on 2027-03-01, after 0 sessions"
    assert endpoints.describe([], "UTC") == "not recorded yet"
