"""`tracker nights rebuild [--person P]`: recompute the stored nightly summaries from the samples."""

from __future__ import annotations

import argparse

from tracker.bootstrap import build_tracker
from tracker.config import Config

from .person_arg import add_person_option


def cmd_rebuild(cfg: Config, args: argparse.Namespace) -> int:
    tracker = build_tracker(cfg)
    try:
        people = [tracker.people.get(args.person)] if args.person else tracker.people.list()
        for person in people:
            print(f"{person.name}: {tracker.nights.rebuild(person.id)} nights")
    finally:
        tracker.close()
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    nights = sub.add_parser("nights", help="stored nightly summaries (rebuild them from the samples)").add_subparsers(
        dest="nights_command", metavar="ACTION", required=True
    )
    p = nights.add_parser("rebuild", help="recompute every night's summary from the stored samples")
    add_person_option(p, absent="default: everyone")
    p.set_defaults(handler=cmd_rebuild)
