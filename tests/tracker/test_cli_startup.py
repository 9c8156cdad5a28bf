"""The CLI starts at once: building the parser imports no heavy library (checked in sys.modules, not timed)."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest

from tracker.cli import COMMANDS, build_parser, command_modules

HEAVY = ("scipy", "bleak", "bumble", "apscheduler", "flask", "sqlalchemy", "waitress", "alembic")


def _loaded_after(code: str) -> list[str]:
    """Heavy top-level packages in sys.modules after running `code` in a fresh interpreter."""
    script = (
        "import sys, json\n"
        f"{code}\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_building_the_parser_imports_no_heavy_library() -> None:
    assert _loaded_after("from tracker.cli import build_parser; build_parser()") == []


@pytest.mark.parametrize("argv", [["--version"], ["--help"], ["--config", "x.toml", "--help"]])
def test_version_and_help_import_no_heavy_library(argv: list[str]) -> None:
    code = f"from tracker.cli import main\ntry:\n    main({argv!r})\nexcept SystemExit:\n    pass"
    assert _loaded_after(code) == []


def test_a_data_command_does_not_import_the_analysis_or_the_outer_layers() -> None:
    # `tracker import` needs the database, not scipy (the report), bleak, APScheduler or Flask.
    loaded = _loaded_after("from tracker.cli import build_parser; build_parser('import')")
    assert set(loaded) <= {"sqlalchemy", "alembic"}
    code = (
        "from tracker.config import load_config\nfrom tracker.bootstrap import build_tracker\n"
        "import tempfile, pathlib\nd = pathlib.Path(tempfile.mkdtemp())\n"
        "(d / 'c.toml').write_text('[paths]\\ndata_dir = \"' + str(d) + '\"\\n')\n"
        "t = build_tracker(load_config(d / 'c.toml'), require_schema=False)"
    )
    assert "scipy" not in _loaded_after(code)


def test_help_lists_every_command() -> None:
    text = build_parser().format_help()
    for name, (_module, help_text) in COMMANDS.items():
        assert name in text and help_text[:30] in " ".join(text.split())


def test_the_command_table_agrees_with_what_the_modules_register() -> None:
    import importlib

    for module in command_modules():
        parser = argparse.ArgumentParser()
        sub = parser.add_subparsers()
        importlib.import_module(f"tracker.cli.{module}").register(sub)
        registered = {a.dest: a.help for a in sub._choices_actions}
        expected = {name: h for name, (m, h) in COMMANDS.items() if m == module}
        assert registered == expected, module


def test_the_chosen_command_is_fully_registered() -> None:
    args = build_parser("export").parse_args(["export", "out", "--person", "Ann"])
    assert callable(args.handler) and args.person == "Ann"
    with pytest.raises(SystemExit):  # an unknown command still gets argparse's message
        build_parser("nonsense").parse_args(["nonsense"])


def test_an_idle_service_has_not_loaded_scipy() -> None:
    # `tracker run` imports the web app, the scheduler and the collector; the analysis (scipy, ~140 MB of
    # resident memory with scipy.stats and scipy.signal) waits for the first report or HRV request.
    loaded = _loaded_after("import tracker.cli.serve_cmd, tracker.cli.service, web, web.api, web.sessions, web.dashboard")
    assert "scipy" not in loaded and "flask" in loaded and "apscheduler" in loaded
