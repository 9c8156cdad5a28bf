"""Schema creation/upgrade through Alembic, SQLite pragmas, natural keys."""

import sqlalchemy as sa

from tracker.bootstrap import Tracker
from tracker.storage.db import SCHEMA_REVISION, check_schema, head_revision, make_engine, upgrade_schema
from tracker.storage.models import Base


def test_revision_constant_is_alembic_head() -> None:
    assert SCHEMA_REVISION == head_revision()


def test_migrations_build_exactly_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    assert upgrade_schema(engine) == SCHEMA_REVISION
    assert upgrade_schema(engine) == SCHEMA_REVISION  # idempotent: a second init keeps everything
    check_schema(engine)
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []


def test_sqlite_pragmas(tracker: Tracker) -> None:
    if tracker.engine.dialect.name != "sqlite":
        return
    with tracker.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000


def test_upgrade_keeps_data(tracker: Tracker, database_url: str) -> None:
    tracker.people.add("Ana", "Europe/Berlin")
    engine = make_engine(database_url)
    upgrade_schema(engine)
    engine.dispose()
    assert [p.name for p in tracker.people.list()] == ["Ana"]


def test_unknown_schema_is_reported(tmp_path) -> None:
    import pytest

    from tracker.storage.db import DatabaseError

    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(DatabaseError, match="tracker init"):
        check_schema(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE alembic_version (version_num VARCHAR(32))"))
        conn.execute(sa.text("INSERT INTO alembic_version VALUES ('9999')"))
    with pytest.raises(DatabaseError, match="9999"):
        check_schema(engine)
