"""Close the runs of processes that died (kill -9, a power cut, an out-of-memory kill).

A run is opened as `running` and closed by the process that opened it. When that process is gone, the run
would stay `running` forever and hide that part of its work was stored and part was not. Each run records
its owner ("host:pid"); a run whose owner is on this host and no longer alive is closed as `interrupted`,
with the counts of what it really stored (counted from the samples that carry its run id), and a message
that says what to do. Runs owned by another host (several machines on one PostgreSQL) are left alone:
this host cannot tell whether that process lives.

Called at the start of every command that opens the database (tracker.bootstrap) and by the service's
heartbeat job.
"""

from __future__ import annotations

import logging
import os
import socket

import sqlalchemy as sa
import sqlalchemy.orm as so

from tracker.clock import Clock
from tracker.model import RunKind, RunStatus
from tracker.storage.models import Device, HeartRateRow, RRRow, Run, SleepRow

logger = logging.getLogger(__name__)

_ADVICE = {
    str(RunKind.IMPORT): "the import was interrupted; run the same import again to complete it "
    "(imports are idempotent: rows already stored are not stored twice)",
    str(RunKind.SYNC): "the sync was interrupted; the next sync resumes from the last stored data",
}


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _dead_on_this_host(owner: str | None, host: str) -> bool:
    if not owner or ":" not in owner:
        return False
    owner_host, _, pid_text = owner.rpartition(":")
    if owner_host != host or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    return pid != os.getpid() and not pid_alive(pid)


def close_dead_runs(sessionmaker: so.sessionmaker[so.Session], clock: Clock) -> list[int]:
    """Close every `running` run whose process on this host is gone; return their ids."""
    host = socket.gethostname()
    closed: list[int] = []
    with sessionmaker.begin() as db:
        running = db.execute(sa.select(Run.id, Run.owner).where(Run.status == str(RunStatus.RUNNING))).all()
        dead = [run_id for run_id, owner in running if _dead_on_this_host(owner, host)]
        now_ms = clock.now_ms()
        for run_id in dead:
            # Lock the row and re-check, so two processes starting at once close it once.
            run = db.execute(sa.select(Run).where(Run.id == run_id).with_for_update()).scalar_one()
            if run.status != str(RunStatus.RUNNING):
                continue
            run.heart_rate_count = _count(db, HeartRateRow, run_id)
            run.rr_count = _count(db, RRRow, run_id)
            run.sleep_count = _count(db, SleepRow, run_id)
            run.status, run.ended_ms = str(RunStatus.INTERRUPTED), now_ms
            run.error = f"process {run.owner} ended without closing the run; " + _ADVICE.get(
                run.kind, "what it stored is kept"
            )
            if run.kind == str(RunKind.SYNC) and run.device_id is not None:
                dev = db.get(Device, run.device_id)
                if dev is not None and (dev.last_sync_ms or 0) <= run.started_ms:
                    dev.last_sync_ms, dev.last_sync_status = now_ms, str(RunStatus.INTERRUPTED)
            closed.append(run_id)
    if closed:
        logger.warning("closed %d run(s) of processes that died as interrupted: %s", len(closed), closed)
    return closed


def _count(db: so.Session, table: type[HeartRateRow] | type[RRRow] | type[SleepRow], run_id: int) -> int:
    return int(db.scalar(sa.select(sa.func.count()).select_from(table).where(table.run_id == run_id)) or 0)
