"""Imports of data people already have: Gadgetbridge databases, Apple Health exports, Garmin FIT files.

`Importers.import_path` recognises a file (detect.py) and hands it to its importer; CSV stays with
tracker.interchange. Every importer writes samples through tracker.ingest with provenance `import`, records
the devices it finds as devices of the person, and records each file (or each device of a file) as a run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from tracker.errors import UserError
from tracker.importers import detect as kinds
from tracker.importers.common import Outcome

if TYPE_CHECKING:
    from tracker.bootstrap import Tracker


def split_paths(paths: Sequence[Path]) -> tuple[list[Path], list[Path]]:
    """(CSV files and folders of CSV, everything else) — CSV stays with tracker.interchange."""
    csv_paths, others = [], []
    for path in paths:
        if path.is_dir():  # a folder may hold both: its CSV files go one way, the rest the other
            files = [p for p in path.iterdir() if p.is_file()]
            has_other = any(kinds.detect(p) not in (None, kinds.CSV) for p in files)
            if has_other:
                others.append(path)
            if not has_other or any(p.suffix.lower() == ".csv" for p in files):
                csv_paths.append(path)
        elif kinds.detect(path) in (None, kinds.CSV):
            csv_paths.append(path)
        else:
            others.append(path)
    return csv_paths, others


class Importers:
    def __init__(self, tracker: Tracker) -> None:
        self._t = tracker

    def import_path(self, person_id: int, path: Path, device: str | None = None) -> list[Outcome]:
        """Import one file or folder; bad content becomes an outcome's error, never an exception."""
        if path.is_dir():
            out: list[Outcome] = []
            for child in sorted(p for p in path.iterdir() if p.is_file()):
                kind = kinds.detect(child)
                if kind is not None and kind != kinds.CSV:
                    out.extend(self.import_path(person_id, child, device))
            return out
        kind = kinds.detect(path)
        try:
            return self._import_file(person_id, path, kind, device)
        except UserError as exc:
            return [Outcome(str(path), kind or "unknown", error=str(exc))]

    def _import_file(self, person_id: int, path: Path, kind: str | None, device: str | None) -> list[Outcome]:
        t = self._t
        if kind == kinds.GADGETBRIDGE:
            from tracker.importers.gadgetbridge import GadgetbridgeImporter

            return GadgetbridgeImporter(t.sessionmaker, t.ingest, t.clock).import_file(person_id, path, device)
        if kind in (kinds.APPLE_ZIP, kinds.APPLE_XML):
            from tracker.importers.apple_health import AppleHealthImporter

            return [AppleHealthImporter(t.sessionmaker, t.ingest, t.clock).import_file(person_id, path, kind)]
        if kind == kinds.FIT:
            from tracker.importers.fit import FitImporter

            return [FitImporter(t.sessionmaker, t.ingest, t.clock).import_file(person_id, path)]
        raise UserError(f"{path}: not a Gadgetbridge database, Apple Health export, FIT file or CSV file")


def import_saved(tracker: Tracker, person_id: int, display: str, save: Callable[[Path], None]) -> list[Outcome]:
    """Import an uploaded file: `save` writes it (streamed) into a private temporary folder under its own name,
    which is removed afterwards. Results name the uploaded file, not the temporary path."""
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="tracker-upload-"))
    try:
        path = folder / (Path(display).name or "upload")
        save(path)
        outcomes = Importers(tracker).import_path(person_id, path)
        for o in outcomes:
            o.path = o.path.replace(str(path), display)
            o.error = None if o.error is None else o.error.replace(str(path), display)
        _rename_run_origins(tracker, str(path), display)
        return outcomes
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _rename_run_origins(tracker: Tracker, temp_path: str, display: str) -> None:
    """The runs of an upload name the uploaded file (what the person knows), not the temporary path."""
    import sqlalchemy as sa

    from tracker.storage.models import Run

    with tracker.sessionmaker.begin() as db:
        for run in db.scalars(sa.select(Run).where(Run.origin.startswith(temp_path, autoescape=True))):
            run.origin = (display + (run.origin or "")[len(temp_path):])[-255:]
            if run.error:
                run.error = run.error.replace(temp_path, display)
            if run.detail:
                run.detail = run.detail.replace(temp_path, display)
