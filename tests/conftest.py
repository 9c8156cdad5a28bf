"""Shared fixtures: a real database per test (SQLite file; PostgreSQL too when configured), a manual clock.

Every test that asks for `database_url` runs on SQLite, and again on PostgreSQL when
TRACKER_TEST_DATABASE_URL is set (.ci/run sets it when a server answers on 127.0.0.1:5432). Each
PostgreSQL test gets its own schema, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from tracker.bootstrap import Tracker, build_tracker
from tracker.clock import ManualClock
from tracker.config import Config, DatabaseConfig, PathsConfig
from tracker.storage.db import make_engine, upgrade_schema

REPO = Path(__file__).resolve().parents[1]
VECTORS = REPO / "tests" / "data" / "vectors"
PG_URL = os.environ.get("TRACKER_TEST_DATABASE_URL", "")
BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]
T0_MS = 1_803_902_400_000  # 2027-03-01T12:00:00Z, a fixed "now" for tests


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tracker.db'}"
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> Config:
    return Config(database=DatabaseConfig(url=database_url), paths=PathsConfig(str(tmp_path / "data")), base_dir=tmp_path)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0_MS)


@pytest.fixture
def tracker(config: Config, clock: ManualClock) -> Iterator[Tracker]:
    engine = make_engine(config.database_url)
    upgrade_schema(engine)
    engine.dispose()
    t = build_tracker(config, clock)
    yield t
    t.close()


@pytest.fixture
def config_file(tmp_path: Path, database_url: str) -> Path:
    """A config.toml for CLI tests pointing at the test database."""
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "{database_url}"\n[paths]\ndata_dir = "data"\n', encoding="utf-8")
    return path
