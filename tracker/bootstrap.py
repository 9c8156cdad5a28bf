"""The domain half of the composition root: builds the engine, sessionmaker and services from a Config.

`tracker.cli` adds the outer parts (collector, scheduler, web) and plugs them into the ports here.
Nothing is built at import time.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from tracker.clock import Clock, SystemClock
from tracker.config import Config
from tracker.device_metrics import DeviceMetrics
from tracker.devices import Devices
from tracker.import_runs import ImportRuns
from tracker.import_watches import ImportWatches
from tracker.ingest import Ingest
from tracker.interchange import Interchange
from tracker.nights import NightStore
from tracker.people import People, Users
from tracker.run_recovery import close_dead_runs
from tracker.sessions import Sessions
from tracker.storage.db import check_schema, make_engine, make_sessionmaker

if TYPE_CHECKING:
    from tracker.reports import Reports
    from tracker.trials import Trials


@dataclass
class Tracker:
    """Everything the outer layers use; one per process."""

    config: Config
    engine: sa.Engine
    sessionmaker: so.sessionmaker[so.Session]
    clock: Clock
    people: People
    users: Users
    ingest: Ingest
    sessions: Sessions
    interchange: Interchange
    devices: Devices
    nights: NightStore
    extras: dict[str, Any] = field(default_factory=dict)  # ports plugged in by the composition root
    _reports: Reports | None = field(default=None, repr=False)
    _trials: Trials | None = field(default=None, repr=False)
    _reports_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def reports(self) -> Reports:
        """Built on first use: the analysis imports scipy, which commands such as `tracker import` never need."""
        with self._reports_lock:
            if self._reports is None:
                from tracker.night_reports import StoredNightsReports

                self._reports = StoredNightsReports(self.sessionmaker, self.people, self.sessions, self.config,
                                                    self.clock, devices=self.devices, night_store=self.nights)  # fmt: skip
            return self._reports

    @property
    def trials(self) -> Trials:
        """n-of-1 trials; built on first use, like `reports`, which it analyses with."""
        reports = self.reports
        with self._reports_lock:
            if self._trials is None:
                from tracker.trials import Trials

                self._trials = Trials(self.sessionmaker, self.sessions, self.people, reports, self.config, self.clock)
            return self._trials

    def _on_session_change(self, info: Any, what: str) -> None:
        if what in ("cancelled", "updated"):  # only these can be trial deviations; others never load the analysis
            self.trials.on_session_change(info, what)

    def close(self) -> None:
        self.engine.dispose()

    @property
    def device_metrics(self) -> DeviceMetrics:
        """Values devices computed themselves, read back labelled (stateless, so built on demand)."""
        return DeviceMetrics(self.sessionmaker)

    @property
    def import_runs(self) -> ImportRuns:
        """Count and undo what an import stored (stateless, so built on demand)."""
        return ImportRuns(self.sessionmaker, self.clock)

    @property
    def import_watches(self) -> ImportWatches:
        """Paths people watch from the Data page, under `[import] watch_roots` as configured right now."""
        return ImportWatches(self.sessionmaker, self.clock, self.config.imports.root_paths(self.config.base_dir))


def build_tracker(cfg: Config, clock: Clock | None = None, *, require_schema: bool = True) -> Tracker:
    """Build the services on the configured database; with `require_schema`, fail unless it is up to date."""
    clock = clock or SystemClock()
    engine = make_engine(cfg.database_url, busy_timeout_ms=cfg.database.sqlite_busy_timeout_ms)
    if require_schema:
        try:
            check_schema(engine)
        except Exception:
            engine.dispose()
            raise
    db = make_sessionmaker(engine)
    if require_schema:  # runs left `running` by a process that died are closed before anything reads them
        close_dead_runs(db, clock)
    ingest = Ingest(db)
    sessions = Sessions(db, clock)
    people = People(db, clock)
    devices = Devices(db, clock)
    tracker = Tracker(
        config=cfg,
        engine=engine,
        sessionmaker=db,
        clock=clock,
        people=people,
        users=Users(db, clock),
        ingest=ingest,
        sessions=sessions,
        interchange=Interchange(db, ingest, sessions, clock),
        devices=devices,
        nights=NightStore(db, clock),
    )
    sessions.listeners.append(tracker._on_session_change)  # deviations of planned trial sessions
    return tracker
