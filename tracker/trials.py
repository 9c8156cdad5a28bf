"""The n-of-1 trial service: plan a randomised schedule, keep its deviations, analyse it.

`plan_trial` draws the allocation (a fair coin per week, from a recorded seed; `analysis.trial.allocate`)
and stores it with the trial before its first session, then plans every session through the session
service, so the capture planner (a session listener) gives each one its pre/post windows and morning
sync. `on_session_change` (a session listener too) records a deviation when a planned trial session is
cancelled (skipped), moved, or has its kind changed (swapped). `show` analyses the trial by its own
randomisation test (`analysis.trial`), as allocated (intention to treat).

Outcomes per session: the nights after it at the trial's primary lag (the person's primary endpoint when
the trial was planned, plus the other nightly metrics) and the within-session changes (post − pre heart
rate and lnRMSSD from the capture windows that passed their quality gate; pain, stress, mood).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import math
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from tracker import endpoints
from tracker.analysis.report import Report, session_day
from tracker.analysis.sleep import NIGHT_METRICS
from tracker.analysis.trial import MIN_WEEKS_FOR_ALPHA, OutcomeSpec, allocate, analyse_trial
from tracker.clock import Clock
from tracker.config import Config
from tracker.errors import Conflict, NotFound, UserError
from tracker.model import SessionKind, SessionStatus
from tracker.people import People
from tracker.sessions import SessionFields, SessionInfo, Sessions
from tracker.storage.models import MassageSession, Trial, TrialAllocation, TrialDeviation
from tracker.timefmt import format_local, from_ms
from tracker.trial_slots import format_slots, parse_slot, parse_slots, slot_start_ms

if TYPE_CHECKING:
    from tracker.reports import Reports

logger = logging.getLogger(__name__)
MAX_WEEKS = 52
DEFAULT_SESSION_MIN = 60

_NIGHT_LABELS = {
    "ln_rmssd_night": ("nightly lnRMSSD", "ln(ms)"), "resting_hr_bpm": ("resting heart rate", "bpm"),
    "tst_min": ("total sleep", "min"), "sleep_efficiency_pct": ("sleep efficiency", "%"),
    "waso_min": ("wake after sleep onset", "min"), "deep_min": ("deep sleep (device estimate)", "min"),
    "rem_min": ("REM sleep (device estimate)", "min"),
}  # fmt: skip
_ACUTE = (("hr_bpm", "heart rate", "bpm"), ("ln_rmssd", "lnRMSSD", "ln(ms)"), ("pain", "pain", "points"),
          ("stress", "stress", "points"), ("mood", "mood", "points"))  # fmt: skip


def _night_when(lag: int) -> str:
    return "on the night after" if lag == 1 else f"on night {lag} after"


@dataclass(frozen=True, slots=True)
class TrialReport(Report):
    """The evidence report plus the person's trial and primary endpoint history (issue 9, items 6-7)."""

    trial: dict[str, Any] | None = None
    primary_endpoint_history: tuple[dict[str, Any], ...] = ()
    primary_endpoint_note: str = ""

    def to_dict(self) -> dict[str, object]:
        out = Report.to_dict(self)  # explicit base: zero-argument super() fails in slotted dataclasses
        if isinstance(out.get("primary_endpoint"), dict):
            out["primary_endpoint"]["history_note"] = self.primary_endpoint_note  # type: ignore[index]
        out["primary_endpoint_history"] = list(self.primary_endpoint_history)
        out["trial"] = self.trial
        return out


class Trials:
    def __init__(self, sessionmaker: so.sessionmaker[so.Session], sessions: Sessions, people: People,
                 reports: Reports, cfg: Config, clock: Clock) -> None:  # fmt: skip
        self._db = sessionmaker
        self._sessions = sessions
        self._people = people
        self._reports = reports
        self._cfg = cfg
        self._clock = clock

    # -- planning ---------------------------------------------------------------------------------

    def plan_trial(self, person: str | int, weeks: int, slots: str, *, minutes: int = DEFAULT_SESSION_MIN,
                   first_day: dt.date | None = None, seed: int | None = None,
                   user_id: int | None = None) -> dict[str, Any]:  # fmt: skip
        """Randomise each week's massage slot, store the allocation and seed, plan every session; all or none."""
        info = self._people.get(person, user_id=user_id)
        pair = parse_slots(slots)
        if not 1 <= weeks <= MAX_WEEKS:
            raise UserError(f"weeks must be 1-{MAX_WEEKS}, not {weeks}")
        if not 10 <= minutes <= 240:
            raise UserError(f"session minutes must be 10-240, not {minutes}")
        now_ms = self._clock.now_ms()
        if first_day is None:
            first_day = from_ms(now_ms, info.tz).date() + dt.timedelta(days=1)
        seed = secrets.randbits(62) if seed is None else seed
        massage_slot = allocate(seed, weeks)
        plan: list[tuple[int, int, SessionKind, int]] = []  # (week, slot, allocated kind, start ms)
        for w in range(1, weeks + 1):
            for s, slot in enumerate(pair):
                kind = SessionKind.MASSAGE if massage_slot[w - 1] == s else SessionKind.REST
                plan.append((w, s, kind, slot_start_ms(first_day, w, slot, info.tz)))
        first_ms = min(p[3] for p in plan)
        if first_ms <= now_ms:
            raise UserError(f"the first trial session ({format_local(first_ms, info.tz)}) must be in the future: "
                            "the allocation is fixed before it")  # fmt: skip
        self._check_no_running_trial(info.id, now_ms)
        metric, lag = self._cfg.analysis.primary_metric, self._cfg.analysis.primary_lag
        trial_id: list[int] = []

        def store(db: so.Session, rows: list[MassageSession]) -> None:
            trial = Trial(person_id=info.id, weeks=weeks, slots=format_slots(pair), session_min=minutes,
                          first_day=first_day.isoformat(), seed=seed, primary_metric=metric, primary_lag=lag,
                          status="active", created_ms=now_ms)  # fmt: skip
            db.add(trial)
            db.flush()
            for (w, s, kind, start_ms), row in zip(plan, rows, strict=True):
                db.add(TrialAllocation(trial_id=trial.id, week=w, slot=s, kind=str(kind), session_id=row.id,
                                       planned_start_ms=start_ms, seen_start_ms=start_ms, seen_kind=str(kind)))  # fmt: skip
            endpoints.record(db, info.id, metric, lag, now_ms)
            trial_id.append(trial.id)

        fields = [
            SessionFields(start_ms=start, end_ms=start + minutes * 60_000, kind=kind,
                          notes=f"n-of-1 trial week {w}: {kind} (randomised)")  # fmt: skip
            for w, _s, kind, start in plan
        ]
        self._sessions.create_all(info.id, fields, user_id=user_id, also=store)
        logger.debug("planned trial %s for person %s: %d weeks, slots %s", trial_id[0], info.id, weeks, slots)
        return self.show(info.id, user_id=user_id, analyse=False) or {}

    def _check_no_running_trial(self, person_id: int, now_ms: int) -> None:
        with self._db() as db:
            pending = db.scalar(
                sa.select(Trial.id)
                .join(TrialAllocation, TrialAllocation.trial_id == Trial.id)
                .join(MassageSession, MassageSession.id == TrialAllocation.session_id)
                .where(Trial.person_id == person_id, Trial.status == "active",
                       MassageSession.status == str(SessionStatus.PLANNED), MassageSession.end_ms > now_ms)  # fmt: skip
                .limit(1)
            )
        if pending is not None:
            raise Conflict(f"trial {pending} still has sessions planned: let it finish, "
                           "or stop it first (tracker trial stop)")

    def stop(self, person: str | int, reason: str, *, user_id: int | None = None) -> dict[str, Any]:
        """End the person's trial early: cancel its sessions still planned, and record why."""
        info = self._people.get(person, user_id=user_id)
        if not reason.strip():
            raise UserError("say why the trial stops (--reason)")
        now_ms = self._clock.now_ms()
        with self._db.begin() as db:
            trial = db.scalar(sa.select(Trial).where(Trial.person_id == info.id, Trial.status == "active")
                              .order_by(Trial.id.desc()).limit(1))  # fmt: skip
            if trial is None:
                raise NotFound(f"{info.name} has no active trial")
            trial.status = "stopped"  # first: the cancellations below are the stop, not separate skips
            pending = list(db.scalars(
                sa.select(TrialAllocation).join(MassageSession, MassageSession.id == TrialAllocation.session_id)
                .where(TrialAllocation.trial_id == trial.id, MassageSession.status == str(SessionStatus.PLANNED))
                .order_by(TrialAllocation.week, TrialAllocation.planned_start_ms)))  # fmt: skip
            week = pending[0].week if pending else trial.weeks
            db.add(TrialDeviation(trial_id=trial.id, week=week, slot=pending[0].slot if pending else 0, session_id=None,
                                  kind="stopped", reason=f"trial stopped, {len(pending)} planned sessions cancelled: "
                                  f"{reason.strip()}", recorded_ms=now_ms))  # fmt: skip
            session_ids = [a.session_id for a in pending if a.session_id is not None]
        for session_id in session_ids:  # through the service, so the planner removes their captures and jobs
            self._sessions.cancel(session_id, user_id=user_id)
        return self.show(info.id, user_id=user_id, analyse=False) or {}

    # -- deviations -------------------------------------------------------------------------------

    def on_session_change(self, info: SessionInfo, what: str) -> None:
        """Session listener: a cancelled, moved or re-kinded trial session is a deviation, recorded once."""
        if what not in ("cancelled", "updated"):
            return
        now_ms = self._clock.now_ms()
        with self._db.begin() as db:
            alloc = db.scalar(
                sa.select(TrialAllocation)
                .join(Trial, Trial.id == TrialAllocation.trial_id)
                .where(TrialAllocation.session_id == info.id, Trial.status == "active")
            )
            if alloc is None:
                return
            found: list[tuple[str, str]] = []
            if what == "cancelled":
                found.append(("skipped", f"session {info.id} cancelled: week {alloc.week} has no {alloc.kind} "
                                         "outcome, so the week drops out of the analysis"))  # fmt: skip
            else:
                if info.start_ms != alloc.seen_start_ms:
                    found.append(("moved", f"session {info.id} moved from {format_local(alloc.seen_start_ms, info.tz)} "
                                           f"to {format_local(info.start_ms, info.tz)}"))  # fmt: skip
                    alloc.seen_start_ms = info.start_ms
                if str(info.kind) != alloc.seen_kind:
                    swapped = str(info.kind) != alloc.kind
                    found.append(("swapped" if swapped else "restored",
                                  f"session {info.id} changed from {alloc.seen_kind} to {info.kind}; allocated "
                                  f"{alloc.kind}, and analysed as allocated (intention to treat)"))  # fmt: skip
                    alloc.seen_kind = str(info.kind)
            for kind, reason in found:
                db.add(TrialDeviation(trial_id=alloc.trial_id, week=alloc.week, slot=alloc.slot, session_id=info.id,
                                      kind=kind, reason=reason, recorded_ms=now_ms))  # fmt: skip

    # -- showing and analysing --------------------------------------------------------------------

    def show(self, person: str | int, *, user_id: int | None = None, analyse: bool = True) -> dict[str, Any] | None:
        """The person's latest trial: allocation, seed, sessions, deviations and (with `analyse`) the result."""
        info = self._people.get(person, user_id=user_id)
        with self._db() as db:
            trial = db.scalar(sa.select(Trial).where(Trial.person_id == info.id).order_by(Trial.id.desc()).limit(1))
            if trial is None:
                return None
            allocs = list(db.scalars(sa.select(TrialAllocation).where(TrialAllocation.trial_id == trial.id)
                                     .order_by(TrialAllocation.week, TrialAllocation.planned_start_ms)))  # fmt: skip
            devs = list(db.scalars(sa.select(TrialDeviation).where(TrialDeviation.trial_id == trial.id)
                                   .order_by(TrialDeviation.recorded_ms, TrialDeviation.id)))  # fmt: skip
            trial_data = {c.name: getattr(trial, c.name) for c in Trial.__table__.columns}
            alloc_data = [{c.name: getattr(a, c.name) for c in TrialAllocation.__table__.columns} for a in allocs]
            dev_data = [{c.name: getattr(d, c.name) for c in TrialDeviation.__table__.columns} for d in devs]
        by_id = {s.id: s for s in self._sessions.list(info.id)}
        return self._view(info.tz, trial_data, alloc_data, dev_data, by_id, analyse)

    def _view(self, tz: str, t: dict[str, Any], allocs: list[dict[str, Any]], devs: list[dict[str, Any]],
              by_id: dict[int, SessionInfo], analyse: bool) -> dict[str, Any]:  # fmt: skip
        now_ms = self._clock.now_ms()
        slots = [parse_slot(s) for s in t["slots"].split(",")]
        weeks: dict[int, dict[str, Any]] = {}
        missed = []
        for a in allocs:
            s = by_id.get(a["session_id"]) if a["session_id"] is not None else None
            week = weeks.setdefault(a["week"], {"week": a["week"], "massage_slot": None, "sessions": []})
            if a["kind"] == SessionKind.MASSAGE:
                week["massage_slot"] = str(slots[a["slot"]])
            week["sessions"].append({
                "slot": str(slots[a["slot"]]), "allocated": a["kind"], "session_id": a["session_id"],
                "planned_start": format_local(a["planned_start_ms"], tz),
                "start": None if s is None else format_local(s.start_ms, tz),
                "status": None if s is None else str(s.status), "kind_now": None if s is None else str(s.kind),
            })  # fmt: skip
            if s is not None and s.status == SessionStatus.PLANNED and s.end_ms < now_ms:
                missed.append({"week": a["week"], "slot": str(slots[a["slot"]]), "session_id": s.id, "kind": "missed",
                               "reason": "still planned after its time: not marked done", "recorded": None})  # fmt: skip
        allocation = tuple(0 if w["massage_slot"] == str(slots[0]) else 1 for w in weeks.values())
        starts = [a["seen_start_ms"] for a in allocs]
        status = t["status"]
        if status == "active":
            status = "planned" if now_ms < min(starts) else ("finished" if now_ms > max(starts) else "running")
        view: dict[str, Any] = {
            "id": t["id"], "status": status, "weeks": t["weeks"], "slots": t["slots"], "session_minutes": t["session_min"],
            "first_day": t["first_day"], "seed": str(t["seed"]),  # text: JSON numbers lose digits past 2^53
            "allocation_matches_seed": allocate(t["seed"], t["weeks"]) == allocation,
            "created": format_local(t["created_ms"], tz),
            "primary_outcome": {"metric": t["primary_metric"], "lag": t["primary_lag"]},
            "schedule": list(weeks.values()),
            "deviations": [
                {"week": d["week"], "slot": str(slots[d["slot"]]), "session_id": d["session_id"], "kind": d["kind"],
                 "reason": d["reason"], "recorded": format_local(d["recorded_ms"], tz)} for d in devs
            ] + missed,  # fmt: skip
            "analysis": None,
        }
        if analyse:
            view["analysis"] = self._analyse(t, allocs, by_id, tz)
        return view

    def _analyse(self, t: dict[str, Any], allocs: list[dict[str, Any]], by_id: dict[int, SessionInfo],
                 tz: str) -> dict[str, Any]:  # fmt: skip
        lag = t["primary_lag"]
        person_id = t["person_id"]
        values: dict[str, dict[int, dict[str, float]]] = {}  # outcome → week → allocated kind → value
        done = [(a, s) for a in allocs if a["session_id"] is not None
                and (s := by_id.get(a["session_id"])) is not None and s.status == SessionStatus.DONE]  # fmt: skip
        labels = [session_day(s.end_ms, tz) + dt.timedelta(days=lag) for _a, s in done]
        nights = {n.label: n for n in self._reports.nights(person_id, min(labels), max(labels))} if labels else {}
        windows = self._reports.windows_of([s for _a, s in done])  # all in a bounded number of queries
        for (a, s), (pre, post) in zip(done, windows, strict=True):
            night = nights.get(session_day(s.end_ms, tz) + dt.timedelta(days=lag))
            for metric in NIGHT_METRICS:
                v = getattr(night, metric, None) if night is not None else None
                values.setdefault(metric, {}).setdefault(a["week"], {})[a["kind"]] = _f(v)
            both = pre.quality_ok and post.quality_ok
            for name, getter in (("hr_bpm", lambda w: w.hr_bpm), ("ln_rmssd", lambda w: w.ln_rmssd)):
                v = getter(post) - getter(pre) if both and getter(post) is not None and getter(pre) is not None else None
                values.setdefault(name, {}).setdefault(a["week"], {})[a["kind"]] = _f(v)
            for name in ("pain", "stress", "mood"):
                before, after = getattr(s.fields, f"{name}_before"), getattr(s.fields, f"{name}_after")
                v = None if before is None or after is None else after - before
                values.setdefault(name, {}).setdefault(a["week"], {})[a["kind"]] = _f(v)
        specs = {m: OutcomeSpec(m, _NIGHT_LABELS[m][0], _NIGHT_LABELS[m][1], _night_when(lag)) for m in NIGHT_METRICS}
        specs |= {n: OutcomeSpec(n, f"the change in {label} across a session", unit, "(after minus before)")
                  for n, label, unit in _ACUTE}  # fmt: skip
        week_numbers = range(1, t["weeks"] + 1)
        outcomes = {}
        for name, spec in specs.items():
            per_week = values.get(name, {})
            m = [per_week.get(w, {}).get("massage", math.nan) for w in week_numbers]
            r = [per_week.get(w, {}).get("rest", math.nan) for w in week_numbers]
            if name == t["primary_metric"] or any(math.isfinite(x) and math.isfinite(y) for x, y in zip(m, r)):
                outcomes[name] = (spec, m, r)
        results = analyse_trial(outcomes, t["primary_metric"], seed=int(t["seed"]) % 2**63)
        complete = sum(1 for w in week_numbers if all(
            (s := by_id.get(a["session_id"])) is not None and s.status == SessionStatus.DONE
            for a in allocs if a["week"] == w))  # fmt: skip
        return {
            "design": "each week a fair coin (from the recorded seed) chose which slot is the massage; the other "
                      "is a rest session. Analysed as allocated by the exact randomisation test over the "
                      "allocations the coin could have produced.",
            "weeks_with_both_sessions_done": complete,
            "weeks_needed_for_a_result": MIN_WEEKS_FOR_ALPHA,
            "outcomes": [r.to_dict() for r in results],
        }  # fmt: skip

    def endpoint_history(self, person: str | int, *, user_id: int | None = None) -> dict[str, Any]:
        """The primary endpoint's recorded history (read only) and its one-line note."""
        info = self._people.get(person, user_id=user_id)
        with self._db() as db:
            entries = endpoints.history(db, info.id)
        return {"note": endpoints.describe(entries, info.tz), "history": [e.to_dict(info.tz) for e in entries]}

    # -- the report hook --------------------------------------------------------------------------

    def attach(self, report: Report, person_id: int) -> TrialReport:
        """The report with the person's trial (None without one) and primary endpoint history."""
        a = self._cfg.analysis
        tz = self._people.get(person_id).tz
        with self._db.begin() as db:
            entries = endpoints.record(db, person_id, a.primary_metric, a.primary_lag, self._clock.now_ms())
        base = {f.name: getattr(report, f.name) for f in dataclasses.fields(Report)}
        return TrialReport(**base, trial=self.show(person_id), primary_endpoint_note=endpoints.describe(entries, tz),
                           primary_endpoint_history=tuple(e.to_dict(tz) for e in entries))  # fmt: skip


def _f(x: float | int | None) -> float:
    return math.nan if x is None else float(x)
