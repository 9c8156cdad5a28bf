"""[import] watch: `tracker run` re-imports a synced Gadgetbridge export or a FIT folder when it changes."""

from __future__ import annotations

import json
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


# -- paths added on the Data page (table import_watch) ----------------------------------------------


def _heart_rate_rows(tracker: Tracker, person_id: int) -> int:
    with tracker.sessionmaker() as db:
        return db.scalar(sa.select(sa.func.count()).select_from(HeartRateRow).where(HeartRateRow.person_id == person_id)) or 0


def _touch(path: Path) -> None:
    """What the phone's next auto-export does: the file is rewritten (same data here), its mtime moves on."""
    shutil.copy(path, path.with_suffix(".tmp"))
    os.replace(path.with_suffix(".tmp"), path)
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))


def test_a_path_added_in_the_database_is_picked_up_without_a_restart(tracker: Tracker, tmp_path: Path,
                                                                     clock) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    sync = tmp_path / "phone-sync"
    sync.mkdir()
    gb = sync / "Gadgetbridge.db"
    gb_fixture.build(gb)
    tracker.config = tracker.config.replace(imports=ImportConfig(watch_roots=(str(sync),)))
    ana = tracker.people.add("Ana", "UTC")
    bo = tracker.people.add("Bo", "UTC")
    jobs.bind(tracker)
    try:
        assert jobs.watch_imports() == 0  # nothing watched yet: the file is not read
        assert _runs(tracker) == 0
        watch = tracker.import_watches.add(ana.id, str(gb))  # as the Data page does, while the service runs
        assert jobs.watch_imports() == 1
        runs = _runs(tracker)
        assert runs == 9  # recorded as runs, as an upload of the same file would be
        stored = _heart_rate_rows(tracker, ana.id)
        assert stored > 0 and _heart_rate_rows(tracker, bo.id) == 0  # the watch's person, nobody else
        [seen] = tracker.import_watches.list()
        assert seen.last_import_ms == clock.now_ms() and seen.last_error is None
        assert seen.last_result is not None and seen.last_result.startswith("1 file imported:")
        new, rows = (int(w) for w in seen.last_result.split(": ")[1].split()[::3][:2])
        assert new == rows >= stored  # every row new on the first import (heart rate, sleep, the rest)

        clock.advance(minutes=15)
        assert jobs.watch_imports() == 0 and _runs(tracker) == runs  # unchanged: not read again
        [seen] = tracker.import_watches.list()
        assert seen.last_check_ms == clock.now_ms() and seen.last_import_ms == clock.now_ms() - 15 * 60_000

        _touch(gb)  # the next auto-export
        assert jobs.watch_imports() == 1
        assert _runs(tracker) == runs + 9 and _heart_rate_rows(tracker, ana.id) == stored  # runs, nothing twice
        [seen] = tracker.import_watches.list()
        assert seen.last_result is not None and seen.last_result.endswith(f"0 new of {seen.last_result.split()[-2]} rows")

        tracker.import_watches.remove(watch.id)
        _touch(gb)
        assert jobs.watch_imports() == 0 and _runs(tracker) == runs + 9  # removed: no longer read
        state = json.loads((tracker.config.data_dir / "import-watch.json").read_text(encoding="utf-8"))
        assert not any(k.startswith("watch ") for k in state)  # its entries dropped with it
    finally:
        jobs.bind(None)


def test_a_fit_folder_watch_reads_only_files_under_the_roots(tracker: Tracker, tmp_path: Path) -> None:
    sync = tmp_path / "sync"
    fit_dir = sync / "fit"
    fit_dir.mkdir(parents=True)
    build_fit(fit_dir)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "other.fit").write_bytes((fit_dir / "sleep.fit").read_bytes())
    os.symlink(outside / "other.fit", fit_dir / "planted.fit")  # a link a sync tool could deliver
    tracker.config = tracker.config.replace(imports=ImportConfig(watch_roots=(str(sync),)))
    ana = tracker.people.add("Ana", "UTC")
    tracker.import_watches.add(ana.id, str(fit_dir))
    jobs.bind(tracker)
    try:
        assert jobs.watch_imports() == 3  # activity, monitoring, sleep; not the planted link
        with tracker.sessionmaker() as db:
            origins = set(db.scalars(sa.select(Run.origin).where(Run.kind == "import")))
        assert not any("other.fit" in (o or "") or "planted" in (o or "") for o in origins), origins
        [seen] = tracker.import_watches.list()
        assert seen.last_result is not None and seen.last_result.startswith("3 files imported")
        assert seen.last_error == "planted.fit: links outside [import] watch_roots, not read"

        # the administrator narrows the roots: the stored path is no longer read at all
        tracker.config = tracker.config.replace(imports=ImportConfig(watch_roots=(str(sync / "gadgetbridge"),)))
        (fit_dir / "sleep2.fit").write_bytes((fit_dir / "sleep.fit").read_bytes())
        assert jobs.watch_imports() == 0
        [seen] = tracker.import_watches.list()
        assert seen.last_error is not None and "outside [import] watch_roots (as configured now)" in seen.last_error
        assert seen.last_result is not None and seen.last_result.startswith("3 files imported")  # the last import's
    finally:
        jobs.bind(None)


def test_a_missing_or_bad_watched_file_is_reported_not_raised(tracker: Tracker, tmp_path: Path) -> None:
    sync = tmp_path / "sync"
    fit_dir = sync / "fit"
    tracker.config = tracker.config.replace(imports=ImportConfig(watch_roots=(str(sync),)))
    ana = tracker.people.add("Ana", "UTC")
    tracker.import_watches.add(ana.id, str(fit_dir))
    tracker.import_watches.add(ana.id, str(sync / "Gadgetbridge.db"))
    jobs.bind(tracker)
    try:
        assert jobs.watch_imports() == 0
        folder, single = tracker.import_watches.list()
        assert folder.last_error == f"{fit_dir} does not exist (yet)" and folder.last_import_ms is None
        assert single.last_error == f"{sync / 'Gadgetbridge.db'} does not exist (yet)"

        fit_dir.mkdir(parents=True)
        build_fit(fit_dir)
        (fit_dir / "broken.fit").write_bytes((fit_dir / "sleep.fit").read_bytes()[:40])  # cut short by a sync
        (sync / "Gadgetbridge.db").write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)  # not a database yet
        assert jobs.watch_imports() == 4  # three good FIT files, and the broken one tried
        folder, single = tracker.import_watches.list()
        assert folder.last_result is not None and folder.last_result.startswith("3 files imported")
        assert folder.last_error is not None and "broken.fit" in folder.last_error
        assert single.last_error is not None and "not a Gadgetbridge database" in single.last_error
        assert jobs.watch_imports() == 1  # the failed file is tried again on the next run, the others not
    finally:
        jobs.bind(None)


def test_service_plans_the_watch_job_for_data_page_paths(config: Config, tracker: Tracker, tmp_path: Path) -> None:
    cfg = config.replace(imports=ImportConfig(watch_roots=(str(tmp_path),)))  # no [import] watch at all
    service = Service(cfg, transport="emulator")
    service.start()
    try:
        [job] = [j for j in service.jobs.jobs() if j.id == "import-watch"]
        assert job.what == "watch_imports"
    finally:
        service.stop()
