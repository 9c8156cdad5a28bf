"""The data commands end to end through `tracker.cli.main` on a real database."""

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.tracker.test_interchange import FILES, _write
from tracker import __version__
from tracker.cli import main


def run(config_file: Path, *args: str) -> int:
    return main(["--config", str(config_file), *args])


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"tracker {__version__}"


def test_init_people_import_export(config_file: Path, tmp_path: Path, capsys, monkeypatch) -> None:
    assert run(config_file, "init") == 0
    assert run(config_file, "init") == 0  # upgrade of an up-to-date schema is a no-op
    monkeypatch.setattr(sys, "stdin", io.StringIO("correct horse battery\n"))
    assert run(config_file, "user", "add", "mia", "--password-stdin") == 0
    assert run(config_file, "person", "add", "Ana", "--tz", "Europe/Berlin", "--user", "mia") == 0
    assert run(config_file, "person", "add", "Bo", "--tz", "America/New_York") == 0
    capsys.readouterr()
    assert run(config_file, "person", "list", "--json") == 0
    people = json.loads(capsys.readouterr().out)
    assert people == [
        {"id": 1, "name": "Ana", "timezone": "Europe/Berlin", "user": "mia"},
        {"id": 2, "name": "Bo", "timezone": "America/New_York", "user": None},
    ]
    src = _write(tmp_path / "in", FILES)
    assert run(config_file, "import", str(src), "--person", "Ana") == 0
    out = capsys.readouterr().out
    assert "heart_rate.csv: 4 rows, 4 new" in out
    assert run(config_file, "export", str(tmp_path / "out"), "--person", "Ana") == 0
    assert (tmp_path / "out" / "sessions.csv").read_text() == FILES["sessions.csv"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["person", "add", "X", "--tz", "Mars/Base"], "unknown IANA time zone"),
        (["person", "add", "X", "--tz", "UTC", "--user", "nobody"], "no user named 'nobody'"),
        (["import", "/nonexistent.csv", "--person", "Ana"], "no such file"),
        (["import", "/tmp", "--person", "Nobody"], "no person 'Nobody'"),
        (["export", "/tmp/x", "--person", "Ana", "--from", "2027-02-01", "--to", "2027-01-01"], "--to is before"),
    ],
)
def test_user_mistakes_are_messages_not_tracebacks(config_file: Path, capsys, args, message) -> None:
    run(config_file, "init")
    run(config_file, "person", "add", "Ana", "--tz", "UTC")
    capsys.readouterr()
    assert run(config_file, *args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_bad_row_exits_2_and_other_files_import(config_file: Path, tmp_path: Path, capsys) -> None:
    run(config_file, "init")
    run(config_file, "person", "add", "Ana", "--tz", "UTC")
    files = dict(FILES)
    files["rr_intervals.csv"] = "timestamp,rr_ms\n2027-03-28T10:00:00Z,abc\n"
    src = _write(tmp_path / "in", files)
    capsys.readouterr()
    assert run(config_file, "import", str(src), "--person", "Ana") == 2
    captured = capsys.readouterr()
    assert f"{src / 'rr_intervals.csv'}:2: rr_ms 'abc' is not a number" in captured.err
    assert "heart_rate.csv: 4 rows, 4 new" in captured.out


def test_missing_schema_tells_to_init(config_file: Path, capsys) -> None:
    assert run(config_file, "person", "list") == 2
    assert "tracker init" in capsys.readouterr().err


def test_console_script_bad_config_key(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[web]\nprot = 1\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "tracker", "--config", str(cfg), "person", "list"], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "unknown key [web] prot" in proc.stderr and "Traceback" not in proc.stderr
