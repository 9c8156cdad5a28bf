"""Loads a person's samples and sessions, closes the database scope, then calls the pure analysis.

Nights (sleep, nightly resting HR and lnRMSSD), per-session capture windows (the capture plan's, from
[capture]: by default the 5 minutes before the start and the 5 minutes starting 5 minutes after the end;
RR inside them counts whatever its source), and the evidence report. Derived nightly summaries are
stored in `night_summary` by `rebuild_nights` and can always be recomputed from the samples.

The dashboard's services (`overview`, `session_detail`, `session_series`, `sleep`, `evidence`) return
frozen dataclasses of plain values, never ORM objects; each reads only the time range its page needs.
Conventions they add:
- Overview trend: mean of the last 7 recorded nights minus the mean of the 7 before them.
- Nights after a session: lag 1-3 from the session day (`analysis.report.session_day`), each night
  against the person's own previous 28 nights (`analysis.effects.rolling_baseline`: median, MAD scale,
  scored with ≥ 7 past nights). The percent difference of lnRMSSD is the change of RMSSD itself,
  100·(e^Δ − 1), since a percentage of a logarithm means nothing.
- Session chart: instantaneous HR = 60000/RR of artefact-free beats; rolling lnRMSSD over the last
  `ROLLING_BEATS` beats, only over successive valid pairs, never across a recording gap, and only when
  ≥ 2/3 of the window's pairs are valid.
- Evidence: each claim with its metrics' rows (acute: massage minus rest when rest sessions exist, else
  massage; nights: the primary lag, its adjusted estimate). MDE and "sessions still needed" come from
  the report's rows (`analysis.power`, `analysis.adjusted`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sqlalchemy as sa
import sqlalchemy.orm as so

from tracker.analysis import hrv
from tracker.analysis.artifacts import artefact_mask, gate_rr, valid_pairs
from tracker.analysis.claims import CLAIMS
from tracker.analysis.effects import (
    BASELINE_MIN_PAST_NIGHTS,
    BASELINE_WINDOW_NIGHTS,
    rolling_baseline,
)
from tracker.analysis.report import (
    NIGHT_LAGS,
    AcuteRow,
    NightRow,
    Report,
    ReportInputs,
    SessionInput,
    WindowSummary,
    build_report,
    session_day,
)
from tracker.analysis.sleep import HR_WINDOW_MS, HRV_WINDOW_MS, Night, night_series, night_window_ms, summarize_nights
from tracker.clock import Clock
from tracker.config import Config
from tracker.devices import CaptureInfo, DeviceInfo, Devices
from tracker.model import SessionStatus, SleepSpan, Stage
from tracker.people import PersonInfo, People
from tracker.sessions import SessionInfo, Sessions
from tracker.queries import fetch_tuples, rows_to_arrays
from tracker.sources import choose_source, one_source_per_day
from tracker.storage.models import HeartRateRow, MassageSession, NightSummary, RRRow, SleepRow

MINUTE_MS = 60_000
DAY_MS = 24 * 60 * MINUTE_MS
OVERVIEW_NIGHTS = 14
TREND_NIGHTS = 7  # overview trend: last 7 recorded nights vs the 7 before
SLEEP_NIGHTS = 14  # hypnograms on the Sleep page
SLEEP_WEEKS = 12  # weekly totals on the Sleep page
ROLLING_BEATS = 30
ROLLING_MIN_VALID_SHARE = 2 / 3
BEAT_GAP_MS = 5_000  # beats further apart than their RR plus this are a gap in the recording
DEVICE_HR_GAP_MS = 11 * MINUTE_MS  # a 5-minute log missing two readings in a row is a gap
EVIDENCE_TTL_MS = 60_000

# (metric, label, unit) shown for nights on the overview and the session page.
NIGHT_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("tst_min", "Total sleep", "min"),
    ("sleep_efficiency_pct", "Efficiency", "%"),
    ("resting_hr_bpm", "Resting HR", "bpm"),
    ("ln_rmssd_night", "lnRMSSD", "ln(ms)"),
    ("deep_min", "Deep (device estimate)", "min"),
    ("rem_min", "REM (device estimate)", "min"),
)
TREND_METRICS = ("tst_min", "sleep_efficiency_pct", "resting_hr_bpm", "ln_rmssd_night")


@dataclass(frozen=True, slots=True)
class Window:
    """One capture window's summary computed from stored RR."""

    start_ms: int
    end_ms: int
    beats: int
    hr_bpm: float | None
    ln_rmssd: float | None
    flagged_pct: float | None
    coverage_pct: float | None
    quality_ok: bool

    def summary(self) -> WindowSummary:
        return WindowSummary(hr_bpm=self.hr_bpm, ln_rmssd=self.ln_rmssd, quality_ok=self.quality_ok)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass(frozen=True, slots=True)
class MetricTrend:
    metric: str
    label: str
    unit: str
    recent_mean: float | None  # the last TREND_NIGHTS recorded nights
    previous_mean: float | None  # the TREND_NIGHTS before those
    change: float | None  # recent − previous


@dataclass(frozen=True, slots=True)
class Overview:
    person_id: int
    tz: str
    nights: tuple[Night, ...]  # the last OVERVIEW_NIGHTS recorded nights, oldest first
    trends: tuple[MetricTrend, ...]
    sessions: tuple[SessionInfo, ...]  # done and planned sessions during those nights (chart marks)
    next_session: SessionInfo | None
    next_captures: tuple[CaptureInfo, ...]
    devices: tuple[DeviceInfo, ...]  # the person's paired devices
    # night label → done sessions on the day before it (its lag-1 sessions, `session_day` rule)
    sessions_before: dict[dt.date, tuple[SessionInfo, ...]] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MetricVsBaseline:
    metric: str
    label: str
    unit: str
    value: float | None
    baseline_median: float | None  # median of the 28 nights before (None with < 7 of them)
    n_past: int
    difference: float | None  # value − baseline median
    pct_difference: float | None  # see module docstring for lnRMSSD
    z: float | None  # difference / (1.4826·MAD)


@dataclass(frozen=True, slots=True)
class NightVsBaseline:
    lag: int
    label: dt.date
    recorded: bool
    metrics: tuple[MetricVsBaseline, ...]


@dataclass(frozen=True, slots=True)
class SessionDetail:
    session: SessionInfo
    pre: Window
    post: Window
    captures: tuple[CaptureInfo, ...]
    following: tuple[NightVsBaseline, ...]  # lags 1, 2, 3
    chart_start_ms: int
    chart_end_ms: int


@dataclass(frozen=True, slots=True, eq=False)
class Series:
    """One chart series at full resolution; NaN marks a value that does not exist (flagged beat)."""

    key: str
    name: str
    unit: str
    t_ms: np.ndarray  # int64, ascending
    values: np.ndarray  # float64
    gap_ms: int  # consecutive points further apart than this are not joined by a line


@dataclass(frozen=True, slots=True, eq=False)
class SessionSeries:
    session: SessionInfo
    start_ms: int
    end_ms: int
    pre: Window
    post: Window
    series: tuple[Series, ...]


@dataclass(frozen=True, slots=True)
class NightStages:
    night: Night
    segments: tuple[SleepSpan, ...]  # device stage estimates in [bed_start_ms, bed_end_ms), merged


@dataclass(frozen=True, slots=True)
class WeekTotals:
    iso_year: int
    iso_week: int
    first_day: dt.date  # Monday
    nights: int
    tst_min: float | None  # means over the week's recorded nights
    sleep_efficiency_pct: float | None
    deep_min: float | None
    rem_min: float | None


@dataclass(frozen=True, slots=True)
class SleepView:
    person_id: int
    tz: str
    nights: tuple[NightStages, ...]  # oldest first
    weeks: tuple[WeekTotals, ...]  # oldest first


@dataclass(frozen=True, slots=True)
class ClaimMetric:
    ref: str  # "family.metric"
    family: str  # "acute" | "nights"
    metric: str
    kind: str | None  # acute rows: "massage" | "massage_minus_rest"; nights: None
    lag: int | None
    n: int
    verdict: str
    effect: float | None  # mean change (acute) or difference vs control nights (nights), metric units
    ci95: tuple[float, float] | None
    mde: float | None  # metric units
    sessions_needed: int | None


@dataclass(frozen=True, slots=True)
class ClaimView:
    key: str
    claim: str
    verdict: str
    explanation: str
    sources: tuple[str, ...]
    measurable: bool  # False: the app's data cannot address it at all
    unmeasured_reason: str | None
    metrics: tuple[ClaimMetric, ...]


@dataclass(frozen=True, slots=True)
class Evidence:
    report: Report
    claims: tuple[ClaimView, ...]
    computed_ms: int
    cached: bool = False

    def to_dict(self) -> dict[str, object]:
        return self.report.to_dict()


class Reports:
    def __init__(self, sessionmaker: so.sessionmaker[so.Session], people: People, sessions: Sessions,
                 cfg: Config, clock: Clock, devices: Devices | None = None) -> None:  # fmt: skip
        self._db = sessionmaker
        self._people = people
        self._sessions = sessions
        self._cfg = cfg
        self._clock = clock
        # Only reads (device list, captures) go through it, so a private instance on the same database
        # is equivalent to the shared one when the composition root does not pass it.
        self._devices = devices if devices is not None else Devices(sessionmaker, clock)
        self._evidence_cache: dict[int, tuple[tuple[Any, ...], int, Evidence]] = {}
        self._cache_lock = threading.Lock()

    # -- loading ----------------------------------------------------------------------------------

    def _series(self, model: type[RRRow] | type[HeartRateRow], value: sa.ColumnElement[Any], person_id: int,
                start_ms: int, end_ms: int) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
        where = (model.person_id == person_id, model.t_ms >= start_ms, model.t_ms < end_ms)
        with self._db() as db:
            choice = choose_source(db, model, model.t_ms, person_id, start_ms, end_ms)  # one source per period
            if choice is None:
                return rows_to_arrays([])
            if choice.others and end_ms - start_ms > DAY_MS:  # several sources over days: choose per day
                rows = fetch_tuples(db, sa.select(model.t_ms, value, model.device_key).where(*where).order_by(model.t_ms))
                return rows_to_arrays(one_source_per_day(rows))
            # Through the Core connection: the ORM's row processing would double the cost of a big range.
            rows = fetch_tuples(
                db,
                sa.select(model.t_ms, value).where(*where, model.device_key == choice.device_key).order_by(model.t_ms),
            )
        return rows_to_arrays(rows)

    def rr(self, person_id: int, start_ms: int, end_ms: int) -> tuple[np.ndarray, np.ndarray]:
        """(t_ms, rr_ms) of the person's stored RR intervals in [start_ms, end_ms)."""
        return self._series(RRRow, RRRow.rr_ms, person_id, start_ms, end_ms)

    def heart_rate_5min(self, person_id: int, start_ms: int, end_ms: int) -> tuple[np.ndarray, np.ndarray]:
        """Clock-aligned 5-minute mean heart rate (window start t_ms, bpm), averaged in the database.

        The nightly resting HR is the lowest clock-aligned 5-minute mean during sleep (analysis.sleep), so
        the database can do the averaging: 5x fewer rows to move than the 1-minute samples of a night.
        A window counts for a night when its start lies in the sleep period.
        """
        window = (HeartRateRow.t_ms // HR_WINDOW_MS) * HR_WINDOW_MS
        with self._db() as db:
            choice = choose_source(db, HeartRateRow, HeartRateRow.t_ms, person_id, start_ms, end_ms)
            if choice is None:
                return rows_to_arrays([])
            per_day = bool(choice.others) and end_ms - start_ms > DAY_MS  # several sources over days
            where = [HeartRateRow.person_id == person_id, HeartRateRow.t_ms >= start_ms, HeartRateRow.t_ms < end_ms]
            if not per_day:
                where.append(HeartRateRow.device_key == choice.device_key)
            cols = [window.label("w"), sa.func.avg(HeartRateRow.bpm)] + ([HeartRateRow.device_key] if per_day else [])
            groups = [sa.literal_column("w")] + ([HeartRateRow.device_key] if per_day else [])
            stmt = sa.select(*cols).where(*where).group_by(*groups).order_by(sa.literal_column("w"))
            rows = fetch_tuples(db, stmt)
            return rows_to_arrays(one_source_per_day(rows) if per_day else rows)

    def heart_rate(self, person_id: int, start_ms: int, end_ms: int) -> tuple[np.ndarray, np.ndarray]:
        """(t_ms, bpm) of the person's stored heart-rate samples in [start_ms, end_ms)."""
        return self._series(HeartRateRow, HeartRateRow.bpm, person_id, start_ms, end_ms)

    def sleep_spans(self, person_id: int, start_ms: int | None = None, end_ms: int | None = None) -> list[SleepSpan]:
        with self._db() as db:
            # spans that started up to a day before the range still reach into it
            lo = None if start_ms is None else start_ms - DAY_MS
            choice = choose_source(db, SleepRow, SleepRow.start_ms, person_id, lo, end_ms)
            if choice is None:
                return []
            per_day = bool(choice.others)  # several sources: each night from one (tracker.sources)
            stmt = sa.select(SleepRow.start_ms, SleepRow.end_ms, SleepRow.stage, SleepRow.device_key).where(
                SleepRow.person_id == person_id
            )
            if not per_day:
                stmt = stmt.where(SleepRow.device_key == choice.device_key)
            if start_ms is not None:
                stmt = stmt.where(SleepRow.end_ms > start_ms)
            if end_ms is not None:
                stmt = stmt.where(SleepRow.start_ms < end_ms)
            rows = [tuple(r) for r in db.execute(stmt.order_by(SleepRow.start_ms))]
        chosen = one_source_per_day(rows) if per_day else [r[:-1] for r in rows]
        return [SleepSpan(s, e, Stage(stage)) for s, e, stage in chosen]

    # -- nights -----------------------------------------------------------------------------------

    def nights(self, person_id: int) -> tuple[Night, ...]:
        """Every night with sleep data, with nightly resting HR and lnRMSSD where samples exist."""
        spans = self.sleep_spans(person_id)
        if not spans:
            return ()
        lo, hi = spans[0].start_ms, max(s.end_ms for s in spans)
        hr_t, hr_bpm = self.heart_rate(person_id, lo, hi)
        rr_t, rr_ms = self.rr(person_id, lo, hi)
        return _summarize(spans, self._people.get(person_id).tz, hr_t, hr_bpm, rr_t, rr_ms)

    def rebuild_nights(self, person_id: int) -> int:
        nights = self.nights(person_id)
        now_ms = self._clock.now_ms()
        with self._db.begin() as db:
            db.execute(sa.delete(NightSummary).where(NightSummary.person_id == person_id))
            for n in nights:
                metrics = {k: _clean(v) for k, v in dataclasses.asdict(n).items() if k != "label"}
                db.add(NightSummary(person_id=person_id, night=n.label.isoformat(),
                                    metrics_json=json.dumps(metrics), computed_ms=now_ms))  # fmt: skip
        return len(nights)

    # -- sessions ---------------------------------------------------------------------------------

    def windows(self, session: SessionInfo) -> tuple[Window, Window]:
        """The pre and post windows of the capture plan, from whatever RR is stored in them."""
        c = self._cfg.capture
        pre = (session.start_ms - round(c.pre_min * MINUTE_MS), session.start_ms)
        post_start = session.end_ms + round(c.post_delay_min * MINUTE_MS)
        post = (post_start, post_start + round(c.post_min * MINUTE_MS))
        return self._window(session.person_id, *pre), self._window(session.person_id, *post)

    def _window(self, person_id: int, start_ms: int, end_ms: int) -> Window:
        _t, rr_ms = self.rr(person_id, start_ms, end_ms)
        window_s = (end_ms - start_ms) / 1000
        if len(rr_ms) < 2:
            return Window(start_ms, end_ms, len(rr_ms), None, None, None, 0.0 if len(rr_ms) == 0 else None, False)
        gate = gate_rr(rr_ms, window_s=window_s)
        valid = gate.valid
        c = self._cfg.capture
        ok = bool(gate.flagged_pct <= c.max_artifact_pct and gate.coverage_pct >= c.min_coverage_pct)
        return Window(
            start_ms, end_ms, len(rr_ms), hrv.mean_hr_bpm(rr_ms, valid), hrv.ln_rmssd(rr_ms, valid),
            round(gate.flagged_pct, 2), round(gate.coverage_pct, 1), ok,
        )  # fmt: skip

    # -- the report -------------------------------------------------------------------------------

    def report_inputs(self, person: PersonInfo) -> ReportInputs:
        sessions = self._sessions.list(person.id, statuses=[SessionStatus.DONE])
        inputs = []
        for s in sessions:
            pre, post = self.windows(s)
            f = s.fields
            inputs.append(
                SessionInput(
                    start_ms=f.start_ms, end_ms=f.end_ms, kind=f.kind, technique=f.technique, pressure=f.pressure,
                    pain_before=f.pain_before, pain_after=f.pain_after, stress_before=f.stress_before,
                    stress_after=f.stress_after, mood_before=f.mood_before, mood_after=f.mood_after,
                    pre=pre.summary(), post=post.summary(),
                )  # fmt: skip
            )
        nights = self.nights(person.id)
        series = night_series(nights)
        today = dt.datetime.fromtimestamp(self._clock.now_ms() / 1000, dt.timezone.utc).date()
        first = series.labels[0] if series.labels else today
        last = series.labels[-1] if series.labels else today
        return ReportInputs(person=person.name, timezone=person.tz, period_start=first, period_end=last,
                            sessions=tuple(inputs), nights=series)  # fmt: skip

    def report(self, person_id: int) -> Report:
        person = self._people.get(person_id)
        a = self._cfg.analysis
        report = build_report(self.report_inputs(person), primary_metric=a.primary_metric, primary_lag=a.primary_lag)
        from tracker.trials import Trials  # issue 9 items 6-7: adds `trial` and `primary_endpoint_history`

        return Trials(self._db, self._sessions, self._people, self, self._cfg, self._clock).attach(report, person_id)

    # -- dashboard services -----------------------------------------------------------------------
    # Each loads what one page needs, leaves the database scope, then calls pure code; each returns
    # frozen dataclasses of plain values (SessionInfo, CaptureInfo, DeviceInfo and Night are plain too).

    def recent_nights(self, person_id: int, count: int = OVERVIEW_NIGHTS) -> tuple[Night, ...]:
        """The last `count` nights with sleep data (loads only their neighbourhood, not the whole history)."""
        tz = self._people.get(person_id).tz
        with self._db() as db:
            last_end_ms = db.scalar(sa.select(sa.func.max(SleepRow.end_ms)).where(SleepRow.person_id == person_id))
        if last_end_ms is None:
            return ()
        # Two days of slack either side: a main period may start the evening before its night's window.
        start_ms = int(last_end_ms) - (count + 2) * DAY_MS
        return self.nights_between(person_id, tz, start_ms, int(last_end_ms) + 1)[-count:]

    def nights_between(self, person_id: int, tz: str, start_ms: int, end_ms: int) -> tuple[Night, ...]:
        """Nights from the sleep spans overlapping [start_ms, end_ms) (a night at an edge may be partial)."""
        spans = self.sleep_spans(person_id, start_ms, end_ms)
        if not spans:
            return ()
        lo, hi = spans[0].start_ms, max(s.end_ms for s in spans)
        hr_t, hr_bpm = self.heart_rate_5min(person_id, lo, hi)
        rr_t, rr_ms = self.rr(person_id, lo, hi)
        return _summarize(spans, tz, hr_t, hr_bpm, rr_t, rr_ms)

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
            person_id=person_id, tz=person.tz, nights=nights, trends=_trends(nights), sessions=tuple(marks),
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
        lo, _ = night_window_ms(first, info.tz)
        _, hi = night_window_ms(labels[-1], info.tz)
        nights = self.nights_between(info.person_id, info.tz, lo - DAY_MS, hi + DAY_MS)
        return SessionDetail(
            session=info, pre=pre, post=post, captures=captures,
            following=_against_baseline(nights, labels, first), chart_start_ms=pre.start_ms, chart_end_ms=post.end_ms,
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
        with self._db() as db:
            last_end_ms = db.scalar(sa.select(sa.func.max(SleepRow.end_ms)).where(SleepRow.person_id == person_id))
        if last_end_ms is None:
            return SleepView(person_id, person.tz, (), ())
        start_ms = int(last_end_ms) - (weeks * 7 + 9) * DAY_MS  # whole ISO weeks plus slack for the first night
        spans = self.sleep_spans(person_id, start_ms, int(last_end_ms) + 1)
        # Weekly totals need only the stages; heart rate and HRV are loaded for the recent nights alone
        # (12 weeks of 1-minute heart rate would dominate the page's time).
        empty_t, empty_v = np.empty(0, dtype=np.int64), np.empty(0)
        stage_nights = _summarize(spans, person.tz, empty_t, empty_v, empty_t, empty_v)
        recent_full = self.recent_nights(person_id, count)
        recent = tuple(NightStages(n, _segments(spans, n.bed_start_ms, n.bed_end_ms)) for n in recent_full)
        return SleepView(person_id, person.tz, recent, _weekly(stage_nights)[-weeks:])

    # -- evidence (cached) ------------------------------------------------------------------------

    def _fingerprint(self, person_id: int) -> tuple[Any, ...]:
        """Cheap summary of everything the report reads: counts and latest times (index lookups only)."""
        s, sl = MassageSession, SleepRow
        stmt = sa.select(
            sa.select(sa.func.count(s.id)).where(s.person_id == person_id).scalar_subquery(),
            sa.select(sa.func.max(s.updated_ms)).where(s.person_id == person_id).scalar_subquery(),
            sa.select(sa.func.count()).select_from(sl).where(sl.person_id == person_id).scalar_subquery(),
            sa.select(sa.func.max(sl.end_ms)).where(sl.person_id == person_id).scalar_subquery(),
            sa.select(sa.func.max(RRRow.t_ms)).where(RRRow.person_id == person_id).scalar_subquery(),
            sa.select(sa.func.max(HeartRateRow.t_ms)).where(HeartRateRow.person_id == person_id).scalar_subquery(),
        )
        with self._db() as db:
            return tuple(db.execute(stmt).one())

    def evidence(self, person_id: int) -> Evidence:
        """The report with each claim joined to its effect rows; cached (see `EVIDENCE_TTL_MS`).

        The cache keeps one report per person for up to 60 s, and only while the person's data
        fingerprint is unchanged (number and last update of sessions, number and end of sleep spans,
        latest RR and heart-rate sample): the report runs thousands of permutations and bootstrap draws,
        so reloading the page must not redo them, but a new session or sync shows at once.
        """
        key = self._fingerprint(person_id)
        now_ms = self._clock.now_ms()
        with self._cache_lock:
            hit = self._evidence_cache.get(person_id)
        if hit is not None and hit[0] == key and now_ms - hit[1] < EVIDENCE_TTL_MS:
            return dataclasses.replace(hit[2], cached=True)
        result = _evidence(self.report(person_id), now_ms)
        with self._cache_lock:
            self._evidence_cache[person_id] = (key, now_ms, result)
        return result


# -- pure helpers of the dashboard services (no database) -------------------------------------------


def _summarize(spans: Sequence[SleepSpan], tz: str, hr_t: np.ndarray, hr_bpm: np.ndarray,
               rr_t: np.ndarray, rr_ms: np.ndarray) -> tuple[Night, ...]:  # fmt: skip
    win_t = win_ln = win_ok = None
    if len(rr_t) > 1:
        windows = hrv.windowed_ln_rmssd(rr_t, rr_ms, HRV_WINDOW_MS)
        win_t, win_ln, win_ok = windows.window_start_ms, windows.ln_rmssd, windows.quality_ok
        if len(hr_t) == 0:  # no separate heart-rate samples: use the windows' mean HR
            ok = np.asarray(windows.quality_ok, dtype=bool)
            hr_t = np.asarray(windows.window_start_ms)[ok]
            hr_bpm = np.asarray(windows.mean_hr_bpm)[ok]
    return summarize_nights(
        spans, tz, hr_t_ms=hr_t if len(hr_t) else None, hr_bpm=hr_bpm if len(hr_t) else None,
        hrv_window_t_ms=win_t, hrv_ln_rmssd=win_ln, hrv_quality_ok=win_ok,
    )  # fmt: skip


def _mean(values: Sequence[float | None]) -> float | None:
    finite = [float(v) for v in values if v is not None and math.isfinite(v)]
    return sum(finite) / len(finite) if finite else None


def _trends(nights: Sequence[Night]) -> tuple[MetricTrend, ...]:
    recent, previous = nights[-TREND_NIGHTS:], nights[-2 * TREND_NIGHTS : -TREND_NIGHTS]
    out = []
    for metric, label, unit in NIGHT_COLUMNS:
        if metric not in TREND_METRICS:
            continue
        a = _mean([getattr(n, metric) for n in recent])
        b = _mean([getattr(n, metric) for n in previous])
        out.append(MetricTrend(metric, label, unit, a, b, None if a is None or b is None else a - b))
    return tuple(out)


def _num(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def _against_baseline(nights: Sequence[Night], labels: Sequence[dt.date], first: dt.date) -> tuple[NightVsBaseline, ...]:
    """Each night in `labels` scored against the 28 nights before it (calendar from `first`)."""
    series = night_series(nights, first=first, last=labels[-1])
    by_label = {n.label: n for n in nights}
    out = []
    for lag, label in zip(NIGHT_LAGS, labels, strict=True):
        t = (label - first).days
        rows = []
        for metric, name, unit in NIGHT_COLUMNS:
            y = np.asarray(series.metrics[metric], dtype=np.float64)
            base = rolling_baseline(y)
            n_past = int(base.n_past[t])
            value = _num(y[t])
            median = _num(base.median[t]) if n_past >= BASELINE_MIN_PAST_NIGHTS else None
            diff = None if value is None or median is None else value - median
            pct = None
            if diff is not None:
                if metric == "ln_rmssd_night":
                    pct = 100.0 * (math.exp(diff) - 1.0)
                elif median:
                    pct = 100.0 * diff / median
            rows.append(MetricVsBaseline(metric, name, unit, value, median, n_past, diff, pct, _num(base.z[t])))
        out.append(NightVsBaseline(lag, label, label in by_label, tuple(rows)))
    return tuple(out)


def beat_series(t_ms: np.ndarray, rr_ms: np.ndarray, beats: int = ROLLING_BEATS,
                gap_ms: int = BEAT_GAP_MS) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """(instantaneous HR in bpm, rolling lnRMSSD) per beat; NaN where a value does not exist.

    The rolling window ending at beat i holds beats i−beats+1 .. i; it counts the successive differences
    whose two beats are valid (artefact gate) and lie in one stretch of recording, and needs
    ≥ ROLLING_MIN_VALID_SHARE of its beats−1 pairs. Cumulative sums keep it one vectorised pass.
    """
    t = np.asarray(t_ms, dtype=np.float64)
    rr = np.asarray(rr_ms, dtype=np.float64)
    n = rr.size
    if n == 0:
        return np.empty(0), np.empty(0)
    valid = artefact_mask(rr)
    hr = np.where(valid, 60000.0 / np.where(rr > 0, rr, np.nan), np.nan)
    rolling = np.full(n, np.nan)
    if n < 2 or beats < 2:
        return hr, rolling
    # A new stretch starts where the time between beats is much longer than the interval itself.
    breaks = np.r_[False, np.diff(t) > rr[1:] + gap_ms]
    segment = np.cumsum(breaks)
    pair_ok = valid_pairs(valid) & ~breaks[1:]  # pair (i-1, i) stored at index i-1
    d2 = np.where(pair_ok, np.diff(rr) ** 2, 0.0)
    c_d2 = np.r_[0.0, np.cumsum(d2)]
    c_ok = np.r_[0, np.cumsum(pair_ok)]
    end = np.arange(beats - 1, n)  # window ending at beat `end` holds pairs end-beats+1 .. end-1
    lo = end - (beats - 1)
    same = segment[end] == segment[lo]
    count = c_ok[end] - c_ok[lo]
    sums = c_d2[end] - c_d2[lo]
    enough = same & (count >= math.ceil(ROLLING_MIN_VALID_SHARE * (beats - 1)))
    with np.errstate(divide="ignore", invalid="ignore"):
        rmssd = np.sqrt(sums / count)
        ln = np.where(enough & (rmssd > 0), np.log(rmssd), np.nan)
    rolling[end] = ln
    return hr, rolling


def _segments(spans: Sequence[SleepSpan], start_ms: int, end_ms: int) -> tuple[SleepSpan, ...]:
    """Spans clipped to [start_ms, end_ms), touching spans of one stage merged (fewer shapes to draw)."""
    out: list[SleepSpan] = []
    for s in spans:
        a, b = max(s.start_ms, start_ms), min(s.end_ms, end_ms)
        if b <= a:
            continue
        if out and out[-1].stage == s.stage and out[-1].end_ms >= a:
            out[-1] = SleepSpan(out[-1].start_ms, max(b, out[-1].end_ms), s.stage)
        else:
            out.append(SleepSpan(a, b, Stage(s.stage)))
    return tuple(out)


def _weekly(nights: Sequence[Night]) -> tuple[WeekTotals, ...]:
    weeks: dict[tuple[int, int], list[Night]] = {}
    for n in nights:
        year, week, _ = n.label.isocalendar()
        weeks.setdefault((year, week), []).append(n)
    return tuple(
        WeekTotals(
            iso_year=y, iso_week=w, first_day=dt.date.fromisocalendar(y, w, 1), nights=len(ns),
            tst_min=_mean([n.tst_min for n in ns]), sleep_efficiency_pct=_mean([n.sleep_efficiency_pct for n in ns]),
            deep_min=_mean([n.deep_min for n in ns]), rem_min=_mean([n.rem_min for n in ns]),
        )  # fmt: skip
        for (y, w), ns in sorted(weeks.items())
    )


def _evidence(report: Report, now_ms: int) -> Evidence:
    has_rest = report.n_rest > 0
    acute_kind = "massage_minus_rest" if has_rest else "massage"
    acute: dict[str, AcuteRow] = {r.metric: r for r in report.acute if r.kind == acute_kind}
    nights: dict[str, NightRow] = {r.metric: r for r in report.nights_after if r.lag == report.primary_lag}
    views = []
    for claim, assessed in zip(CLAIMS, report.claims, strict=True):
        rows = []
        for ref in claim.metrics:
            if ref.family == "acute":
                a = acute.get(ref.metric)
                if a is None:  # e.g. blood pressure without cuff readings: no row at all
                    rows.append(ClaimMetric(ref.label(), ref.family, ref.metric, acute_kind, None, 0,
                                            "not measured", None, None, None, None))  # fmt: skip
                    continue
                rows.append(ClaimMetric(ref.label(), ref.family, ref.metric, a.kind, None, a.n, str(a.verdict),
                                        a.mean_change, a.ci95, a.mde, a.sessions_needed))  # fmt: skip
            else:
                nr = nights.get(ref.metric)
                if nr is None:
                    rows.append(ClaimMetric(ref.label(), ref.family, ref.metric, None, report.primary_lag, 0,
                                            "not measured", None, None, None, None))  # fmt: skip
                    continue
                rows.append(ClaimMetric(ref.label(), ref.family, ref.metric, None, nr.lag, nr.n_massage,
                                        str(nr.verdict), nr.adjusted_difference, nr.ci95, nr.mde, nr.sessions_needed))  # fmt: skip
        views.append(
            ClaimView(
                key=claim.key, claim=assessed.claim, verdict=str(assessed.verdict), explanation=assessed.explanation,
                sources=assessed.sources, measurable=bool(claim.metrics), unmeasured_reason=claim.unmeasured_reason,
                metrics=tuple(rows),
            )  # fmt: skip
        )
    return Evidence(report=report, claims=tuple(views), computed_ms=now_ms)
