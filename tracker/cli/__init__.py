"""The `tracker` command: the composition root, and the only package that imports tracker, device and web.

Each submodule registers one group of subcommands; handlers are thin calls into services.

Startup cost: the parser knows every command's name and one-line help from `COMMANDS` below and imports
only the module of the command being run, so `tracker --version` and `tracker --help` import none of
scipy, bleak, bumble, APScheduler, Flask or SQLAlchemy (tests/tracker/test_cli_startup.py guards it, and
checks that `COMMANDS` agrees with what the modules register).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from tracker import __version__

# command → (module under tracker.cli that registers it, its one-line help), in the order of `--help`.
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("data", "create the database schema, or upgrade it keeping the data"),
    "user": ("data", "accounts that sign in to the dashboard"),
    "token": ("data", "API tokens for scripts"),
    "person": ("data", "people whose data is tracked"),
    "import": ("data", "import CSV files, a Gadgetbridge database, an Apple Health export or FIT files"),
    "export": ("data", "export a person's data as CSV files (the four importable ones and device_metrics.csv)"),
    "session": ("session_cmd", "massage and rest-control sessions"),
    "jobs": ("session_cmd", "scheduled jobs and their next run"),
    "runs": ("session_cmd", "recent sync, capture and import runs"),
    "scan": ("ble_cmd", "list nearby heart-rate straps and rings"),
    "pair": ("ble_cmd", "connect, read device information and battery, store the device"),
    "devices": ("ble_cmd", "paired devices, battery and last sync"),
    "unpair": ("ble_cmd", "stop syncing a device (its data is kept)"),
    "capture": ("ble_cmd", "a live heart-rate/RR window from a Heart Rate Service device"),
    "sync": ("ble_cmd", "pull stored history (ring: heart-rate log, sleep, battery; sets its clock)"),
    "emulate": ("ble_cmd", "run an emulated strap, ring or band on a bumble transport"),
    "hrv": ("report_cmd", "HRV of an RR series (ms; one per line, or a CSV with an rr_ms column)"),
    "report": ("report_cmd", "does massage change your heart rate, HRV, sleep, pain, mood?"),
    "trial": ("trial_cmd", "a fair test: randomise massage vs rest across weekly slots"),
    "nights": ("nights_cmd", "stored nightly summaries (rebuild them from the samples)"),
    "run": ("serve_cmd", "serve the dashboard, run scheduled captures and syncs (one process)"),
    "demo": ("serve_cmd", "the whole service on emulated devices with 8 weeks of simulated history"),
}


# Thread pools of the numerical libraries numpy and scipy link (OpenBLAS, or MKL/OpenMP builds).
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def single_threaded_blas() -> None:
    """One BLAS thread per process unless the environment says otherwise; call before numpy is imported
    (OpenBLAS reads the variable once, when it loads).

    Why: the analysis multiplies and decomposes small matrices (nights × ~15 columns), where OpenBLAS's
    worker threads only spin: on the clinic data set (benchmarks/web.py) a cold 2-year Evidence report took
    1.1 s CPU with them and 0.78 s without, and at 5 years their SVDs were 3.9 s of a 22 s profile. The web
    server already answers requests on several threads of its own.
    """
    for name in BLAS_THREAD_VARIABLES:
        os.environ.setdefault(name, "1")


def command_modules() -> list[str]:
    """Every module that registers commands, in `--help` order."""
    return list(dict.fromkeys(module for module, _help in COMMANDS.values()))


def _load(module: str) -> ModuleType:
    return importlib.import_module(f"tracker.cli.{module}")


def _command_of(argv: Sequence[str]) -> str | None:
    """The subcommand named in `argv` (the first word that is not a global option or its value)."""
    skip = False
    for word in argv:
        if skip:
            skip = False
        elif word == "--config":
            skip = True
        elif not word.startswith("-"):
            return word
    return None


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; only `command`'s module is imported (all of them for a name `COMMANDS` lacks).

    Other commands are registered as placeholders with their help line, enough for `tracker --help`.
    """
    parser = argparse.ArgumentParser(
        prog="tracker",
        description="Self-hosted massage and wellness tracker: wearables, sessions, and honest statistics.",
    )
    parser.add_argument("--version", action="version", version=f"tracker {__version__}")
    parser.add_argument("--config", type=Path, help="config file (default: $TRACKER_CONFIG or ./config.toml)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    if command is None:
        wanted: set[str] = set()
    elif command in COMMANDS:
        wanted = {COMMANDS[command][0]}
    else:  # unknown here: a module may register it, else argparse names the valid choices
        wanted = set(command_modules())
    registered: set[str] = set()
    for name, (module, help_text) in COMMANDS.items():
        if module in wanted:
            if module not in registered:
                _load(module).register(sub)
                registered.add(module)
        else:
            sub.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    single_threaded_blas()  # before a command's module can import numpy
    parser = build_parser(_command_of(argv))
    args = parser.parse_args(argv)
    # Imported after parsing: --help and --version need none of this (SQLAlchemy, numpy).
    from tracker.config import ConfigError, load_config
    from tracker.errors import UserError
    from tracker.storage.db import DatabaseError

    try:
        cfg = load_config(args.config)
        logging.basicConfig(
            level=cfg.log.level, format="%(asctime)s %(name)s %(levelname)s: %(message)s", stream=sys.stderr
        )
        for noisy in ("alembic", "apscheduler"):  # their INFO lines are noise on a command line
            logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
        return int(args.handler(cfg, args) or 0)
    except (UserError, ConfigError, DatabaseError) as exc:
        print(f"tracker: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("tracker: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1
    except Exception as exc:  # a full disk or a database that went away is said plainly, not as a traceback
        from tracker.storage import failures

        message = failures.describe(exc)
        if message is None:
            raise
        print(f"tracker: error: {message}", file=sys.stderr)
        return 3


def run() -> None:
    sys.exit(main())
