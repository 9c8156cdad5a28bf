"""A lease in the database that keeps a second `tracker run` (scheduler + collector) off the same data.

APScheduler cannot share a job store between processes, and two collectors would fight over the radio,
so exactly one process may hold the lease. It is a row renewed by a heartbeat; a holder that died
without releasing it loses it once the heartbeat is older than `stale_after_ms`. Works the same on
SQLite and PostgreSQL (a guarded UPDATE / an INSERT that fails on the primary key).
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable

import sqlalchemy as sa
import sqlalchemy.orm as so

from tracker.clock import Clock
from tracker.errors import Conflict
from tracker.storage.models import ServiceLock


def holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Lease:
    def __init__(self, sessionmaker: so.sessionmaker[so.Session], clock: Clock, name: str = "service",
                 holder: str | None = None, stale_after_ms: int = 90_000,
                 on_lost: Callable[[], None] | None = None) -> None:  # fmt: skip
        self._db = sessionmaker
        self._on_lost = on_lost
        self.lost = False
        self._clock = clock
        self.name = name
        self.holder = holder or holder_id()
        self._stale_after_ms = stale_after_ms

    def acquire(self) -> None:
        """Take the lease or raise Conflict naming the process that holds it."""
        now_ms = self._clock.now_ms()
        with self._db.begin() as db:
            taken = db.execute(
                sa.update(ServiceLock)
                .where(ServiceLock.name == self.name)
                .where(sa.or_(ServiceLock.holder == self.holder, ServiceLock.heartbeat_ms < now_ms - self._stale_after_ms))
                .values(holder=self.holder, heartbeat_ms=now_ms)
            ).rowcount
            if taken:
                return
            current = db.get(ServiceLock, self.name)
            if current is None:
                try:
                    with db.begin_nested():
                        db.add(ServiceLock(name=self.name, holder=self.holder, heartbeat_ms=now_ms))
                    return
                except sa.exc.IntegrityError:
                    current = db.get(ServiceLock, self.name)
            assert current is not None
            age_s = (now_ms - current.heartbeat_ms) / 1000
        raise Conflict(
            f"another tracker service ({current.holder}) is running on this database "
            f"(heartbeat {age_s:.0f} s ago); stop it first, or wait {self._stale_after_ms / 1000:.0f} s after it died"
        )

    def heartbeat(self) -> bool:
        """Renew; False if the lease was lost (another process took it after we stalled).

        A lost lease is never taken back: the other process now owns the job store and the radio. The
        first time the loss is seen, `on_lost` runs (the service stops its scheduler and collector).
        """
        if self.lost:
            return False
        with self._db.begin() as db:
            held = bool(
                db.execute(
                    sa.update(ServiceLock)
                    .where(ServiceLock.name == self.name, ServiceLock.holder == self.holder)
                    .values(heartbeat_ms=self._clock.now_ms())
                ).rowcount
            )
        if not held:
            self.lost = True
            if self._on_lost is not None:
                self._on_lost()
        return held

    def release(self) -> None:
        with self._db.begin() as db:
            db.execute(sa.delete(ServiceLock).where(ServiceLock.name == self.name, ServiceLock.holder == self.holder))
