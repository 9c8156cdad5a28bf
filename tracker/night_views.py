"""Pure helpers of the night views (overview trend, nights after a session, Sleep page); no database.

Conventions:
- Overview trend: mean of the last 7 recorded nights minus the mean of the 7 before them.
- Nights after a session: lag 1-3 from the session day (`analysis.report.session_day`), each night
  against the person's own previous 28 nights (`analysis.effects.rolling_baseline`: median, MAD scale,
  scored with ≥ 7 past nights). The percent difference of lnRMSSD is the change of RMSSD itself,
  100·(e^Δ − 1), since a percentage of a logarithm means nothing.
- Sleep page: stage segments clipped to the night's bed period, touching segments of one stage merged;
  weekly totals are means over the ISO week's recorded nights.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

import numpy as np

from tracker.analysis.effects import BASELINE_MIN_PAST_NIGHTS, rolling_baseline
from tracker.analysis.report import NIGHT_LAGS
from tracker.analysis.sleep import Night, night_series
from tracker.model import SleepSpan, Stage
from tracker.report_views import NIGHT_COLUMNS, TREND_METRICS, MetricTrend, MetricVsBaseline, NightVsBaseline, WeekTotals

TREND_NIGHTS = 7  # overview trend: last 7 recorded nights vs the 7 before


def mean_of(values: Sequence[float | None]) -> float | None:
    finite = [float(v) for v in values if v is not None and math.isfinite(v)]
    return sum(finite) / len(finite) if finite else None


def trends(nights: Sequence[Night]) -> tuple[MetricTrend, ...]:
    recent, previous = nights[-TREND_NIGHTS:], nights[-2 * TREND_NIGHTS : -TREND_NIGHTS]
    out = []
    for metric, label, unit in NIGHT_COLUMNS:
        if metric not in TREND_METRICS:
            continue
        a = mean_of([getattr(n, metric) for n in recent])
        b = mean_of([getattr(n, metric) for n in previous])
        out.append(MetricTrend(metric, label, unit, a, b, None if a is None or b is None else a - b))
    return tuple(out)


def _num(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def against_baseline(nights: Sequence[Night], labels: Sequence[dt.date], first: dt.date) -> tuple[NightVsBaseline, ...]:
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


def segments(spans: Sequence[SleepSpan], start_ms: int, end_ms: int) -> tuple[SleepSpan, ...]:
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


def weekly(nights: Sequence[Night]) -> tuple[WeekTotals, ...]:
    weeks: dict[tuple[int, int], list[Night]] = {}
    for n in nights:
        year, week, _ = n.label.isocalendar()
        weeks.setdefault((year, week), []).append(n)
    return tuple(
        WeekTotals(
            iso_year=y, iso_week=w, first_day=dt.date.fromisocalendar(y, w, 1), nights=len(ns),
            tst_min=mean_of([n.tst_min for n in ns]), sleep_efficiency_pct=mean_of([n.sleep_efficiency_pct for n in ns]),
            deep_min=mean_of([n.deep_min for n in ns]), rem_min=mean_of([n.rem_min for n in ns]),
        )  # fmt: skip
        for (y, w), ns in sorted(weeks.items())
    )
