"""The evidence report's inputs, its claim views, and its cache keyed on data versions.

Inputs (`report_inputs`): the person's done sessions with their capture windows' summaries (stored per
window, tracker.window_store; missing ones from the beats inside their windows in a bounded number of
queries, tracker.capture_windows) and the stored nightly summaries as arrays on a continuous calendar
(tracker.nights), so a report reads one row per night and per window, never a whole history of samples.

Claim views (`claim_views`): each claim with its metrics' rows (acute: massage minus rest when rest
sessions exist, else massage; nights: the primary lag, its adjusted estimate). MDE and "sessions still
needed" come from the report's rows (`analysis.power`, `analysis.adjusted`).

Cache (`EvidenceCache`): the report runs thousands of permutations and bootstrap draws, so reloading the
page must not redo them, while any change of what it reads must show at once. Each person's report is
kept under a key of data versions (tracker.data_versions: index lookups, one round trip), not for a
time; least recently used people are dropped beyond `EVIDENCE_CACHE_PEOPLE`.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Hashable, Sequence

import numpy as np

from tracker.analysis.claims import CLAIMS
from tracker.analysis.report import AcuteRow, NightRow, Report, ReportInputs, SessionInput
from tracker.analysis.sleep import NIGHT_METRICS, NightSeries
from tracker.capture_windows import Window
from tracker.nights import NightArrays
from tracker.people import PersonInfo
from tracker.report_views import ClaimMetric, ClaimView, Evidence
from tracker.sessions import SessionInfo

EVIDENCE_CACHE_PEOPLE = 64  # reports kept in memory (a few tens of KB each)
# what analysis.sleep.night_series carries
_SERIES_METRICS = NIGHT_METRICS + ("time_in_bed_min", "sleep_onset_latency_min", "awakenings", "light_min")


def calendar_series(arrays: NightArrays) -> NightSeries:
    """Stored nights → one entry per label from the first to the last night, NaN for gaps (what
    `analysis.sleep.night_series` gives for the same nights, built from the arrays without Night objects)."""
    if not arrays.labels:
        return NightSeries(labels=(), metrics={k: np.empty(0) for k in _SERIES_METRICS})
    first = arrays.labels[0]
    count = (arrays.labels[-1] - first).days + 1
    index = np.fromiter(((d - first).days for d in arrays.labels), np.int64, len(arrays.labels))
    metrics = {}
    for k in _SERIES_METRICS:
        y = np.full(count, np.nan)
        y[index] = arrays.metrics[k]
        metrics[k] = y
    return NightSeries(labels=tuple(first + dt.timedelta(days=i) for i in range(count)), metrics=metrics)


def report_inputs(person: PersonInfo, sessions: Sequence[SessionInfo], windows: Sequence[tuple[Window, Window]],
                  nights: NightArrays, today: dt.date) -> ReportInputs:  # fmt: skip
    """The report's inputs from done sessions, their (pre, post) windows and the stored nights."""
    inputs = []
    for s, (pre, post) in zip(sessions, windows, strict=True):
        f = s.fields
        inputs.append(
            SessionInput(
                start_ms=f.start_ms, end_ms=f.end_ms, kind=f.kind, technique=f.technique, pressure=f.pressure,
                pain_before=f.pain_before, pain_after=f.pain_after, stress_before=f.stress_before,
                stress_after=f.stress_after, mood_before=f.mood_before, mood_after=f.mood_after,
                pre=pre.summary(), post=post.summary(),
            )  # fmt: skip
        )
    series = calendar_series(nights)
    first = series.labels[0] if series.labels else today
    last = series.labels[-1] if series.labels else today
    return ReportInputs(person=person.name, timezone=person.tz, period_start=first, period_end=last,
                        sessions=tuple(inputs), nights=series)  # fmt: skip


def claim_views(report: Report) -> tuple[ClaimView, ...]:
    """Each claim of `analysis.claims.CLAIMS` with the rows of the report that bear on it."""
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
    return tuple(views)


class EvidenceCache:
    """One report per person under its data-version key; least recently used people go first."""

    def __init__(self, max_people: int = EVIDENCE_CACHE_PEOPLE) -> None:
        self._max = max_people
        self._items: OrderedDict[int, tuple[Hashable, Evidence]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, person_id: int, key: Hashable) -> Evidence | None:
        with self._lock:
            hit = self._items.get(person_id)
            if hit is None or hit[0] != key:
                return None
            self._items.move_to_end(person_id)
            return hit[1]

    def put(self, person_id: int, key: Hashable, evidence: Evidence) -> None:
        with self._lock:
            self._items[person_id] = (key, evidence)
            self._items.move_to_end(person_id)
            while len(self._items) > self._max:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)
