"""A process killed mid-run (kill -9) leaves no run `running` forever: the next start closes it as
`interrupted`, with the counts of what it really stored and what to do next. Also: new databases are
private to their owner."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tracker.bootstrap import build_tracker
from tracker.cli import main
from tracker.config import Config
from tracker.model import RunKind, RunStatus
from tracker.storage.db import make_engine, upgrade_schema

# A real second process: opens an import run, stores rows under it, then dies without closing the run.
_CRASHER = textwrap.dedent(
    """
    import os, signal, sys
    from tracker.bootstrap import build_tracker
    from tracker.config import Config, DatabaseConfig
    from tracker.ingest import Provenance
    from tracker.model import RunKind, Source
    t = build_tracker(Config(database=DatabaseConfig(url=sys.argv[1])))
    person_id = int(sys.argv[2])
    run_id = t.devices.start_run(RunKind.IMPORT, None, person_id, origin="big.csv")
    prov = Provenance(person_id=person_id, source=Source.IMPORT, run_id=run_id)
    t.ingest.heart_rate([(1_800_000_000_000 + i * 60_000, 60 + i % 20) for i in range(1234)], prov)
    t.ingest.rr([(1_800_000_000_000 + i * 1000, 1000.0) for i in range(77)], prov)
    print(run_id, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def _crash_mid_import(database_url: str, person_id: int) -> int:
    proc = subprocess.run([sys.executable, "-c", _CRASHER, database_url, str(person_id)],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    return int(proc.stdout.strip())


def test_run_of_a_killed_process_is_closed_as_interrupted_with_its_counts(config: Config, config_file: Path,
                                                                           capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    engine = make_engine(config.database_url)
    upgrade_schema(engine)
    engine.dispose()
    t = build_tracker(config)
    person = t.people.add("Ana", "Europe/Berlin")
    t.close()

    run_id = _crash_mid_import(config.database_url, person.id)

    # the dead process's run is still `running` in the database until someone starts
    assert main(["--config", str(config_file), "runs", "--json"]) == 0  # this start closes it
    runs = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    run = runs[run_id]
    assert run["status"] == str(RunStatus.INTERRUPTED)
    assert run["heart_rate"] == 1234 and run["rr"] == 77  # what it really stored, counted from the rows
    assert "run the same import again" in run["error"]


def test_a_live_process_run_is_left_alone(tracker) -> None:
    run_id = tracker.devices.start_run(RunKind.SYNC, None, None, origin="cli")
    from tracker.run_recovery import close_dead_runs

    assert close_dead_runs(tracker.sessionmaker, tracker.clock) == []  # its owner (this process) lives
    assert [r.status for r in tracker.devices.runs() if r.id == run_id] == [str(RunStatus.RUNNING)]


def test_runs_of_other_hosts_are_left_alone(tracker) -> None:
    import sqlalchemy as sa

    from tracker.run_recovery import close_dead_runs
    from tracker.storage.models import Run

    run_id = tracker.devices.start_run(RunKind.SYNC, None, None, origin="cli")
    with tracker.sessionmaker.begin() as db:
        db.execute(sa.update(Run).where(Run.id == run_id).values(owner="another-host:1"))
    assert close_dead_runs(tracker.sessionmaker, tracker.clock) == []


def test_new_sqlite_database_and_folder_are_private(tmp_path: Path) -> None:
    db_path = tmp_path / "fresh" / "tracker.db"
    engine = make_engine(f"sqlite:///{db_path}")
    upgrade_schema(engine)
    engine.dispose()
    assert stat.S_IMODE(db_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(db_path.parent.stat().st_mode) == 0o700
    for side in ("-wal", "-shm"):
        side_file = db_path.with_name(db_path.name + side)
        if side_file.exists():  # SQLite gives them the main file's mode
            assert stat.S_IMODE(side_file.stat().st_mode) & 0o077 == 0
