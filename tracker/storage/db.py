"""Engine and sessionmaker for SQLite or PostgreSQL, and schema creation/upgrade through Alembic.

One code path for both backends; SQLite gets WAL (readers never block the collector's writes), foreign
keys (off by default in SQLite) and a busy timeout (a second writer waits instead of failing at once).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# The newest migration; a test checks it equals Alembic's head. Kept as a constant so every command can
# check the schema with one query instead of loading Alembic's script directory (about a second).
SCHEMA_REVISION = "0009"


class DatabaseError(RuntimeError):
    """The database cannot be opened or its schema is not at the version this program needs."""


def make_engine(url: str, *, busy_timeout_ms: int = 5000, echo: bool = False) -> sa.Engine:
    """Create the engine; for SQLite create the file's folder and set the pragmas on every connection."""
    parsed = sa.make_url(url)
    kwargs: dict[str, Any] = {"echo": echo}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _create_private(Path(parsed.database))
        # check_same_thread off: waitress threads, the scheduler and the collector share a pool
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": busy_timeout_ms / 1000}
    else:
        kwargs["pool_pre_ping"] = True
    engine = sa.create_engine(url, **kwargs)
    if parsed.get_backend_name() == "sqlite":

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL; a power cut loses at most the last commit
            cursor.close()

    return engine


def _create_private(db_path: Path) -> None:
    """Create a new database's folder (0700) and file (0600): health data is for its owner's eyes only.

    SQLite gives its -wal and -shm files the main file's permissions, so they follow. Existing folders
    and files are left as they are (the owner may have chosen otherwise).
    """
    if not db_path.parent.exists():
        db_path.parent.mkdir(parents=True, mode=0o700)
    if not db_path.exists():
        os.close(os.open(db_path, os.O_CREAT | os.O_WRONLY, 0o600))  # an empty file is a new database


def make_sessionmaker(engine: sa.Engine) -> so.sessionmaker[so.Session]:
    # expire_on_commit off: services return plain data built inside the scope anyway, and this avoids
    # surprise lazy loads after commit.
    return so.sessionmaker(engine, expire_on_commit=False)


def _alembic_config(engine: sa.Engine) -> Any:
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade_schema(engine: sa.Engine) -> str:
    """Create the schema or upgrade it to the newest revision, keeping the data; return the revision."""
    from alembic import command

    command.upgrade(_alembic_config(engine), "head")
    return current_revision(engine) or ""


def current_revision(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_alembic_config(sa.create_engine("sqlite://")))
    head = script.get_current_head()
    assert head is not None
    return head


def check_schema(engine: sa.Engine) -> None:
    """Raise DatabaseError unless the schema is at the newest revision (run `tracker init`)."""
    try:
        rev = current_revision(engine)
    except sa.exc.OperationalError as exc:
        raise DatabaseError(f"cannot open the database: {exc.orig}") from None
    if rev is None:
        raise DatabaseError("the database has no schema yet: run `tracker init`")
    if rev != SCHEMA_REVISION:
        raise DatabaseError(f"the database schema is at {rev}, this program needs {SCHEMA_REVISION}: run `tracker init`")
