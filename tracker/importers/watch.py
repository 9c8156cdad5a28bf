"""Watched imports: re-import a Gadgetbridge auto-export or a folder of FIT files when it changes.

`tracker run` calls `scan` on a schedule ([import] interval_min). Two lists are watched, both read on every
scan: `[import] watch` from config.toml (for `[import] person`), and the paths people added on the Data page
(table import_watch, tracker.import_watches), so a path added there is picked up without a restart.

A file is imported when its size or modification time differs from the last successful import of it; what
was seen is kept in `<data_dir>/import-watch.json` (config paths under their own path, as before; Data-page
paths under "watch <id>:<path>", so two people watching one file each get it, and a removed watch's entries
are dropped). A file whose import failed (say, half-written by a sync tool) is tried again next time.
Imports are idempotent and each is recorded as a run, so a spurious re-import stores nothing.

Data-page paths are read only while they lie under `[import] watch_roots`: each file is resolved (symlinks,
"..") and checked before anything opens it, so a link to elsewhere placed in a synced folder is skipped.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tracker.errors import UserError
from tracker.import_watches import WatchInfo, is_under
from tracker.importers import Importers
from tracker.importers import detect as kinds

if TYPE_CHECKING:
    from tracker.bootstrap import Tracker

logger = logging.getLogger(__name__)
STATE_FILE = "import-watch.json"
_WATCH_KEY = re.compile(r"watch (\d+):")


@dataclass
class _Found:
    """What one watched path gave in one scan."""

    files: int = 0  # files read because they changed since their last successful import
    ok_files: int = 0  # ... and imported without an error
    rows: int = 0
    inserted: int = 0
    errors: list[str] = field(default_factory=list)


def _candidates(path: Path, roots: tuple[Path, ...] | None, found: _Found) -> list[Path]:
    """The importable files of `path` (a file or a folder); with `roots`, resolved and only those under them.

    The check comes before `detect`, which opens the file: a link out of the roots is never opened."""
    files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path] if path.is_file() else []
    if roots is not None:
        inside = []
        for p in files:
            real = p.resolve()
            if is_under(real, roots):
                inside.append(real)
            else:
                found.errors.append(f"{p.name}: links outside [import] watch_roots, not read")
        files = inside
    return [p for p in files if kinds.detect(p) not in (None, kinds.CSV)]


def _person_id(tracker: Tracker) -> int:
    name = tracker.config.imports.person
    if name:
        return tracker.people.get(name).id
    people = tracker.people.list()
    if len(people) != 1:
        raise UserError("[import] person: name the person the watched files belong to (there is not exactly one)")
    return people[0].id


def _import_changed(tracker: Tracker, person_id: int, files: list[Path], state: dict[str, str], key_prefix: str,
                    found: _Found) -> None:  # fmt: skip
    for path in files:
        stat = path.stat()
        signature = f"{stat.st_size}:{stat.st_mtime_ns}"
        key = f"{key_prefix}{path}"
        if state.get(key) == signature:
            continue
        outcomes = Importers(tracker).import_path(person_id, path)
        found.files += 1
        failed = [o.error for o in outcomes if o.error]
        if failed:
            logger.warning("watched import of %s failed: %s", path, "; ".join(failed))
            found.errors.extend(failed)
            continue
        state[key] = signature
        found.ok_files += 1
        found.rows += sum(o.rows for o in outcomes)
        found.inserted += sum(o.inserted for o in outcomes)
        logger.info("watched import of %s: %d new of %d", path, sum(o.inserted for o in outcomes),
                    sum(o.rows for o in outcomes))  # fmt: skip


def _scan_config_paths(tracker: Tracker, state: dict[str, str]) -> int:
    cfg = tracker.config
    try:
        person_id = _person_id(tracker)
    except UserError as exc:  # the Data-page watches still run
        logger.error("[import] watch skipped: %s", exc)
        return 0
    imported = 0
    for entry in cfg.imports.watch:
        root = Path(entry).expanduser()
        root = root if root.is_absolute() else cfg.base_dir / root
        if not root.exists():
            logger.warning("watched path %s does not exist (yet)", root)
            continue
        found = _Found()
        _import_changed(tracker, person_id, _candidates(root, None, found), state, "", found)
        imported += found.files
    return imported


def _scan_stored(tracker: Tracker, watch: WatchInfo, roots: tuple[Path, ...], state: dict[str, str]) -> int:
    """One Data-page watch: checked against the roots as configured now, imported, its result recorded."""
    found = _Found()
    path = Path(watch.path)
    try:
        real = path.resolve()
        if not is_under(real, roots):
            found.errors.append(f"{path} is outside [import] watch_roots (as configured now): not read")
        elif not real.exists():
            found.errors.append(f"{path} does not exist (yet)")
        else:
            files = _candidates(real, roots, found)
            if not files and not found.errors:
                found.errors.append(f"{path}: no Gadgetbridge, FIT or Apple Health files in it (yet)" if real.is_dir()
                                    else f"{path}: not a Gadgetbridge database, FIT file or Apple Health export "
                                         "(yet: still being written?)")  # fmt: skip
            _import_changed(tracker, watch.person_id, files, state, f"watch {watch.id}:", found)
    except OSError as exc:  # unreadable folder, file gone between listing and reading
        found.errors.append(f"{path}: {exc.strerror or exc}")
    result = None
    if found.ok_files:
        result = (f"{found.ok_files} file{'s' if found.ok_files != 1 else ''} imported: {found.inserted} new of "
                  f"{found.rows} rows")  # fmt: skip
    tracker.import_watches.record(watch.id, imported=found.ok_files > 0, result=result,
                                  error="; ".join(found.errors)[:2000] or None)  # fmt: skip
    return found.files


def scan(tracker: Tracker) -> int:
    """Import every watched file that changed since its last successful import; return how many were imported."""
    cfg = tracker.config
    watches = tracker.import_watches
    stored = watches.list()
    state_path = cfg.data_dir / STATE_FILE
    try:
        state: dict[str, str] = json.loads(state_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        state = {}
    current = {w.id for w in stored}
    gone = [k for k in state if (m := _WATCH_KEY.match(k)) and int(m.group(1)) not in current]
    for key in gone:
        del state[key]  # a removed watch: added again later, its files import afresh
    if not cfg.imports.watch and not stored and not gone:
        return 0
    imported = _scan_config_paths(tracker, state) if cfg.imports.watch else 0
    for watch in stored:
        imported += _scan_stored(tracker, watch, watches.roots, state)
    state_path.parent.mkdir(parents=True, exist_ok=True)
    state_path.write_text(json.dumps(state, indent=1, sort_keys=True), encoding="utf-8")
    return imported
