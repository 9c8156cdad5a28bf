"""`tracker session add|list|show|edit|cancel|done|import-ics`, `tracker jobs`, `tracker runs`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tracker.bootstrap import Tracker, build_tracker
from tracker.config import Config
from tracker.errors import UserError
from tracker.model import SessionKind, SessionStatus
from tracker.planning import Planner
from tracker.sessions import SELF_REPORTS, SessionFields, SessionInfo, normalize_technique
from tracker.timefmt import format_local, parse_local

from .output import print_json, print_table
from .person_arg import add_person_option
from .scheduling import ApsJobPort


@contextmanager
def planning_tracker(cfg: Config) -> Iterator[tuple[Tracker, ApsJobPort]]:
    """A tracker whose session changes schedule capture jobs in the shared job store (paused scheduler)."""
    tracker = build_tracker(cfg)
    jobs = ApsJobPort(tracker.engine, cfg, run_jobs=False)
    jobs.start(paused=True)
    tracker.extras["jobs"] = jobs
    tracker.sessions.listeners.append(Planner(tracker.sessionmaker, jobs, cfg.capture, tracker.clock))
    try:
        yield tracker, jobs
    finally:
        jobs.shutdown()
        tracker.close()


def _fields_from_args(args: argparse.Namespace, tz: str, base: SessionFields | None = None) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if args.start is not None:
        changes["start_ms"] = parse_local(args.start, tz)
    if args.minutes is not None:
        if args.minutes <= 0:
            raise UserError("--minutes must be positive")
        start = changes.get("start_ms", base.start_ms if base else None)
        changes["end_ms"] = start + round(args.minutes * 60_000)
    elif "start_ms" in changes and base is not None:  # moving keeps the length
        changes["end_ms"] = changes["start_ms"] + (base.end_ms - base.start_ms)
    if args.kind is not None:
        changes["kind"] = SessionKind(args.kind)
    if args.technique is not None:
        changes["technique"] = normalize_technique(args.technique)
    if args.pressure is not None:
        changes["pressure"] = args.pressure
    if args.areas is not None:
        changes["areas"] = tuple(a.strip() for a in args.areas.split(",") if a.strip())
    if args.therapist is not None:
        changes["therapist"] = args.therapist
    if args.notes is not None:
        changes["notes"] = args.notes
    for name in SELF_REPORTS:
        value = getattr(args, name, None)
        if value is not None:
            changes[name] = value
    return changes


def _show(info: SessionInfo, as_json: bool, extra: dict[str, Any] | None = None) -> None:
    data = info.to_dict() | (extra or {})
    if as_json:
        print_json(data)
        return
    for key, value in data.items():
        if value not in (None, [], ""):
            print(f"{key:14} {value if not isinstance(value, list) else ', '.join(map(str, value))}")


def cmd_add(cfg: Config, args: argparse.Namespace) -> int:
    with planning_tracker(cfg) as (tracker, _):
        person = tracker.people.get(args.person)
        if args.start is None or args.minutes is None:
            raise UserError("--start and --minutes are required")
        changes = _fields_from_args(args, person.tz)
        info = tracker.sessions.create(person.id, SessionFields(**changes))
    if args.json:
        _show(info, True)
    else:
        print(info.id)
    return 0


def cmd_list(cfg: Config, args: argparse.Namespace) -> int:
    tracker = build_tracker(cfg)
    try:
        person_id = tracker.people.get(args.person).id if args.person else None
        statuses = [SessionStatus(args.status)] if args.status else None
        sessions = tracker.sessions.list(person_id, statuses=statuses)
    finally:
        tracker.close()
    if args.json:
        print_json([s.to_dict() for s in sessions])
    else:
        print_table(
            ["id", "person", "start", "min", "kind", "status", "technique", "pressure"],
            [[s.id, s.person_name, format_local(s.start_ms, s.tz), round((s.end_ms - s.start_ms) / 60000),
              s.kind, s.status, s.fields.technique, s.fields.pressure] for s in sessions],  # fmt: skip
        )
    return 0


def cmd_show(cfg: Config, args: argparse.Namespace) -> int:
    tracker = build_tracker(cfg)
    try:
        info = tracker.sessions.get(args.id)
        caps = tracker.devices.captures(session_id=args.id)
    finally:
        tracker.close()
    _show(info, args.json, {"captures": [c.to_dict(info.tz) for c in caps]} if args.json else None)
    if not args.json:
        for c in caps:
            print(f"capture {c.phase:5} {format_local(c.planned_start_ms, info.tz)}  {c.status}"
                  f"{'  beats ' + str(c.beats) if c.beats else ''}{'  ' + c.message if c.message else ''}")  # fmt: skip
    return 0


def cmd_edit(cfg: Config, args: argparse.Namespace) -> int:
    with planning_tracker(cfg) as (tracker, _):
        current = tracker.sessions.get(args.id)
        changes = _fields_from_args(args, current.tz, current.fields)
        if not changes:
            raise UserError("nothing to change (give --start, --minutes, --kind, ...)")
        info = tracker.sessions.update(args.id, **changes)
    _show(info, args.json)
    return 0


def cmd_cancel(cfg: Config, args: argparse.Namespace) -> int:
    with planning_tracker(cfg) as (tracker, _):
        info = tracker.sessions.cancel(args.id)
    print(f"session {info.id} cancelled")
    return 0


def cmd_done(cfg: Config, args: argparse.Namespace) -> int:
    with planning_tracker(cfg) as (tracker, _):
        reports = {n: getattr(args, n) for n in SELF_REPORTS if getattr(args, n) is not None}
        info = tracker.sessions.complete(args.id, **reports)
    _show(info, args.json)
    return 0


def cmd_import_ics(cfg: Config, args: argparse.Namespace) -> int:
    from tracker.calendar_import import import_ics

    with planning_tracker(cfg) as (tracker, _):
        person = tracker.people.get(args.person)
        try:
            data = args.file.read_bytes()
        except OSError as exc:
            raise UserError(f"{args.file}: cannot read: {exc.strerror or exc}") from None
        result = import_ics(tracker.sessions, person, data, match=args.match, origin=str(args.file))
    print(f"{args.file}: {result.created} new, {result.moved} moved, {result.cancelled} cancelled, "
          f"{result.unchanged} unchanged, {result.skipped} skipped (not matching {args.match!r}, all-day or cancelled)")  # fmt: skip
    for message in result.errors:
        print(f"tracker: error: {message}", file=sys.stderr)
    return 2 if result.errors else 0


def cmd_jobs(cfg: Config, args: argparse.Namespace) -> int:
    with planning_tracker(cfg) as (tracker, jobs):
        rows = []
        for job in jobs.jobs():
            tz = cfg.people.default_timezone
            if job.session_id is not None:
                try:
                    tz = tracker.sessions.get(job.session_id).tz
                except UserError:
                    pass
            rows.append({
                "id": job.id, "what": job.what, "session": job.session_id, "device": job.device_id,
                "next_run": None if job.next_run_ms is None else format_local(job.next_run_ms, tz),
            })  # fmt: skip
    if args.json:
        print_json(rows)
    else:
        print_table(["id", "what", "session", "device", "next run"], [list(r.values()) for r in rows])
    return 0


def cmd_runs(cfg: Config, args: argparse.Namespace) -> int:
    tracker = build_tracker(cfg)
    try:
        runs = tracker.devices.runs(limit=args.limit)
    finally:
        tracker.close()
    if args.json:
        print_json([r.to_dict() for r in runs])
    else:
        print_table(
            ["id", "kind", "device", "started", "status", "hr", "rr", "sleep", "sessions", "malformed", "error / detail"],
            [[r.id, r.kind, r.device_name or r.origin, format_local(r.started_ms, cfg.people.default_timezone),
              r.status, r.heart_rate, r.rr, r.sleep, r.sessions, r.malformed, r.error or r.detail] for r in runs],  # fmt: skip
        )
    return 0


def _session_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--start", help='local time of the person, e.g. "2027-03-28 10:00" (or ISO 8601 with offset)')
    p.add_argument("--minutes", type=float, help="length in minutes")
    p.add_argument("--kind", choices=[str(k) for k in SessionKind])
    p.add_argument("--technique", help="swedish, deep_tissue, sports, trigger_point, myofascial, medical, hot_stone, thai, other")
    p.add_argument("--pressure", type=int, help="1 (light) to 5 (very firm)")
    p.add_argument("--areas", help="body areas, comma-separated, e.g. back,neck")
    p.add_argument("--therapist")
    p.add_argument("--notes")
    _self_report_options(p)
    p.add_argument("--json", action="store_true")


def _self_report_options(p: argparse.ArgumentParser) -> None:
    for name in SELF_REPORTS:
        p.add_argument(f"--{name.replace('_', '-')}", dest=name, type=int, help="0-10")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    session = sub.add_parser("session", help="massage and rest-control sessions").add_subparsers(
        dest="session_command", metavar="ACTION", required=True
    )
    p = session.add_parser("add", help="log a past session or plan a future one (prints the new id)")
    add_person_option(p, required=True)
    _session_options(p)
    p.set_defaults(handler=cmd_add)
    p = session.add_parser("list", help="list sessions")
    add_person_option(p, absent="default: everyone")
    p.add_argument("--status", choices=[str(s) for s in SessionStatus])
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_list)
    p = session.add_parser("show", help="one session with its captures")
    p.add_argument("id", type=int)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_show)
    p = session.add_parser("edit", help="change a session (moving it moves its captures)")
    p.add_argument("id", type=int)
    _session_options(p)
    p.set_defaults(handler=cmd_edit)
    p = session.add_parser("cancel", help="cancel a session and its planned captures")
    p.add_argument("id", type=int)
    p.set_defaults(handler=cmd_cancel)
    p = session.add_parser("done", help="mark a session done, with self-reports")
    p.add_argument("id", type=int)
    _self_report_options(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_done)
    p = session.add_parser("import-ics", help="plan sessions from matching iCalendar events")
    p.add_argument("file", type=Path)
    add_person_option(p, required=True)
    p.add_argument("--match", default="massage", help="case-insensitive text the event title must contain")
    p.set_defaults(handler=cmd_import_ics)

    p = sub.add_parser("jobs", help="scheduled jobs and their next run")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_jobs)
    p = sub.add_parser("runs", help="recent sync, capture and import runs")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_runs)
