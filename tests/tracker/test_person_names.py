"""Person names are unique per account: two accounts may both have a "Mum", and neither learns of the other's.

The service (`People`), the database keys themselves (on SQLite and PostgreSQL), migration 0009 on a
database that has data, and the administrator's look-up (`--person` NAME, ACCOUNT/NAME or id).
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tracker.bootstrap import Tracker
from tracker.errors import Conflict, NotFound, UserError
from tracker.people import AmbiguousPerson, PersonInfo
from tracker.storage.db import SCHEMA_REVISION, _alembic_config, make_engine, upgrade_schema


def two_mums(tracker: Tracker) -> tuple[PersonInfo, PersonInfo]:
    """Accounts ana and bo, each with a person called Mum (different zones, to tell them apart)."""
    tracker.users.add("ana")
    tracker.users.add("bo")
    return tracker.people.add("Mum", "Europe/Berlin", "ana"), tracker.people.add("Mum", "America/New_York", "bo")


def test_two_accounts_each_have_a_mum_and_see_only_their_own(tracker: Tracker) -> None:
    ana_mum, bo_mum = two_mums(tracker)
    assert ana_mum.id != bo_mum.id and (ana_mum.user_name, bo_mum.user_name) == ("ana", "bo")
    ana_id, bo_id = tracker.users.by_name("ana").id, tracker.users.by_name("bo").id
    assert [(p.id, p.tz) for p in tracker.people.list(user_id=ana_id)] == [(ana_mum.id, "Europe/Berlin")]
    assert [(p.id, p.tz) for p in tracker.people.list(user_id=bo_id)] == [(bo_mum.id, "America/New_York")]
    assert tracker.people.get("Mum", user_id=ana_id) == ana_mum
    assert tracker.people.get("Mum", user_id=bo_id) == bo_mum


def test_a_clash_is_refused_within_an_account_and_names_no_other(tracker: Tracker) -> None:
    two_mums(tracker)
    with pytest.raises(Conflict) as clash:
        tracker.people.add("Mum", "UTC", "ana")
    assert str(clash.value) == "the account 'ana' already has a person named 'Mum'"  # not a word about bo
    tracker.users.add("cy")
    assert tracker.people.add("Mum", "UTC", "cy").user_name == "cy"  # a third account: free to use it
    # people with no account are unique among themselves, and may share a name with an account's person
    loose = tracker.people.add("Mum", "UTC")
    assert loose.user_id is None
    with pytest.raises(Conflict, match="with no account already exists"):
        tracker.people.add("Mum", "UTC")
    assert len(tracker.people.list()) == 4


def test_the_database_itself_holds_both_keys(tracker: Tracker) -> None:
    """Not only the service's check: a concurrent writer (or a raw INSERT) meets the same keys."""
    ana_mum, _bo_mum = two_mums(tracker)
    insert = sa.text("INSERT INTO person (name, tz, user_id, created_ms) VALUES (:name, 'UTC', :user_id, 0)")
    with pytest.raises(sa.exc.IntegrityError):
        with tracker.engine.begin() as conn:
            conn.execute(insert, {"name": "Mum", "user_id": ana_mum.user_id})
    with tracker.engine.begin() as conn:
        conn.execute(insert, {"name": "Mum", "user_id": None})
    with pytest.raises(sa.exc.IntegrityError):  # the partial index: a second "Mum" with no account
        with tracker.engine.begin() as conn:
            conn.execute(insert, {"name": "Mum", "user_id": None})
    with tracker.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM person WHERE name = 'Mum'")).scalar() == 3


def test_an_accounts_lookup_never_finds_or_hints_at_another_accounts_person(tracker: Tracker) -> None:
    ana_mum, bo_mum = two_mums(tracker)
    tracker.people.add("Bo's cat", "UTC", "bo")
    ana_id = tracker.users.by_name("ana").id
    for ref in (bo_mum.id, str(bo_mum.id), "bo/Mum"):
        with pytest.raises(NotFound) as missing:
            tracker.people.get(ref, user_id=ana_id)
        assert str(missing.value) == f"no person {ref!r}"
    with pytest.raises(NotFound) as theirs:
        tracker.people.get("Bo's cat", user_id=ana_id)
    with pytest.raises(NotFound) as nobodys:
        tracker.people.get("Nobody's cat", user_id=ana_id)
    # the same answer whether or not another account has the name
    assert str(theirs.value).replace("Bo", "Nobody") == str(nobodys.value) == "no person \"Nobody's cat\""
    assert tracker.people.get(ana_mum.id, user_id=ana_id) == ana_mum


def test_the_administrators_lookup_takes_name_account_slash_name_or_id(tracker: Tracker) -> None:
    ana_mum, bo_mum = two_mums(tracker)
    with pytest.raises(AmbiguousPerson) as ambiguous:
        tracker.people.get("Mum")
    assert isinstance(ambiguous.value, UserError)  # the CLI's exit status 2
    assert str(ambiguous.value) == (
        f"2 people match 'Mum': ana/Mum (id {ana_mum.id}), bo/Mum (id {bo_mum.id}); "
        "name one as ACCOUNT/NAME or by its id"
    )
    assert tracker.people.get("ana/Mum") == ana_mum and tracker.people.get("bo/Mum") == bo_mum
    assert tracker.people.get(str(bo_mum.id)) == bo_mum and tracker.people.get(ana_mum.id) == ana_mum
    slash = tracker.people.add("Ana/Bo", "UTC", "ana")  # a "/" inside a name still works both ways
    assert tracker.people.get("Ana/Bo") == slash and tracker.people.get("ana/Ana/Bo") == slash
    loose = tracker.people.add("Mum", "UTC")
    with pytest.raises(AmbiguousPerson, match=rf"Mum with no account \(id {loose.id}\)"):
        tracker.people.get("Mum")
    for ref in ("cy/Mum", "ana/Dad", "99999999999999999999", "0"):
        with pytest.raises(NotFound):
            tracker.people.get(ref)
    tracker.users.add("cy")
    only = tracker.people.add("Grandpa", "UTC", "cy")
    assert tracker.people.get("Grandpa") == only  # a name only one person has needs no account


def test_linking_refuses_a_clash_in_the_target_account(tracker: Tracker) -> None:
    ana_mum, _ = two_mums(tracker)
    loose = tracker.people.add("Mum", "UTC")
    with pytest.raises(Conflict, match="the account 'ana' already has a person named 'Mum'"):
        tracker.people.link(loose.id, "ana")
    tracker.users.add("cy")
    assert tracker.people.link(loose.id, "cy").user_name == "cy"
    assert tracker.people.link(ana_mum.id, "ana") == ana_mum  # already there: nothing to do


def test_migration_0009_upgrades_a_database_with_data(database_url: str) -> None:
    """From 0002 (names unique everywhere) to the head: every row stays; afterwards accounts may share names.

    Person ids are explicit and high so that PostgreSQL's sequence (not advanced by them) cannot collide.
    """
    from alembic import command

    engine = make_engine(database_url)
    command.upgrade(_alembic_config(engine), "0002")
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO user_account (id, name, created_ms) VALUES (1, 'ana', 0), (2, 'bo', 0)"
        ))
        conn.execute(sa.text(
            "INSERT INTO person (id, name, tz, user_id, created_ms) VALUES "
            "(101, 'Mum', 'Europe/Berlin', 1, 0), (102, 'Dad', 'UTC', 2, 0), (103, 'Gran', 'UTC', NULL, 0)"
        ))
        conn.execute(sa.text("INSERT INTO heart_rate (person_id, t_ms, bpm, source) VALUES (101, 1000, 60, 'import')"))
        conn.execute(sa.text(
            "INSERT INTO massage_session (id, person_id, status, kind, start_ms, end_ms, ics_uid, created_ms, updated_ms) "
            "VALUES (5, 102, 'planned', 'massage', 0, 3600000, 'uid-1', 0, 0)"
        ))
        with pytest.raises(sa.exc.IntegrityError):  # before: the global key
            with conn.begin_nested():
                conn.execute(sa.text("INSERT INTO person (name, tz, user_id, created_ms) VALUES ('Mum', 'UTC', 2, 0)"))
    assert upgrade_schema(engine) == SCHEMA_REVISION  # the head, through 0009
    with engine.begin() as conn:
        people = conn.execute(sa.text("SELECT id, name, tz, user_id FROM person ORDER BY id")).all()
        assert [tuple(p) for p in people] == [
            (101, "Mum", "Europe/Berlin", 1), (102, "Dad", "UTC", 2), (103, "Gran", "UTC", None)
        ]
        assert conn.execute(sa.text("SELECT person_id, bpm FROM heart_rate")).all() == [(101, 60)]
        assert conn.execute(sa.text("SELECT id, person_id FROM massage_session")).all() == [(5, 102)]
        conn.execute(sa.text("INSERT INTO person (name, tz, user_id, created_ms) VALUES ('Mum', 'UTC', 2, 0)"))
        with pytest.raises(sa.exc.IntegrityError):  # after: still unique within the account ...
            with conn.begin_nested():
                conn.execute(sa.text("INSERT INTO person (name, tz, user_id, created_ms) VALUES ('Mum', 'UTC', 2, 0)"))
        with pytest.raises(sa.exc.IntegrityError):  # ... and among people with no account
            with conn.begin_nested():
                conn.execute(sa.text("INSERT INTO person (name, tz, user_id, created_ms) VALUES ('Gran', 'UTC', NULL, 0)"))
        if conn.dialect.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1  # back on after the batch copy
    engine.dispose()
