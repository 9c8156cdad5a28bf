"""The dashboard's read services: each loads what one page needs, leaves the database scope, calls pure code.

`Reports` answers the pages (`overview`, `session_detail`, `session_series`, `sleep`, `evidence`), the
API and `tracker report`, and returns the frozen dataclasses of tracker.report_views (SessionInfo,
CaptureInfo, DeviceInfo and Night are plain values too). Every page reads a bounded range:

- nights come from the stored nightly summaries (tracker.nights.NightStore: one row per night,
  recomputed only where samples changed), never from a history of raw samples;
- a session's page reads the RR and heart rate between its pre window's start and post window's end;
- the Evidence report reads the stored nights and the stored capture-window summaries, computing only
  the missing windows from their beats (tracker.evidence, tracker.capture_windows, tracker.window_store),
  and is cached under a key of data versions (tracker.data_versions) rather than for a time.

Conventions of the views: tracker.night_views (trends, nights after a session, weeks), tracker.session_chart
(the session chart), tracker.capture_windows (windows and their quality gate).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from typing import Any

import numpy as np
import sqlalchemy.orm as so

from tracker import data_versions, endpoints
from tracker.analysis.effects import BASELINE_WINDOW_NIGHTS
from tracker.analysis.report import NIGHT_LAGS, Report, ReportInputs, build_report, session_day
from tracker.analysis.sleep import Night, night_label, night_window_ms
from tracker.capture_windows import Window, session_windows
from tracker.clock import Clock
from tracker.config import Config
from tracker.devices import Devices
from tracker.evidence import EvidenceCache, claim_views, report_inputs
from tracker.model import SessionStatus, SleepSpan
from tracker.night_views import against_baseline, segments, trends, weekly
from tracker.nights import NightStore
from tracker.people import People, PersonInfo
from tracker.report_views import (  # noqa: F401  (re-exported: web/ and tests import them from here)
    NIGHT_COLUMNS,
    TREND_METRICS,
    ClaimMetric,
    ClaimView,
    Evidence,
    MetricTrend,
    MetricVsBaseline,
    NightStages,
    NightVsBaseline,
    Overview,
    Series,
    SessionDetail,
    SessionSeries,
    SleepView,
    WeekTotals,
)
from tracker.samples import SampleReader
from tracker.session_chart import BEAT_GAP_MS, DEVICE_HR_GAP_MS, ROLLING_BEATS, beat_series  # noqa: F401
from tracker.sessions import SessionInfo, Sessions

DAY_MS = 86_400_000
OVERVIEW_NIGHTS = 14
SLEEP_NIGHTS = 14  # hypnograms on the Sleep page
SLEEP_WEEKS = 12  # weekly totals on the Sleep page


class Reports:
    def __init__(self, sessionmaker: so.sessionmaker[so.Session], people: People, sessions: Sessions,
                 cfg: Config, clock: Clock, devices: Devices | None = None,
                 night_store: NightStore | None = None) -> None:  # fmt: skip
        self._db = sessionmaker
        self._people = people
        self._sessions = sessions
        self._cfg = cfg
        self._clock = clock
        # Only reads (device list, captures) go through it, so a private instance on the same database
        # is equivalent to the shared one when the composition root does not pass it. The same holds for
        # the night store, except that the evidence cache then sees only this instance's refreshes
        # in-process (other changes still move the database versions).
        self._devices = devices if devices is not None else Devices(sessionmaker, clock)
        self._nights = night_store if night_store is not None else NightStore(sessionmaker, clock)
        self._samples = SampleReader(sessionmaker)
        self._evidence_cache = EvidenceCache()
        self._session_changes: dict[int, int] = {}  # person → session changes seen by the listener
        self._changes_lock = threading.Lock()
        sessions.listeners.append(self._on_session_change)

    def _on_session_change(self, info: SessionInfo, what: str) -> None:
        # Edits in the same millisecond leave `updated_ms` unchanged: count them here as well.
        with self._changes_lock:
            self._session_changes[info.person_id] = self._session_changes.get(info.person_id, 0) + 1

    # -- samples (bounded ranges; tracker.samples) ----------------------------------------------------

    def rr(self, person_id: int, start_ms: int, end_ms: int) -> tuple[np.ndarray, np.ndarray]:
        """(t_ms, rr_ms) of the person's stored RR intervals in [start_ms, end_ms), one source."""
        return self._samples.rr(person_id, start_ms, end_ms)

    def heart_rate(self, person_id: int, start_ms: int, end_ms: int) -> tuple[np.ndarray, np.ndarray]:
        """(t_ms, bpm) of the person's stored heart-rate samples in [start_ms, end_ms), one source."""
        return self._samples.heart_rate(person_id, start_ms, end_ms)

    def heart_rate_5min(self, person_id: int, start_ms: int, end_ms: int) -> tuple[np.ndarray, np.ndarray]:
        return self._samples.heart_rate_5min(person_id, start_ms, end_ms)

    def sleep_spans(self, person_id: int, start_ms: int | None = None, end_ms: int | None = None) -> list[SleepSpan]:
        return self._samples.sleep_spans(person_id, start_ms, end_ms)

    # -- nights (stored summaries; tracker.nights) -----------------------------------------------------

    def nights(self, person_id: int, first: dt.date | None = None, last: dt.date | None = None) -> tuple[Night, ...]:
        """Stored nights labelled `first` … `last` (None: unbounded), oldest first."""
        return self._nights.nights(person_id, first, last)

    def recent_nights(self, person_id: int, count: int = OVERVIEW_NIGHTS) -> tuple[Night, ...]:
        """The last `count` stored nights, oldest first."""
        return self._nights.recent(person_id, count)

    def nights_between(self, person_id: int, tz: str, start_ms: int, end_ms: int) -> tuple[Night, ...]:
        """Stored nights whose labels fall in [start_ms, end_ms) (a night is labelled by its morning)."""
        return self._nights.nights(person_id, night_label(start_ms, tz), night_label(end_ms - 1, tz))

    def rebuild_nights(self, person_id: int) -> int:
        return self._nights.rebuild(person_id)

    # -- capture windows (tracker.capture_windows) -------------------------------------------------

    def windows(self, session: SessionInfo) -> tuple[Window, Window]:
        """The pre and post windows of the capture plan, from whatever RR is stored in them."""
        return session_windows(self._db, self._cfg.capture, [session], self._clock.now_ms())[0]

    def windows_of(self, sessions: list[SessionInfo]) -> list[tuple[Window, Window]]:
        """(pre, post) of each of one person's sessions, in a bounded number of queries."""
        return session_windows(self._db, self._cfg.capture, sessions, self._clock.now_ms())

    # -- the report -------------------------------------------------------------------------------

    def report_inputs(self, person: PersonInfo) -> ReportInputs:
        sessions = self._sessions.list(person.id, statuses=[SessionStatus.DONE])
        today = dt.datetime.fromtimestamp(self._clock.now_ms() / 1000, dt.timezone.utc).date()
        return report_inputs(person, sessions, self.windows_of(sessions), self._nights.arrays(person.id), today)

    def report(self, person_id: int) -> Report:
        person = self._people.get(person_id)
        a = self._cfg.analysis
        report = build_report(self.report_inputs(person), primary_metric=a.primary_metric, primary_lag=a.primary_lag)
        from tracker.trials import Trials  # issue 9 items 6-7: adds `trial` and `primary_endpoint_history`

        return Trials(self._db, self._sessions, self._people, self, self._cfg, self._clock).attach(report, person_id)

    def evidence_key(self, person_id: int) -> tuple[Any, ...]:
        """Everything the report reads, as versions (tracker.data_versions); pending night marks are
        consumed first, so a sync or an undo since the last report changes the key."""
        self._nights.refresh(person_id)
        person = self._people.get(person_id)
        now_ms = self._clock.now_ms()
        a = self._cfg.analysis
        with self._db.begin() as db:
            # The report records the endpoint in use when it is new (tracker.endpoints); doing it first keeps
            # the report's own write out of the key it is stored under.
            endpoints.record(db, person_id, a.primary_metric, a.primary_lag, now_ms)
            versions = data_versions.evidence_versions(db, person_id, now_ms)
        # Without nights the report's period is today's date (analysis.report): then the day counts too.
        today = None if versions.nights else dt.datetime.fromtimestamp(now_ms / 1000, dt.timezone.utc).date()
        return (versions, self._nights.generation(person_id), self._session_changes.get(person_id, 0),
                person.name, person.tz, self._cfg.analysis, self._cfg.capture, today)  # fmt: skip

    def evidence(self, person_id: int) -> Evidence:
        """The report with each claim joined to its effect rows; cached while `evidence_key` is unchanged."""
        key = self.evidence_key(person_id)  # before loading: a change during the computation shows next time
        hit = self._evidence_cache.get(person_id, key)
        if hit is not None:
            return dataclasses.replace(hit, cached=True)
        report = self.report(person_id)
        result = Evidence(report=report, claims=claim_views(report), computed_ms=self._clock.now_ms())
        self._evidence_cache.put(person_id, key, result)
        return result

    # -- dashboard pages --------------------------------------------------------------------------

    def overview(self, person_id: int) -> Overview:
        """Recent nights and their trend, sessions to mark on the chart, the next session, the devices."""
        person = self._people.get(person_id)
        now_ms = self._clock.now_ms()
        nights = self.recent_nights(person_id, OVERVIEW_NIGHTS)
        marks: list[SessionInfo] = []
        if nights:
            lo, _ = night_window_ms(nights[0].label, person.tz)
            _, hi = night_window_ms(nights[-1].label, person.tz)
            marks = self._sessions.list(person_id, statuses=[SessionStatus.DONE, SessionStatus.PLANNED],
                                        from_ms=lo - DAY_MS, to_ms=hi)  # fmt: skip  # the first night's day before
        upcoming = self._sessions.list(person_id, statuses=[SessionStatus.PLANNED], from_ms=now_ms, limit=1)
        following = upcoming[0] if upcoming else None
        captures = tuple(self._devices.captures(session_id=following.id)) if following else ()
        devices = tuple(d for d in self._devices.list() if d.person_id == person_id)
        before: dict[dt.date, tuple[SessionInfo, ...]] = {}
        for s in marks:
            if s.status == SessionStatus.DONE:
                label = session_day(s.end_ms, person.tz) + dt.timedelta(days=1)
                before[label] = (*before.get(label, ()), s)
        return Overview(
            person_id=person_id, tz=person.tz, nights=nights, trends=trends(nights), sessions=tuple(marks),
            next_session=following, next_captures=captures, devices=devices, sessions_before=before,
        )  # fmt: skip

    def session_detail(self, session_id: int, user_id: int | None = None) -> SessionDetail:
        """Pre/post windows, captures, and the 1-3 nights after against the 28 nights before each."""
        info = self._sessions.get(session_id, user_id=user_id)
        pre, post = self.windows(info)
        captures = tuple(self._devices.captures(session_id=session_id))
        day = session_day(info.end_ms, info.tz)
        labels = [day + dt.timedelta(days=lag) for lag in NIGHT_LAGS]
        first = labels[0] - dt.timedelta(days=BASELINE_WINDOW_NIGHTS)
        nights = self._nights.nights(info.person_id, first, labels[-1])
        return SessionDetail(
            session=info, pre=pre, post=post, captures=captures,
            following=against_baseline(nights, labels, first), chart_start_ms=pre.start_ms, chart_end_ms=post.end_ms,
        )  # fmt: skip

    def session_series(self, session_id: int, user_id: int | None = None) -> SessionSeries:
        """The session chart's series from the pre window's start to the post window's end (full resolution).

        Instantaneous HR (60000/RR over artefact-free beats), lnRMSSD over rolling `ROLLING_BEATS`-beat
        windows (never across a gap in the recording), and the stored heart-rate samples (e.g. a ring's
        5-minute log) when there are any. The web layer downsamples them for the browser.
        """
        info = self._sessions.get(session_id, user_id=user_id)
        pre, post = self.windows(info)
        start_ms, end_ms = pre.start_ms, post.end_ms
        rr_t, rr_ms = self.rr(info.person_id, start_ms, end_ms)
        hr_t, hr_bpm = self.heart_rate(info.person_id, start_ms, end_ms)
        inst_hr, rolling = beat_series(rr_t, rr_ms)
        series = [
            Series("hr_beat", "Heart rate (beat to beat)", "bpm", rr_t, inst_hr, BEAT_GAP_MS),
            Series("ln_rmssd_rolling", f"lnRMSSD ({ROLLING_BEATS} beats)", "ln(ms)", rr_t, rolling, BEAT_GAP_MS),
        ]
        if len(hr_t):
            series.append(Series("hr_device", "Heart rate (device log)", "bpm", hr_t, hr_bpm, DEVICE_HR_GAP_MS))
        return SessionSeries(session=info, start_ms=start_ms, end_ms=end_ms, pre=pre, post=post, series=tuple(series))

    def sleep(self, person_id: int, count: int = SLEEP_NIGHTS, weeks: int = SLEEP_WEEKS) -> SleepView:
        """Stage segments of the last `count` nights (device estimates) and per-ISO-week means."""
        person = self._people.get(person_id)
        recent = self.recent_nights(person_id, count)
        if not recent:
            return SleepView(person_id, person.tz, (), ())
        # Weekly totals from the stored nights of the last weeks (whole ISO weeks plus a week of slack);
        # stage spans only for the recent nights' hypnograms.
        last = recent[-1].label
        stored = self._nights.nights(person_id, last - dt.timedelta(days=weeks * 7 + 7), last)
        spans = self.sleep_spans(person_id, min(n.bed_start_ms for n in recent), max(n.bed_end_ms for n in recent))
        shown = tuple(NightStages(n, segments(spans, n.bed_start_ms, n.bed_end_ms)) for n in recent)
        return SleepView(person_id, person.tz, shown, weekly(stored)[-weeks:])
