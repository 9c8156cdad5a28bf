"""`tracker run` (the one-process service: web + scheduler + Bluetooth) and `tracker demo`."""

from __future__ import annotations

import argparse
import logging
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType

from tracker.config import BleConfig, Config, DatabaseConfig, PathsConfig, SyncConfig, WebConfig
from tracker.storage.db import make_engine, upgrade_schema

from .service import Service

logger = logging.getLogger(__name__)


def serve(service: Service, host: str, port: int, *, ready_lines: list[str] | None = None) -> int:
    """Start the service, serve the dashboard until Ctrl-C or SIGTERM, then stop everything in order."""
    import waitress

    from web import create_app

    app = create_app(service.tracker)
    server = waitress.create_server(app, host=host, port=port, threads=service.cfg.web.threads)

    # waitress's loop ends on KeyboardInterrupt; the finally below tears down
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        bound_port = server.effective_port  # type: ignore[union-attr]
        print(f"url: http://{host}:{bound_port}/", flush=True)
        for line in ready_lines or []:
            print(line, flush=True)
        server.run()
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.close()
        service.stop()
    return 0


def cmd_run(cfg: Config, args: argparse.Namespace) -> int:
    web = cfg.web
    host = args.host or web.host
    port = web.port if args.port is None else args.port
    if host not in ("127.0.0.1", "localhost", "::1") and not args.host:
        logger.warning("the dashboard listens on %s, reachable from other machines", host)
    service = Service(cfg)
    service.start()
    return serve(service, host, port)


def demo_config(cfg: Config, data_dir: Path, port: int | None) -> Config:
    """The demo's own database and emulated radio; everything else from the normal config."""
    return cfg.replace(
        database=DatabaseConfig(url="", sqlite_busy_timeout_ms=cfg.database.sqlite_busy_timeout_ms),
        paths=PathsConfig(str(data_dir)),
        ble=BleConfig(backend="bumble", transport="emulator", scan_s=3.0, request_timeout_s=5.0, connect_attempts=4),
        sync=SyncConfig(interval_min=cfg.sync.interval_min, jitter_s=cfg.sync.jitter_s, first_sync_days=56,
                        retry_backoff_s=cfg.sync.retry_backoff_s),  # fmt: skip
        web=WebConfig(host=cfg.web.host, port=cfg.web.port if port is None else port, threads=cfg.web.threads,
                      login_attempts_per_15min=cfg.web.login_attempts_per_15min),  # fmt: skip
        base_dir=data_dir,
    )


def cmd_demo(cfg: Config, args: argparse.Namespace) -> int:
    from .demo import build_demo

    started = time.monotonic()
    temporary = not args.data_dir
    data_dir = Path(tempfile.mkdtemp(prefix="tracker-demo-")) if temporary else Path(args.data_dir).resolve()
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)  # building takes seconds: clean up then too
    try:
        dcfg = demo_config(cfg, data_dir, args.port)
        engine = make_engine(dcfg.database_url)
        upgrade_schema(engine)
        engine.dispose()
        demo = build_demo(dcfg, seed=args.seed)
        print(f"demo ready in {time.monotonic() - started:.1f} s (data in {data_dir})", file=sys.stderr, flush=True)
        return serve(demo.service, dcfg.web.host, dcfg.web.port,
                     ready_lines=[f"user: {demo.user}", f"password: {demo.password}"])  # fmt: skip
    finally:
        signal.signal(signal.SIGTERM, previous)
        if temporary:  # the demo's database is throwaway unless --data-dir asked to keep it
            shutil.rmtree(data_dir, ignore_errors=True)


def _raise_interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("run", help="serve the dashboard, run scheduled captures and syncs (one process)")
    p.add_argument("--host", help="address to listen on (default: [web] host, 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default: [web] port, 8000)")
    p.set_defaults(handler=cmd_run)
    p = sub.add_parser("demo", help="the whole service on emulated devices with 8 weeks of simulated history")
    p.add_argument("--port", type=int, help="port (default: [web] port; 0 picks a free one)")
    p.add_argument("--data-dir", help="keep the demo's database here (default: a temporary directory)")
    p.add_argument("--seed", type=int, default=1, help="seed of the simulated person")
    p.set_defaults(handler=cmd_demo)
