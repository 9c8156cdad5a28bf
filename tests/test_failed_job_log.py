"""`tracker run` logs exactly one line per failed job; the traceback only at debug level."""

from __future__ import annotations

import datetime as dt
import logging
import time

from tracker.cli.scheduling import ApsJobPort
from tracker.config import Config
from tracker.storage.db import make_engine, upgrade_schema


def failing_job(device_id: int) -> None:
    raise RuntimeError(f"device {device_id} did not answer\nsecond line of detail")


def _run_failing_job(config: Config) -> None:
    engine = make_engine(config.database_url)
    upgrade_schema(engine)
    port = ApsJobPort(engine, config)
    port.start()
    try:
        now = dt.datetime.now(dt.timezone.utc)
        port.scheduler.add_job(failing_job, "date", run_date=now, id="sync-7", kwargs={"device_id": 7})
        deadline = time.monotonic() + 10
        while port.scheduler.get_job("sync-7") is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # the executor emits its event right after the job returns
    finally:
        port.shutdown()
        engine.dispose()


def test_failed_job_is_one_line_at_info(config: Config, caplog) -> None:
    caplog.set_level(logging.INFO)
    _run_failing_job(config)
    failed = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(failed) == 1, [r.getMessage() for r in failed]
    line = failed[0].getMessage()
    assert "\n" not in line and failed[0].exc_info is None
    assert "sync-7" in line and "RuntimeError: device 7 did not answer" in line
    assert "Traceback" not in caplog.text


def test_traceback_is_logged_at_debug(config: Config, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    _run_failing_job(config)
    debug = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG and "traceback" in r.getMessage()]
    assert len(debug) == 1 and "Traceback" in debug[0] and "failing_job" in debug[0]
    assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) == 1
