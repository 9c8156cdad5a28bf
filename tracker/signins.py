"""Signed-in browsers (server-side sessions) and the sign-in limiter, both kept in the database.

Web sessions: the browser's cookie carries a random session id; the database keeps only its SHA-256, the
account and when it was last seen. Deleting the row ends the session at once, wherever the cookie is:
sign-out deletes one, a password change and `tracker user disable` delete all of the account's.

The limiter counts failed sign-ins in the database, so several web processes and restarts share them:
- per account name, from any address: after `limit` failures in a day, each further attempt waits a delay
  that doubles with every failure (15 s, 30 s, ... up to 15 min) after the last failure. Guessing slows
  to a crawl, yet the owner is never locked out for good (at most one delay after the last failure);
- per client address, across account names: `4 × limit` failures in 15 minutes, then that address waits
  until the oldest leaves the window (a spray of names from one place stops there).
A success clears the account name's failures.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so

from tracker.clock import Clock
from tracker.people import UserInfo
from tracker.storage.models import SigninFailure, User, WebSession

SESSION_IDLE_MS = 14 * 24 * 3600 * 1000  # a browser unused for two weeks signs in again
SEEN_EVERY_MS = 60_000  # refresh `seen_ms` at most once a minute (a write per page view is wasted work)
ACCOUNT_WINDOW_MS = 24 * 3600 * 1000
ADDRESS_WINDOW_MS = 15 * 60 * 1000
FIRST_DELAY_S = 15
MAX_DELAY_S = 15 * 60
ADDRESSES_FACTOR = 4


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


class WebSessions:
    """Server-side sessions of the dashboard (see module docstring)."""

    def __init__(self, sessionmaker: so.sessionmaker[so.Session], clock: Clock) -> None:
        self._db = sessionmaker
        self._clock = clock

    def start(self, user_id: int) -> str:
        """A new session for the account; returns the id to put in the cookie (not stored as such)."""
        secret = secrets.token_urlsafe(32)
        now_ms = self._clock.now_ms()
        with self._db.begin() as db:
            db.add(WebSession(id_sha256=_digest(secret), user_id=user_id, created_ms=now_ms, seen_ms=now_ms))
        return secret

    def resolve(self, secret: str) -> UserInfo | None:
        """The account of a live session, else None (ended, idle too long, or the account disabled)."""
        if not isinstance(secret, str) or not secret or len(secret) > 128:
            return None
        now_ms = self._clock.now_ms()
        with self._db() as db:
            row = db.execute(
                sa.select(WebSession, User).join(User, WebSession.user_id == User.id)
                .where(WebSession.id_sha256 == _digest(secret))
            ).first()  # fmt: skip
            if row is None:
                return None
            ws, user = row
            if user.disabled_ms is not None or ws.seen_ms < now_ms - SESSION_IDLE_MS:
                return None
            info = UserInfo(user.id, user.name, user.password_hash is not None)
            stale = ws.seen_ms < now_ms - SEEN_EVERY_MS
        if stale:
            with self._db.begin() as db:
                db.execute(sa.update(WebSession).where(WebSession.id_sha256 == _digest(secret)).values(seen_ms=now_ms))
        return info

    def end(self, secret: str) -> None:
        if isinstance(secret, str) and secret:
            with self._db.begin() as db:
                db.execute(sa.delete(WebSession).where(WebSession.id_sha256 == _digest(secret)))

    def end_all(self, user_id: int) -> int:
        """End every session of the account (password changed, account disabled); returns how many."""
        with self._db.begin() as db:
            return db.execute(sa.delete(WebSession).where(WebSession.user_id == user_id)).rowcount or 0

    def count(self, user_id: int) -> int:
        with self._db() as db:
            stmt = sa.select(sa.func.count()).select_from(WebSession).where(WebSession.user_id == user_id)
            return db.scalar(stmt) or 0


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why an attempt is refused before its password is checked, and for how long."""

    wait_s: int
    per_address: bool


def name_key(name: str) -> str:
    return name.strip().casefold()[:80]


def address_key(address: str | None) -> str:
    return (address or "?")[:64]


class SigninLimiter:
    """Failed sign-ins counted in the database (see module docstring); `limit` is per account."""

    def __init__(self, sessionmaker: so.sessionmaker[so.Session], clock: Clock, limit: int) -> None:
        self._db = sessionmaker
        self._clock = clock
        self.limit = limit

    def delay_s(self, failures: int) -> int:
        """The wait after the last failure once an account has `failures` of them in a day."""
        if failures < self.limit:
            return 0
        return int(min(MAX_DELAY_S, FIRST_DELAY_S * 2 ** min(failures - self.limit, 16)))

    def check(self, name: str, address: str | None) -> Refusal | None:
        """None when an attempt may go ahead now, else how long to wait."""
        now_ms = self._clock.now_ms()
        with self._db() as db:
            by_address = db.execute(
                sa.select(sa.func.count(), sa.func.min(SigninFailure.t_ms)).where(
                    SigninFailure.address == address_key(address), SigninFailure.t_ms > now_ms - ADDRESS_WINDOW_MS
                )
            ).one()
            by_name = db.execute(
                sa.select(sa.func.count(), sa.func.max(SigninFailure.t_ms)).where(
                    SigninFailure.name_key == name_key(name), SigninFailure.t_ms > now_ms - ACCOUNT_WINDOW_MS
                )
            ).one()
        if by_address[0] >= ADDRESSES_FACTOR * self.limit:
            return Refusal(max(1, -(-(by_address[1] + ADDRESS_WINDOW_MS - now_ms) // 1000)), per_address=True)
        delay_ms = self.delay_s(by_name[0]) * 1000
        if delay_ms and by_name[1] + delay_ms > now_ms:
            return Refusal(max(1, -(-(by_name[1] + delay_ms - now_ms) // 1000)), per_address=False)
        return None

    def failed(self, name: str, address: str | None) -> None:
        now_ms = self._clock.now_ms()
        with self._db.begin() as db:
            db.add(SigninFailure(name_key=name_key(name), address=address_key(address), t_ms=now_ms))
            # old rows count for nothing: drop them here, so the table stays as small as a day of failures
            db.execute(sa.delete(SigninFailure).where(SigninFailure.t_ms <= now_ms - ACCOUNT_WINDOW_MS))

    def succeeded(self, name: str) -> None:
        with self._db.begin() as db:
            db.execute(sa.delete(SigninFailure).where(SigninFailure.name_key == name_key(name)))
