"""`tracker trial plan|show`: a fair test (an n-of-1 trial) of massage against rest."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from tracker.analysis.trial import MIN_WEEKS_FOR_ALPHA
from tracker.bootstrap import build_tracker
from tracker.config import Config
from tracker.errors import UserError

from .output import print_json, print_table
from .person_arg import add_person_option
from .session_cmd import planning_tracker


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UserError(f"--start {text!r} is not a date like 2027-03-01") from None


def cmd_plan(cfg: Config, args: argparse.Namespace) -> int:
    with planning_tracker(cfg) as (tracker, _jobs):
        view = tracker.trials.plan_trial(
            args.person, args.weeks, args.slots, minutes=args.minutes,
            first_day=_date(args.start) if args.start else None,
        )  # fmt: skip
    if args.json:
        print_json(view)
        return 0
    print(f"trial {view['id']} planned: {view['weeks']} weeks, slots {view['slots']}, seed {view['seed']}")
    _print_schedule(view)
    if view["weeks"] < MIN_WEEKS_FOR_ALPHA:
        print(f"note: fewer than {MIN_WEEKS_FOR_ALPHA} weeks can never give a result at 5 % "
              f"(smallest possible p = 2/2^{view['weeks']})")  # fmt: skip
    return 0


def _print_schedule(view: dict[str, Any]) -> None:
    rows = []
    for week in view["schedule"]:
        for s in week["sessions"]:
            rows.append([week["week"], s["slot"], s["allocated"], s["session_id"], s["start"] or s["planned_start"],
                         s["status"] or "-"])  # fmt: skip
    print_table(["week", "slot", "allocated", "session", "start", "status"], rows)


def cmd_show(cfg: Config, args: argparse.Namespace) -> int:
    tracker = build_tracker(cfg)
    try:
        view = tracker.trials.show(args.person)
    finally:
        tracker.close()
    if args.json:
        print_json(view)
        return 0
    if view is None:
        print(f"{args.person} has no trial: plan one with `tracker trial plan`")
        return 0
    pe = view["primary_outcome"]
    print(f"trial {view['id']} ({view['status']}): {view['weeks']} weeks, slots {view['slots']}, "
          f"{view['session_minutes']} min; seed {view['seed']} (allocation matches seed: "
          f"{'yes' if view['allocation_matches_seed'] else 'NO'}); planned {view['created']}")  # fmt: skip
    print(f"primary outcome: {pe['metric']} on night {pe['lag']} after each session")
    _print_schedule(view)
    print("\ndeviations:" if view["deviations"] else "\ndeviations: none")
    for d in view["deviations"]:
        print(f"  week {d['week']} {d['slot']}: {d['kind']} ({d['recorded'] or 'now'}): {d['reason']}")
    analysis = view["analysis"]
    print(f"\nresult ({analysis['weeks_with_both_sessions_done']} of {view['weeks']} weeks with both sessions done):")
    for o in analysis["outcomes"]:
        print(f"  {'*' if o['primary'] else ' '} {o['statement']}")
    return 0


def cmd_stop(cfg: Config, args: argparse.Namespace) -> int:
    with planning_tracker(cfg) as (tracker, _jobs):
        view = tracker.trials.stop(args.person, args.reason)
    print(f"trial {view['id']} stopped: {view['deviations'][-1]['reason']}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    trial = sub.add_parser("trial", help="a fair test: randomise massage vs rest across weekly slots").add_subparsers(
        dest="trial_command", metavar="ACTION", required=True
    )
    p = trial.add_parser("plan", help="randomise which weekly slot is the massage, and plan every session")
    add_person_option(p, required=True)
    p.add_argument("--weeks", type=int, required=True, help=f"weeks (≥ {MIN_WEEKS_FOR_ALPHA} for a result at 5 %%)")
    p.add_argument("--slots", required=True, help='two weekly slots in the person\'s time zone, e.g. "Tue 18:00,Fri 18:00"')
    p.add_argument("--minutes", type=int, default=60, help="length of every session (default 60)")
    p.add_argument("--start", help="local date week 1 starts (default: tomorrow)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_plan)
    p = trial.add_parser("show", help="the allocation, seed, deviations and the result so far")
    add_person_option(p, required=True)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_show)
    p = trial.add_parser("stop", help="end the trial early: cancel its planned sessions and record why")
    add_person_option(p, required=True)
    p.add_argument("--reason", required=True)
    p.set_defaults(handler=cmd_stop)
