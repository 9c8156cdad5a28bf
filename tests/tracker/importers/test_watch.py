"""[import] watch: `tracker run` re-imports a synced Gadgetbridge export or a FIT folder when it changes."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import sqlalchemy as sa

from tests.tracker.importers import gb_fixture
from tests.tracker.importers.test_fit import build as build_fit
from tracker import jobs
from tracker.bootstrap import Tracker
from tracker.cli.service import Service
from tracker.config import Config, ImportConfig
from tracker.storage.models import HeartRateRow, Run


def _runs(tracker: Tracker) -> int:
    with tracker.sessionmaker() as db:
        return db.scalar(sa.select(sa.func.count()).select_from(Run).where(Run.kind == "import")) or 0


def test_changed_files_are_reimported_once(tracker: Tracker, tmp_path: Path) -> None:
    synced = tmp_path / "sync"
    fit_dir = synced / "fit"
    fit_dir.mkdir(parents=True)
    build_fit(fit_dir)
    gb = synced / "Gadgetbridge"
    gb_fixture.build(gb)
    tracker.config = tracker.config.replace(imports=ImportConfig(watch=("sync/Gadgetbridge", "sync/fit", "sync/none")))
    tracker.people.add("Ana", "UTC")
    jobs.bind(tracker)
    try:
        assert jobs.watch_imports() == 4  # the Gadgetbridge file and three FIT files (notes.txt is not one)
        runs = _runs(tracker)
        assert runs == 9 + 3
        with tracker.sessionmaker() as db:
            stored = db.scalar(sa.select(sa.func.count()).select_from(HeartRateRow))
        assert jobs.watch_imports() == 0 and _runs(tracker) == runs  # nothing changed: nothing done

        # the phone's next auto-export overwrites the file; a new FIT file arrives
        shutil.copy(gb, tmp_path / "copy")
        os.replace(tmp_path / "copy", gb)
        os.utime(gb, ns=(gb.stat().st_atime_ns, gb.stat().st_mtime_ns + 10**9))
        (fit_dir / "sleep2.fit").write_bytes((fit_dir / "sleep.fit").read_bytes())
        assert jobs.watch_imports() == 2
        assert _runs(tracker) == runs + 9 + 1  # recorded as runs ...
        with tracker.sessionmaker() as db:
            assert db.scalar(sa.select(sa.func.count()).select_from(HeartRateRow)) == stored  # ... storing nothing twice
    finally:
        jobs.bind(None)


def test_service_plans_the_watch_job(config: Config, tracker: Tracker, tmp_path: Path) -> None:
    cfg = config.replace(imports=ImportConfig(watch=(str(tmp_path),), interval_min=5))
    service = Service(cfg, transport="emulator")
    service.start()
    try:
        [job] = [j for j in service.jobs.jobs() if j.id == "import-watch"]
        assert job.what == "watch_imports"
    finally:
        service.stop()


def test_cli_imports_a_folder_with_csv_and_fit_files(tracker: Tracker, tmp_path: Path, config_file: Path,
                                                     capsys) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    from tracker.cli import main

    folder = tmp_path / "mixed"
    folder.mkdir()
    build_fit(folder)
    (folder / "heart_rate.csv").write_text("timestamp,bpm\n2026-01-01T00:00:00Z,61\n", encoding="utf-8")
    tracker.people.add("Ana", "UTC")
    code = main(["--config", str(config_file), "import", str(folder), "--person", "Ana"])
    out = capsys.readouterr().out
    assert code == 0
    assert "heart_rate.csv: 1 rows, 1 new (heart_rate.csv)" in out
    assert "activity.fit:" in out and "monitoring.fit:" in out and "(fit)" in out
