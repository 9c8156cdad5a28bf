"""Watched paths stored per person (tracker.import_watches): only under [import] watch_roots, resolved first,
scoped to the account's people."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa

from tracker.bootstrap import Tracker
from tracker.clock import ManualClock
from tracker.config import ImportConfig
from tracker.errors import Conflict, NotFound, UserError
from tracker.import_watches import NO_ROOTS, resolve_allowed
from tracker.sessions import ValidationError
from tracker.storage.models import ImportWatch


@pytest.fixture
def roots(tracker: Tracker, tmp_path: Path) -> Path:
    """`<tmp>/sync` as the only root, and a folder beside it that must stay out of reach."""
    sync = tmp_path / "sync"
    (sync / "gb").mkdir(parents=True)
    (tmp_path / "private").mkdir()
    (tmp_path / "private" / "secret.db").write_bytes(b"SQLite format 3\x00")
    tracker.config = tracker.config.replace(imports=ImportConfig(watch_roots=(str(sync),)))
    tracker.users.add("ana", None)
    tracker.users.add("bo", None)
    tracker.people.add("Ana", "UTC", user_name="ana")
    tracker.people.add("Bo", "UTC", user_name="bo")
    return sync.resolve()


def _user(tracker: Tracker, name: str) -> int:
    return tracker.users.by_name(name).id


def _person(tracker: Tracker, name: str) -> int:
    return tracker.people.get(name).id


def test_nothing_can_be_added_without_roots(tracker: Tracker, tmp_path: Path) -> None:
    tracker.people.add("Ana", "UTC")
    with pytest.raises(UserError, match=r"ask the administrator to set \[import\] watch_roots") as err:
        tracker.import_watches.add(_person(tracker, "Ana"), str(tmp_path))
    assert str(err.value) == NO_ROOTS
    assert tracker.import_watches.list() == []


@pytest.mark.parametrize("typed", ["{tmp}/private", "{tmp}/private/secret.db", "{root}/../private/secret.db",
                                   "{root}/gb/../../private", "/etc/passwd", "{root}x/file", "/"])  # fmt: skip
def test_paths_outside_the_roots_are_refused(tracker: Tracker, roots: Path, tmp_path: Path, typed: str) -> None:
    text = typed.format(tmp=tmp_path, root=roots)
    with pytest.raises(ValidationError, match="outside the folders this server allows") as err:
        tracker.import_watches.add(_person(tracker, "Ana"), text)
    assert str(roots) in err.value.errors["path"]  # the message names the allowed folders
    assert tracker.import_watches.list() == []


def test_a_symlink_out_of_a_root_is_refused_by_where_it_leads(tracker: Tracker, roots: Path, tmp_path: Path) -> None:
    os.symlink(tmp_path / "private", roots / "innocent")
    with pytest.raises(ValidationError, match=r"resolves to .*private.* is outside"):
        tracker.import_watches.add(_person(tracker, "Ana"), str(roots / "innocent"))
    with pytest.raises(ValidationError, match="outside"):
        tracker.import_watches.add(_person(tracker, "Ana"), str(roots / "innocent" / "secret.db"))


def test_relative_home_and_malformed_paths_are_refused(tracker: Tracker, roots: Path) -> None:
    for text, message in [("sync/gb", "absolute path"), ("~/sync", "absolute path"), ("", "give the path"),
                          ("   ", "give the path"), (str(roots) + "/a\x00b", "NUL"),
                          (str(roots) + "/a\nb", "control"), (str(roots) + "/\ud800", "lone surrogate"),
                          (str(roots) + "/" + "a" * 1100, "at most 1024")]:  # fmt: skip
        with pytest.raises(ValidationError, match=message):
            tracker.import_watches.add(_person(tracker, "Ana"), text)
    loop = roots / "loop"
    os.symlink(loop, loop)
    with pytest.raises(ValidationError, match="cannot be resolved|outside"):
        tracker.import_watches.add(_person(tracker, "Ana"), str(loop))


def test_a_path_under_a_root_is_stored_resolved(tracker: Tracker, roots: Path) -> None:
    os.symlink(roots / "gb", roots / "phone")  # a link that stays inside the root is fine
    ana = _person(tracker, "Ana")
    info = tracker.import_watches.add(ana, f"{roots}/phone/../gb/Gadgetbridge.db")  # need not exist yet
    assert info.path == str(roots / "gb" / "Gadgetbridge.db")
    assert info.person_id == ana and info.person_name == "Ana" and info.last_import_ms is None
    whole = tracker.import_watches.add(ana, str(roots))  # the root itself may be watched
    assert [w.id for w in tracker.import_watches.list()] == [info.id, whole.id]
    with pytest.raises(Conflict, match="already watched for Ana"):
        tracker.import_watches.add(ana, str(roots / "phone" / "Gadgetbridge.db"))  # the same file by another name
    other = tracker.import_watches.add(_person(tracker, "Bo"), info.path)  # another person may watch it too
    assert other.id != info.id
    with tracker.sessionmaker() as db:
        assert db.scalar(sa.select(sa.func.count()).select_from(ImportWatch)) == 3


def test_accounts_see_and_remove_only_their_own(tracker: Tracker, roots: Path) -> None:
    ana_user, bo_user = _user(tracker, "ana"), _user(tracker, "bo")
    mine = tracker.import_watches.add(_person(tracker, "Ana"), str(roots / "gb"), user_id=ana_user)
    with pytest.raises(NotFound):  # ana cannot add a watch for bo's person ...
        tracker.import_watches.add(_person(tracker, "Bo"), str(roots / "gb"), user_id=ana_user)
    assert [w.id for w in tracker.import_watches.list(user_id=ana_user)] == [mine.id]
    assert tracker.import_watches.list(user_id=bo_user) == []  # ... bo does not see ana's ...
    with pytest.raises(NotFound):
        tracker.import_watches.get(mine.id, user_id=bo_user)
    with pytest.raises(NotFound):  # ... nor remove it
        tracker.import_watches.remove(mine.id, user_id=bo_user)
    assert [w.id for w in tracker.import_watches.list()] == [mine.id]
    assert tracker.import_watches.remove(mine.id, user_id=ana_user).path == str(roots / "gb")
    assert tracker.import_watches.list() == []
    with pytest.raises(NotFound):
        tracker.import_watches.remove(mine.id, user_id=ana_user)


def test_record_keeps_the_last_import_when_a_later_check_fails(tracker: Tracker, roots: Path,
                                                               clock: ManualClock) -> None:  # fmt: skip
    info = tracker.import_watches.add(_person(tracker, "Ana"), str(roots / "gb"))
    tracker.import_watches.record(info.id, imported=True, result="1 file imported: 5 new of 5 rows", error=None)
    t_import = clock.now_ms()
    clock.advance(minutes=15)
    tracker.import_watches.record(info.id, imported=False, result=None, error="gone")
    [now] = tracker.import_watches.list()
    assert now.last_import_ms == t_import and now.last_result == "1 file imported: 5 new of 5 rows"
    assert now.last_error == "gone" and now.last_check_ms == t_import + 15 * 60_000
    tracker.import_watches.remove(info.id)
    tracker.import_watches.record(info.id, imported=False, result=None, error=None)  # removed meanwhile: no error


def test_resolve_allowed_accepts_several_roots(tmp_path: Path) -> None:
    a, b = (tmp_path / "a").resolve(), (tmp_path / "b").resolve()
    assert resolve_allowed(f" {b}/x.fit ", (a, b)) == b / "x.fit"
    with pytest.raises(ValidationError, match=f"{a}, {b}"):
        resolve_allowed(str(tmp_path / "c"), (a, b))
