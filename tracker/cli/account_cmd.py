"""Account subcommands beyond add/password: disable and enable accounts, list and revoke API tokens.

Registered by tracker.cli.data under `tracker user` and `tracker token`.
"""

from __future__ import annotations

import argparse

from tracker.bootstrap import build_tracker
from tracker.config import Config
from tracker.errors import UserError
from tracker.timefmt import format_local

from .output import print_json, print_table

DAY_MS = 86_400_000


def cmd_user_disable(cfg: Config, args: argparse.Namespace) -> int:
    """Disable: no sign-in, every browser session ends now, API tokens stop answering; `enable` undoes it."""
    tracker = build_tracker(cfg)
    try:
        tracker.users.set_disabled(args.name, disabled=args.user_command == "disable")
    finally:
        tracker.close()
    if args.user_command == "disable":
        print(f"user {args.name} disabled: signed out everywhere, its tokens refused (tracker user enable to undo)")
    else:
        print(f"user {args.name} enabled")
    return 0


def _when(t_ms: int | None) -> str | None:
    return None if t_ms is None else format_local(t_ms, "UTC")


def cmd_token_list(cfg: Config, args: argparse.Namespace) -> int:
    tracker = build_tracker(cfg)
    try:
        user_id = tracker.users.by_name(args.user).id if args.user else None
        tokens = tracker.users.tokens(user_id)
        now_ms = tracker.clock.now_ms()
    finally:
        tracker.close()
    rows = [
        {"id": t.id, "user": t.user_name, "name": t.name, "created": _when(t.created_ms),
         "last_used": _when(t.last_used_ms), "expires": _when(t.expires_ms),
         "expired": t.expires_ms is not None and t.expires_ms <= now_ms}
        for t in tokens
    ]  # fmt: skip
    if args.json:
        print_json(rows)
    else:
        headers = ["id", "user", "name", "created", "last_used", "expires"]
        print_table(headers, [[r[h] or ("never" if h == "last_used" else "") for h in headers] for r in rows])
    return 0


def cmd_token_revoke(cfg: Config, args: argparse.Namespace) -> int:
    tracker = build_tracker(cfg)
    try:
        user_id = tracker.users.by_name(args.user).id if args.user else None
        info = tracker.users.revoke_token(args.id, user_id)
    finally:
        tracker.close()
    print(f"token {info.id} ({info.name}) of {info.user_name} revoked")
    return 0


def expiry_ms(now_ms: int, days: float | None) -> int | None:
    if days is None:
        return None
    if not 0 < days <= 3650:
        raise UserError("--expires-days must be more than 0 and at most 3650")
    return now_ms + int(days * DAY_MS)


def register(user: argparse._SubParsersAction, token: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    for action, text in (("disable", "disable an account: signs it out everywhere, refuses its tokens"),
                         ("enable", "enable a disabled account")):  # fmt: skip
        p = user.add_parser(action, help=text)
        p.add_argument("name")
        p.set_defaults(handler=cmd_user_disable)
    p = token.add_parser("list", help="list tokens: name, account, created, last used, expiry (never the secret)")
    p.add_argument("--user", help="only this account's tokens")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_token_list)
    p = token.add_parser("revoke", help="revoke a token by id (from `tracker token list`); it stops working at once")
    p.add_argument("id", type=int)
    p.add_argument("--user", help="refuse unless the token belongs to this account")
    p.set_defaults(handler=cmd_token_revoke)
