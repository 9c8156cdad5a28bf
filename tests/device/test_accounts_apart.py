"""Accounts stay apart at the radio: a device paired in one account cannot be taken over from another.

The real collector through bleak against emulated devices (tests/device/test_collector.py's world), two
accounts on one database (SQLite, and PostgreSQL when configured).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.device.test_cli_band import _free_port
from tests.device.test_collector import World, _world
from tests.tracker.test_person_names import two_mums
from tracker.bootstrap import Tracker
from tracker.cli import main
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


def test_cli_pairs_by_account_slash_name_and_refuses_a_name_two_accounts_use(
    tracker: Tracker, config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`tracker pair ADDRESS --person Mum` with a Mum in two accounts exits 2 and pairs nothing;
    `--person bo/Mum` pairs the ring (an emulated one, in another process over TCP) to bo's Mum."""
    ana_mum, bo_mum = two_mums(tracker)
    port = _free_port()
    emulator = subprocess.Popen(
        [sys.executable, "-m", "tracker", "--config", str(config_file), "emulate", "--profile", "ring", "--days", "1",
         "--transport", f"tcp-server:127.0.0.1:{port}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert emulator.stdout is not None and "emulating a ring" in emulator.stdout.readline()
        cfg, transport = ["--config", str(config_file)], ["--transport", f"tcp-client:127.0.0.1:{port}"]
        capsys.readouterr()
        for _ in range(20):  # the emulator may still be starting
            if main([*cfg, "scan", "--seconds", "1", "--json", *transport]) == 0:
                break
            time.sleep(0.25)
        [ring] = [r for r in json.loads(capsys.readouterr().out) if r["family"] == "colmi"]
        assert main([*cfg, "pair", ring["address"], "--person", "Mum", *transport]) == 2
        err = capsys.readouterr().err
        assert f"ana/Mum (id {ana_mum.id}), bo/Mum (id {bo_mum.id})" in err and "ACCOUNT/NAME" in err
        assert tracker.devices.list() == []
        assert main([*cfg, "pair", ring["address"], "--person", "bo/Mum", *transport]) == 0
        assert capsys.readouterr().out.startswith("paired ")
        (device,) = tracker.devices.list()
        assert device.person_id == bo_mum.id and device.address == ring["address"]
    finally:
        emulator.terminate()
        emulator.wait(10)
