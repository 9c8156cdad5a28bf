"""Accounts stay apart at the radio: a device paired in one account cannot be taken over from another.

The real collector through bleak against emulated devices (tests/device/test_collector.py's world), two
accounts on one database (SQLite, and PostgreSQL when configured).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from tests.device.test_collector import World, _world
from tracker.bootstrap import Tracker
from tracker.errors import Conflict
from tracker.storage.models import Device, HeartRateRow, SleepRow


@pytest.fixture
def world(tracker: Tracker) -> Iterator[World]:
    tracker.users.add("ana", "correct horse")
    tracker.users.add("bo", "correct horse")
    w = _world(tracker)
    tracker.people.link(w.person_id, "ana")
    yield w
    w.runtime.stop()


def _rows(tracker: Tracker, table: type, person_id: int) -> int:
    with tracker.sessionmaker() as db:
        return db.scalar(sa.select(sa.func.count()).select_from(table).where(table.person_id == person_id)) or 0


def test_another_account_cannot_pair_and_sync_a_device_paired_here(world: World) -> None:
    tracker = world.tracker
    bo = tracker.people.add("Bo", "Europe/Berlin", user_name="bo")
    ring_id = world.runtime.pair(world.ring.address_str, world.person_id)

    with pytest.raises(Conflict, match="paired in another account"):
        world.runtime.pair(world.ring.address_str, bo.id)
    with pytest.raises(Conflict):  # the address typed in lower case is the same radio
        world.devices.check_pairable(world.ring.address_str.lower(), bo.id)

    assert world.devices.get(ring_id).person_id == world.person_id  # still the first account's
    outcome = world.runtime.sync(ring_id)
    assert outcome.status == "ok", outcome
    assert _rows(tracker, SleepRow, bo.id) == 0 and _rows(tracker, HeartRateRow, bo.id) == 0
    assert _rows(tracker, HeartRateRow, world.person_id) > 0


def test_same_account_may_move_a_device_and_an_unpaired_one_may_go_elsewhere(world: World) -> None:
    tracker = world.tracker
    ana2 = tracker.people.add("Ana's son", "Europe/Berlin", user_name="ana")
    bo = tracker.people.add("Bo", "Europe/Berlin", user_name="bo")
    strap_id = world.runtime.pair(world.strap.address_str, world.person_id)
    assert world.runtime.pair(world.strap.address_str, ana2.id) == strap_id  # re-pair within the account
    world.devices.unpair(strap_id)  # its owner lets it go (sold, lent)
    assert world.runtime.pair(world.strap.address_str, bo.id) == strap_id
    assert world.devices.get(strap_id).person_id == bo.id


def test_device_strings_longer_than_their_columns_are_cut_not_fatal(tracker: Tracker) -> None:
    """A device advertising a 300-character manufacturer pairs on PostgreSQL too (it failed there)."""
    person = tracker.people.add("Ana", "Europe/Berlin")
    info = tracker.devices.upsert(
        "AA:BB:CC:DD:EE:01", person.id, name="N" * 500, manufacturer="M" * 300, model="m\x00" * 200,
        serial="S" * 121, firmware="1.0",
    )  # fmt: skip
    assert len(info.name) == 120 and len(info.manufacturer or "") == 120 and info.manufacturer.endswith("…")
    assert "\x00" not in (info.model or "") and len(info.model or "") <= 120
    with tracker.sessionmaker() as db:
        stored = db.scalar(sa.select(Device).where(Device.id == info.id))
        assert stored is not None and stored.firmware == "1.0" and len(stored.serial or "") == 120
