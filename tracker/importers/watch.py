"""Watched imports: re-import a Gadgetbridge auto-export or a folder of FIT files when it changes.

`tracker run` calls `scan` on a schedule ([import] interval_min). A file is imported when its size or
modification time differs from the last successful import of it; what was seen is kept in
`<data_dir>/import-watch.json`, and a file whose import failed (say, half-written by a sync tool) is tried
again next time. Imports are idempotent and each is recorded as a run, so a spurious re-import stores nothing.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from tracker.errors import UserError
from tracker.importers import Importers
from tracker.importers import detect as kinds

if TYPE_CHECKING:
    from tracker.bootstrap import Tracker

logger = logging.getLogger(__name__)
STATE_FILE = "import-watch.json"


def _candidates(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.is_file() and kinds.detect(p) not in (None, kinds.CSV))
    return [path] if path.is_file() else []


def _person_id(tracker: Tracker) -> int:
    name = tracker.config.imports.person
    if name:
        return tracker.people.get(name).id
    people = tracker.people.list()
    if len(people) != 1:
        raise UserError("[import] person: name the person the watched files belong to (there is not exactly one)")
    return people[0].id


def scan(tracker: Tracker) -> int:
    """Import every watched file that changed since its last successful import; return how many were imported."""
    cfg = tracker.config
    if not cfg.imports.watch:
        return 0
    state_path = cfg.data_dir / STATE_FILE
    try:
        state: dict[str, str] = json.loads(state_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        state = {}
    person_id = _person_id(tracker)
    imported = 0
    for entry in cfg.imports.watch:
        root = Path(entry).expanduser()
        root = root if root.is_absolute() else cfg.base_dir / root
        if not root.exists():
            logger.warning("watched path %s does not exist (yet)", root)
            continue
        for path in _candidates(root):
            stat = path.stat()
            signature = f"{stat.st_size}:{stat.st_mtime_ns}"
            if state.get(str(path)) == signature:
                continue
            outcomes = Importers(tracker).import_path(person_id, path)
            imported += 1
            failed = [o.error for o in outcomes if o.error]
            if failed:
                logger.warning("watched import of %s failed: %s", path, "; ".join(failed))
                continue
            state[str(path)] = signature
            logger.info("watched import of %s: %d new of %d", path, sum(o.inserted for o in outcomes),
                        sum(o.rows for o in outcomes))  # fmt: skip
    state_path.parent.mkdir(parents=True, exist_ok=True)
    state_path.write_text(json.dumps(state, indent=1, sort_keys=True), encoding="utf-8")
    return imported
