"""What the dashboard services return: frozen dataclasses of plain values, never ORM objects.

`tracker.reports.Reports` builds them (overview, session detail and chart, sleep, evidence); the web layer
renders them. Window (a capture window's summary) lives in `tracker.capture_windows`, next to the code that
computes it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from tracker.analysis.sleep import Night
from tracker.capture_windows import Window
from tracker.devices import CaptureInfo, DeviceInfo
from tracker.model import SleepSpan
from tracker.sessions import SessionInfo

if TYPE_CHECKING:  # the analysis imports scipy, which a page without evidence never needs
    from tracker.analysis.report import Report

__all__ = [
    "NIGHT_COLUMNS", "TREND_METRICS", "ClaimMetric", "ClaimView", "Evidence", "MetricTrend", "MetricVsBaseline",
    "NightStages", "NightVsBaseline", "Overview", "Series", "SessionDetail", "SessionSeries", "SleepView",
    "WeekTotals", "Window",
]  # fmt: skip

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
    pct_difference: float | None  # see tracker.reports' docstring for lnRMSSD
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
