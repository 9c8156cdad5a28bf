"""The `tracker` command: the composition root, and the only package that imports tracker, device and web.

Each submodule registers one group of subcommands; handlers are thin calls into services.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from tracker import __version__
from tracker.config import ConfigError, load_config
from tracker.errors import UserError
from tracker.storage.db import DatabaseError

from . import data

COMMAND_MODULES = [data]


def _optional_modules() -> list[object]:
    """Command groups that arrive with later parts of the system; imported lazily to keep startup quick."""
    import importlib

    found = []
    for name in ("session_cmd", "ble_cmd", "report_cmd", "serve_cmd", "trial_cmd"):
        try:
            found.append(importlib.import_module(f"tracker.cli.{name}"))
        except ModuleNotFoundError as exc:
            if exc.name != f"tracker.cli.{name}":
                raise
    return found


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tracker",
        description="Self-hosted massage and wellness tracker: wearables, sessions, and honest statistics.",
    )
    parser.add_argument("--version", action="version", version=f"tracker {__version__}")
    parser.add_argument("--config", type=Path, help="config file (default: $TRACKER_CONFIG or ./config.toml)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in [*COMMAND_MODULES, *_optional_modules()]:
        module.register(sub)  # type: ignore[attr-defined]
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
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


def run() -> None:
    sys.exit(main())
