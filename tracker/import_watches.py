"""Watched paths people add themselves (the Data page's "Watched folders"): stored per person, allowed only
under the administrator's `[import] watch_roots`.

A web user names a path that the server will read, so the check is strict: the path must be absolute, and
with symlinks and ".." resolved it must lie under one of the roots (themselves resolved); the resolved path
is what is stored. The scan (tracker.importers.watch) checks again before every read, file by file, so a
symlink placed inside a root later, or a root taken out of config.toml, cannot widen what is read. With no
roots configured nothing can be added. Every call with `user_id` is scoped to that account's people:
another account's watch is "not found", never "forbidden", so ids cannot be probed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import sqlalchemy.exc
import sqlalchemy.orm as so

from tracker.clock import Clock
from tracker.errors import Conflict, NotFound, UserError
from tracker.sessions import ValidationError
from tracker.storage.models import ImportWatch, Person
from tracker.timefmt import format_local

MAX_PATH_CHARS = 1024  # the column's width
NO_ROOTS = ("Watched folders are not enabled on this server: ask the administrator to set [import] watch_roots "
            "in config.toml (the folders under which you may add paths).")  # fmt: skip


@dataclass(frozen=True, slots=True)
class WatchInfo:
    id: int
    person_id: int
    person_name: str
    path: str
    created_ms: int
    last_check_ms: int | None
    last_import_ms: int | None
    last_result: str | None
    last_error: str | None

    def to_dict(self) -> dict[str, Any]:
        def utc(t_ms: int | None) -> str | None:
            return None if t_ms is None else format_local(t_ms, "UTC")

        return {
            "id": self.id, "person_id": self.person_id, "person": self.person_name, "path": self.path,
            "created": utc(self.created_ms), "last_check": utc(self.last_check_ms),
            "last_import": utc(self.last_import_ms), "last_result": self.last_result, "last_error": self.last_error,
        }  # fmt: skip


def is_under(path: Path, roots: tuple[Path, ...]) -> bool:
    """Whether the (already resolved) `path` is one of `roots` or inside one."""
    return any(path == root or path.is_relative_to(root) for root in roots)


def resolve_allowed(text: str, roots: tuple[Path, ...]) -> Path:
    """The path a person typed, resolved, if it lies under a root; else ValidationError saying why."""
    if not roots:
        raise UserError(NO_ROOTS)
    text = text.strip()

    def refuse(message: str) -> ValidationError:
        return ValidationError({"path": message})

    if not text:
        raise refuse("give the path of a Gadgetbridge export file or a folder of FIT files")
    try:
        text.encode("utf-8")  # a lone surrogate (possible in JSON) is no file name, and no database text
    except UnicodeEncodeError:
        raise refuse("the path is not valid text (a lone surrogate)") from None
    if len(text) > MAX_PATH_CHARS or "\x00" in text or not text.isprintable():
        raise refuse(f"a path of at most {MAX_PATH_CHARS} characters, without NUL or control characters")
    allowed = ", ".join(str(r) for r in roots)
    raw = Path(text)
    if not raw.is_absolute():  # "~" would be the server account's home, and relative paths have no anchor
        raise refuse(f"give an absolute path, under {allowed}")
    try:
        resolved = raw.resolve()  # symlinks and ".." resolved, as far as the path exists
    except (OSError, RuntimeError, ValueError):  # a symlink loop: RuntimeError before Python 3.13, OSError after
        raise refuse(f"{text} cannot be resolved (a symlink loop?)") from None
    if not is_under(resolved, roots):
        via = f" (it resolves to {resolved})" if str(resolved) != text.rstrip("/") else ""
        raise refuse(f"{text}{via} is outside the folders this server allows ([import] watch_roots: {allowed})")
    if len(str(resolved)) > MAX_PATH_CHARS:
        raise refuse(f"the resolved path is longer than {MAX_PATH_CHARS} characters")
    return resolved


class ImportWatches:
    """The stored watches; built per use by `Tracker.import_watches`, so a replaced config applies at once."""

    def __init__(self, sessionmaker: so.sessionmaker[so.Session], clock: Clock, roots: tuple[Path, ...]) -> None:
        self._db = sessionmaker
        self._clock = clock
        self.roots = roots

    @staticmethod
    def _info(row: ImportWatch, person_name: str) -> WatchInfo:
        return WatchInfo(row.id, row.person_id, person_name, row.path, row.created_ms, row.last_check_ms,
                         row.last_import_ms, row.last_result, row.last_error)  # fmt: skip

    def list(self, user_id: int | None = None, person_id: int | None = None) -> list[WatchInfo]:
        """Watches, oldest first; only the account's people with `user_id`, only one person with `person_id`."""
        stmt = sa.select(ImportWatch, Person.name).join(Person, ImportWatch.person_id == Person.id)
        if user_id is not None:
            stmt = stmt.where(Person.user_id == user_id)
        if person_id is not None:
            stmt = stmt.where(ImportWatch.person_id == person_id)
        with self._db() as db:
            return [self._info(row, name) for row, name in db.execute(stmt.order_by(ImportWatch.id))]

    def get(self, watch_id: int, user_id: int | None = None) -> WatchInfo:
        with self._db() as db:
            found = db.execute(sa.select(ImportWatch, Person).join(Person, ImportWatch.person_id == Person.id)
                               .where(ImportWatch.id == watch_id)).first()  # fmt: skip
            if found is None or (user_id is not None and found[1].user_id != user_id):
                raise NotFound(f"no watched path {watch_id}")
            return self._info(found[0], found[1].name)

    def add(self, person_id: int, text: str, user_id: int | None = None) -> WatchInfo:
        """Watch `text` for the person; ValidationError when outside the roots, Conflict when already watched."""
        path = resolve_allowed(text, self.roots)
        with self._db.begin() as db:
            person = db.get(Person, person_id)
            if person is None or (user_id is not None and person.user_id != user_id):
                raise NotFound(f"no person {person_id}")
            name = person.name
            taken = db.scalar(sa.select(ImportWatch.id).where(ImportWatch.person_id == person_id,
                                                              ImportWatch.path == str(path)))  # fmt: skip
            if taken is not None:
                raise Conflict(f"{path} is already watched for {name}")
            row = ImportWatch(person_id=person_id, path=str(path), created_ms=self._clock.now_ms())
            db.add(row)
            try:
                db.flush()
            except sqlalchemy.exc.IntegrityError:  # the same path added at the same moment elsewhere
                raise Conflict(f"{path} is already watched for {name}") from None
            return self._info(row, name)

    def remove(self, watch_id: int, user_id: int | None = None) -> WatchInfo:
        """Stop watching (what was imported stays; each import can still be undone on the Data page)."""
        info = self.get(watch_id, user_id)
        with self._db.begin() as db:
            db.execute(sa.delete(ImportWatch).where(ImportWatch.id == info.id))
        return info

    def record(self, watch_id: int, *, imported: bool, result: str | None, error: str | None) -> None:
        """What a scan found; a watch removed meanwhile is simply gone (nothing to record)."""
        now_ms = self._clock.now_ms()
        values: dict[str, Any] = {"last_check_ms": now_ms, "last_error": error}
        if imported:
            values |= {"last_import_ms": now_ms, "last_result": result}
        with self._db.begin() as db:
            db.execute(sa.update(ImportWatch).where(ImportWatch.id == watch_id).values(**values))
