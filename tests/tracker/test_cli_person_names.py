"""`--person` on the command line (the administrator, over every account): NAME, ACCOUNT/NAME or id.

Accounts ana and bo both have a "Mum". A bare "Mum" is refused by every command with exit status 2 and a
message listing how to name each one; ACCOUNT/NAME and the id reach the right one, and what the command
writes (imports, sessions, calendar events, a trial) lands in that person only.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from tests.tracker.test_interchange import FILES, _write
from tests.tracker.test_person_names import two_mums
from tests.tracker.test_sessions import ICS
from tracker.bootstrap import Tracker
from tracker.cli import main
from tracker.config import ImportConfig
from tracker.errors import UserError
from tracker.importers import watch
from tracker.storage.models import HeartRateRow, MassageSession

AMBIGUOUS_COMMANDS = [
    ["import", "{src}", "--person", "Mum"],
    ["export", "{out}", "--person", "Mum"],
    ["session", "add", "--person", "Mum", "--start", "2099-06-10 10:00", "--minutes", "60"],
    ["session", "list", "--person", "Mum"],
    ["session", "import-ics", "{ics}", "--person", "Mum"],
    ["trial", "plan", "--person", "Mum", "--weeks", "8", "--slots", "Tue 18:00,Fri 18:00", "--start", "2099-06-01"],
    ["trial", "show", "--person", "Mum"],
    ["trial", "stop", "--person", "Mum", "--reason", "x"],
    ["report", "--person", "Mum"],
    ["nights", "rebuild", "--person", "Mum"],
]


# The calendar import reads events up to a year ahead of the real clock (the CLI's): a month from today.
EVENT_DAY = dt.date.today() + dt.timedelta(days=30)
EVENT_START = dt.datetime.combine(EVENT_DAY, dt.time(10), ZoneInfo("Europe/Berlin"))


def _paths(tmp_path: Path) -> dict[str, str]:
    ics = tmp_path / "cal.ics"
    day = EVENT_DAY.strftime("%Y%m%d")
    ics.write_bytes(ICS.format(start=f"{day}T100000", end=f"{day}T110000").encode())
    return {"src": str(_write(tmp_path / "in", FILES)), "out": str(tmp_path / "out"), "ics": str(ics)}


def _count(tracker: Tracker, table: type, person_id: int) -> int:
    with tracker.sessionmaker() as db:
        return db.scalar(sa.select(sa.func.count()).select_from(table).where(table.person_id == person_id)) or 0


@pytest.mark.parametrize("command", AMBIGUOUS_COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_a_name_several_accounts_use_exits_2_saying_how_to_name_one(
    tracker: Tracker, config_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    ana_mum, bo_mum = two_mums(tracker)
    paths = _paths(tmp_path)
    capsys.readouterr()
    assert main(["--config", str(config_file), *(a.format(**paths) for a in command)]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"tracker: error: 2 people match 'Mum': ana/Mum (id {ana_mum.id}), bo/Mum (id {bo_mum.id}); "
        "name one as ACCOUNT/NAME or by its id\n"
    )
    # nothing was written for either
    for person in (ana_mum, bo_mum):
        assert _count(tracker, HeartRateRow, person.id) == 0 and _count(tracker, MassageSession, person.id) == 0
    assert not (tmp_path / "out").exists()


def test_the_process_exits_2_without_a_traceback(tracker: Tracker, config_file: Path) -> None:
    two_mums(tracker)
    done = subprocess.run(
        [sys.executable, "-m", "tracker", "--config", str(config_file), "report", "--person", "Mum"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    assert "ACCOUNT/NAME" in done.stderr and "Traceback" not in done.stderr


def test_account_slash_name_and_id_reach_the_right_person(
    tracker: Tracker, config_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ana_mum, bo_mum = two_mums(tracker)
    paths = _paths(tmp_path)
    run = lambda *a: main(["--config", str(config_file), *a])  # noqa: E731
    capsys.readouterr()

    assert run("import", paths["src"], "--person", "bo/Mum") == 0
    assert "heart_rate.csv: 4 rows, 4 new" in capsys.readouterr().out
    assert _count(tracker, HeartRateRow, bo_mum.id) == 4 and _count(tracker, HeartRateRow, ana_mum.id) == 0

    assert run("session", "add", "--person", "ana/Mum", "--start", "2099-06-10 10:00", "--minutes", "60") == 0
    sid = int(capsys.readouterr().out.strip())
    session = tracker.sessions.get(sid)
    assert session.person_id == ana_mum.id and session.to_dict()["start"] == "2099-06-10T10:00:00+02:00"

    assert run("session", "import-ics", paths["ics"], "--person", str(bo_mum.id)) == 0
    assert "1 new" in capsys.readouterr().out
    [event] = [s for s in tracker.sessions.list(bo_mum.id) if s.ics_uid]  # (the CSV import brought sessions too)
    assert event.start_ms == int(EVENT_START.timestamp() * 1000) and event.tz == "America/New_York"
    assert [s.id for s in tracker.sessions.list(ana_mum.id)] == [sid]

    assert run("trial", "plan", "--person", "ana/Mum", "--weeks", "8", "--slots", "Tue 18:00,Fri 18:00",
               "--start", "2099-07-01") == 0  # fmt: skip
    assert "+02:00" in capsys.readouterr().out  # planned in ana's Mum's zone (Berlin), not bo's
    assert tracker.trials.show(ana_mum.id) is not None and tracker.trials.show(bo_mum.id) is None

    assert run("report", "--person", "bo/Mum", "--json") == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["person"], report["timezone"]) == ("Mum", "America/New_York")

    assert run("export", str(tmp_path / "out"), "--person", str(bo_mum.id)) == 0
    assert "heart_rate.csv: 4 rows" in capsys.readouterr().out
    assert run("nights", "rebuild", "--person", "ana/Mum") == 0
    assert capsys.readouterr().out.startswith("Mum: ")

    # a name that only one person has still works on its own
    tracker.people.add("Dad", "UTC", "bo")
    assert run("session", "list", "--person", "Dad", "--json") == 0
    assert json.loads(capsys.readouterr().out) == []
    assert run("session", "list", "--person", "cy/Mum") == 2
    assert "no person 'cy/Mum'" in capsys.readouterr().err


def test_person_add_clashes_only_within_the_account(
    tracker: Tracker, config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    two_mums(tracker)
    run = lambda *a: main(["--config", str(config_file), *a])  # noqa: E731
    capsys.readouterr()
    assert run("person", "add", "Mum", "--tz", "UTC", "--user", "ana") == 2
    assert "the account 'ana' already has a person named 'Mum'" in capsys.readouterr().err
    tracker.users.add("cy")
    assert run("person", "add", "Mum", "--tz", "UTC", "--user", "cy") == 0
    assert run("person", "add", "Mum", "--tz", "UTC") == 0  # no account: unique among those
    assert run("person", "add", "Mum", "--tz", "UTC") == 2
    capsys.readouterr()
    assert run("person", "list", "--json") == 0
    assert sorted(str(p["user"]) for p in json.loads(capsys.readouterr().out)) == ["None", "ana", "bo", "cy"]


def test_watched_imports_name_their_person_the_same_way(tracker: Tracker) -> None:
    _ana_mum, bo_mum = two_mums(tracker)
    tracker.config = tracker.config.replace(imports=ImportConfig(watch=("x",), person="bo/Mum"))
    assert watch._person_id(tracker) == bo_mum.id
    tracker.config = tracker.config.replace(imports=ImportConfig(watch=("x",), person="Mum"))
    with pytest.raises(UserError, match="ACCOUNT/NAME"):
        watch._person_id(tracker)
