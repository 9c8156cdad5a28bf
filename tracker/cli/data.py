"""Subcommands for the database and the data in it: init, user, person, token, import, export."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import sys
from pathlib import Path

from tracker.bootstrap import Tracker, build_tracker
from tracker.config import Config
from tracker.errors import UserError
from tracker.storage.db import make_engine, upgrade_schema

from .account_cmd import expiry_ms
from .account_cmd import register as register_account_commands
from .output import print_json, print_table
from .person_arg import add_person_option


def open_tracker(cfg: Config) -> Tracker:
    return build_tracker(cfg)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def cmd_init(cfg: Config, args: argparse.Namespace) -> int:
    engine = make_engine(cfg.database_url, busy_timeout_ms=cfg.database.sqlite_busy_timeout_ms)
    try:
        revision = upgrade_schema(engine)
    finally:
        engine.dispose()
    print(f"database ready at schema {revision}: {engine.url.render_as_string(hide_password=True)}")
    return 0


def _read_password(from_stdin: bool) -> str | None:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise UserError("no password on standard input")
        return password
    if not sys.stdin.isatty():
        return None
    first = getpass.getpass("password (empty for none): ")
    if not first:
        return None
    if getpass.getpass("again: ") != first:
        raise UserError("the passwords differ")
    return first


def cmd_user_add(cfg: Config, args: argparse.Namespace) -> int:
    tracker = open_tracker(cfg)
    try:
        user = tracker.users.add(args.name, _read_password(args.password_stdin))
    finally:
        tracker.close()
    print(f"user {user.name} added (id {user.id}{'' if user.has_password else ', no password: cannot sign in yet'})")
    return 0


def cmd_user_password(cfg: Config, args: argparse.Namespace) -> int:
    tracker = open_tracker(cfg)
    try:
        password = _read_password(args.password_stdin)
        if password is None:
            raise UserError("give the password on standard input with --password-stdin")
        tracker.users.set_password(args.name, password)
    finally:
        tracker.close()
    print(f"password of {args.name} changed")
    return 0


def cmd_token_create(cfg: Config, args: argparse.Namespace) -> int:
    tracker = open_tracker(cfg)
    try:
        user = args.user
        if user is None:
            users = tracker.users.count()
            if users != 1:
                raise UserError("name the account with --user (there is not exactly one)")
            from tracker.storage.models import User

            with tracker.sessionmaker() as db:
                user = db.query(User.name).scalar()
        secret = tracker.users.create_token(user, args.name, expiry_ms(tracker.clock.now_ms(), args.expires_days))
    finally:
        tracker.close()
    print(secret)
    return 0


def cmd_person_add(cfg: Config, args: argparse.Namespace) -> int:
    tracker = open_tracker(cfg)
    try:
        person = tracker.people.add(args.name, args.tz or cfg.people.default_timezone, args.user)
    finally:
        tracker.close()
    print(f"person {person.name} added (id {person.id}, {person.tz})")
    return 0


def cmd_person_list(cfg: Config, args: argparse.Namespace) -> int:
    tracker = open_tracker(cfg)
    try:
        people = tracker.people.list()
    finally:
        tracker.close()
    if args.json:
        print_json([p.to_dict() for p in people])
    else:
        print_table(["id", "name", "timezone", "user"], [[p.id, p.name, p.tz, p.user_name] for p in people])
    return 0


def _undo(cfg: Config, args: argparse.Namespace) -> int:
    """Show what run RUN stored, then delete exactly that (after a yes, or with --yes)."""
    if args.paths:
        raise UserError("give either files to import or --undo RUN, not both")
    tracker = open_tracker(cfg)
    try:
        runs = tracker.import_runs
        stored = runs.stored(args.undo)
        print(f"run {stored.run_id} ({stored.origin or 'import'}, {stored.status}) stored rows still there: "
              f"{stored.heart_rate} heart-rate, {stored.rr} RR, {stored.sleep} sleep, {stored.sessions} sessions, "
              f"{stored.device_metrics} device-computed values")  # fmt: skip
        if stored.total == 0:
            print("nothing to delete")
            return 0
        if not args.yes:
            if not sys.stdin.isatty():
                raise UserError("add --yes to delete them")
            if input(f"delete these {stored.total} rows? [y/N] ").strip().lower() not in ("y", "yes"):
                print("nothing deleted")
                return 0
        done = runs.undo(args.undo)
    finally:
        tracker.close()
    print(f"run {done.run_id} undone: deleted {done.heart_rate} heart-rate, {done.rr} RR, {done.sleep} sleep, "
          f"{done.sessions} sessions")  # fmt: skip
    return 0


def cmd_import(cfg: Config, args: argparse.Namespace) -> int:
    if args.undo is not None:
        return _undo(cfg, args)
    if not args.paths or not args.person:
        raise UserError("give the files to import and --person (or --undo RUN)")
    tracker = open_tracker(cfg)
    try:
        person = tracker.people.get(args.person)
        for path in args.paths:
            if not path.exists():
                raise UserError(f"{path}: no such file or directory")
        from tracker.importers import Importers, split_paths  # Gadgetbridge, Apple Health, FIT

        csv_paths, other_paths = split_paths(args.paths)
        result = tracker.interchange.import_paths(person, csv_paths) if csv_paths else None
        outcomes = [o for p in other_paths for o in Importers(tracker).import_path(person.id, p, args.device)]
    finally:
        tracker.close()
    files = list(result.files) if result else []
    for f in [*files, *outcomes]:
        if f.error:
            print(f"tracker: error: {f.error}", file=sys.stderr)
        elif getattr(f, "run_id", 1) is None and getattr(f, "warning", None):  # skipped on purpose, no run
            print(f"tracker: note: {f.path}: {f.warning}", file=sys.stderr)
        else:
            run_id = getattr(f, "run_id", None)
            print(f"{f.path}: {f.rows} rows, {f.inserted} new ({f.kind})" + (f", run {run_id}" if run_id else ""))
            if getattr(f, "warning", None):
                print(f"tracker: warning: {f.path}: {f.warning} (undo with `tracker import --undo {run_id}`)",
                      file=sys.stderr)  # fmt: skip
        if getattr(f, "detail", None):
            print(f"  {f.detail}")
    if not files and not outcomes:
        print("tracker: error: nothing to import was found (CSV files, a Gadgetbridge database, an Apple Health export or FIT files)", file=sys.stderr)
        return 2
    return 0 if all(f.error is None for f in [*files, *outcomes]) else 2


def cmd_export(cfg: Config, args: argparse.Namespace) -> int:
    tracker = open_tracker(cfg)
    try:
        person = tracker.people.get(args.person)
        if args.date_from and args.date_to and args.date_to < args.date_from:
            raise UserError("--to is before --from")
        counts = tracker.interchange.export_dir(person, args.directory, args.date_from, args.date_to)
    finally:
        tracker.close()
    for name, n in counts.items():
        print(f"{args.directory / name}: {n} rows")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("init", help="create the database schema, or upgrade it keeping the data")
    p.set_defaults(handler=cmd_init)

    user = sub.add_parser("user", help="accounts that sign in to the dashboard").add_subparsers(
        dest="user_command", metavar="ACTION", required=True
    )
    p = user.add_parser("add", help="add an account")
    p.add_argument("name")
    p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    p.set_defaults(handler=cmd_user_add)
    p = user.add_parser("password", help="set an account's password")
    p.add_argument("name")
    p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    p.set_defaults(handler=cmd_user_password)

    token = sub.add_parser("token", help="API tokens for scripts").add_subparsers(
        dest="token_command", metavar="ACTION", required=True
    )
    p = token.add_parser("create", help="create a token (printed once)")
    p.add_argument("name", help="a label for the token, e.g. the script's name")
    p.add_argument("--user", help="the account the token acts for (default: the only account)")
    p.add_argument("--expires-days", type=float, metavar="DAYS", help="stop working after DAYS days (default: never)")
    p.set_defaults(handler=cmd_token_create)
    register_account_commands(user, token)

    person = sub.add_parser("person", help="people whose data is tracked").add_subparsers(
        dest="person_command", metavar="ACTION", required=True
    )
    p = person.add_parser("add", help="add a person")
    p.add_argument("name")
    p.add_argument("--tz", help="IANA time zone, e.g. Europe/Berlin (default: [people] default_timezone)")
    p.add_argument("--user", help="the account that manages this person")
    p.set_defaults(handler=cmd_person_add)
    p = person.add_parser("list", help="list people")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_person_list)

    p = sub.add_parser("import", help="import CSV files, a Gadgetbridge database, an Apple Health export or FIT files")
    p.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="files or directories")
    add_person_option(p)
    p.add_argument("--device", help="from a Gadgetbridge database, import only this device (name, alias or MAC)")
    p.add_argument("--undo", type=int, metavar="RUN", help="delete exactly the rows import run RUN stored (see `tracker runs`)")
    p.add_argument("--yes", action="store_true", help="with --undo: do not ask before deleting")
    p.set_defaults(handler=cmd_import)

    p = sub.add_parser("export", help="export a person's data as CSV files (the four importable ones and device_metrics.csv)")
    p.add_argument("directory", type=Path, metavar="DIR")
    add_person_option(p, required=True)
    p.add_argument("--from", dest="date_from", type=_date, help="first local date (YYYY-MM-DD)")
    p.add_argument("--to", dest="date_to", type=_date, help="last local date, inclusive")
    p.set_defaults(handler=cmd_export)
