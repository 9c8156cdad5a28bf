"""Recognise failures of the storage itself (a full disk, a database that went away) among exceptions.

They are not bugs and not a user's mistake in the usual sense, but the person must be told plainly what
happened and that nothing half-done was kept: every write path commits per transaction, so a failed
statement rolls back its own transaction. The CLI turns these into one-line messages, the web into 503.
"""

from __future__ import annotations

import errno

import sqlalchemy as sa

DISK_FULL = (
    "disk full: the disk that holds the database has no space left; nothing from the failed step was stored. "
    "Free some space and run it again"
)
UNREACHABLE = "the database cannot be reached right now; try again in a moment"

# PostgreSQL SQLSTATEs: 53100 disk_full, 53200 out_of_memory is not ours; class 08 is connection trouble.
_PG_DISK_FULL = "53100"


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = getattr(current, "orig", None) or current.__cause__ or current.__context__
    return seen


def is_disk_full(exc: BaseException) -> bool:
    for err in _chain(exc):
        if isinstance(err, OSError) and err.errno == errno.ENOSPC:
            return True
        if getattr(err, "sqlstate", None) == _PG_DISK_FULL:
            return True
        # sqlite3 raises OperationalError("database or disk is full") for SQLITE_FULL
        if type(err).__module__ == "sqlite3" and "disk is full" in str(err):
            return True
    return False


def is_unreachable(exc: BaseException) -> bool:
    """The server closed or refused the connection (PostgreSQL restarted, network cut)."""
    for err in _chain(exc):
        if isinstance(err, sa.exc.DBAPIError) and err.connection_invalidated:
            return True
        sqlstate = getattr(err, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate.startswith("08"):
            return True
        if type(err).__module__.startswith("psycopg") and type(err).__name__ == "OperationalError":
            return True
    return False


def describe(exc: BaseException) -> str | None:
    """A message for a storage failure, or None when `exc` is something else."""
    if is_disk_full(exc):
        return DISK_FULL
    if is_unreachable(exc):
        return UNREACHABLE
    return None
