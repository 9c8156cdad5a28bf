"""Nightly sleep summaries from device sleep spans, heart rate and HRV windows (pure).

Pure functions over `SleepSpan` records and numpy arrays: no database, no clock, no logging.
Times are UTC epoch milliseconds; the person's IANA zone only decides which night a time belongs to.

Conventions (science.md §5; every threshold is a keyword argument with the default stated here)

- Night: local noon to local noon, labelled by the local date of the morning it ends. The two noons are
  converted to UTC separately with `zoneinfo`, so nights around DST changes are 23 h or 25 h long.
- Sleep periods: sleep spans (every stage except AWAKE) are chained while the gap from the end of the
  period so far to the next sleep span is ≤ `gap_ms` (60 min, as in HDCZA's "gaps < 60 min merged");
  wake spans or missing data inside that gap stay inside the period. A period belongs to the night that
  contains its sleep onset. The main sleep period of a night is the period with the most sleep (ties:
  the earlier); every other period of that night is a nap, excluded from all metrics (its sleep
  minutes are reported as `nap_min`).
- Time in bed (TIB) runs from bed start to bed end. Bed start = the start of the earliest wake span
  that overlaps the `max_edge_wake_ms` (60 min) before sleep onset (clipped to that limit), else the
  sleep onset. Bed end likewise from the wake spans after the final awakening. The limit exists because a
  wrist device may label a whole evening or morning "awake".
- Sleep onset latency (SOL) = bed start → start of the first sleep span (of any length: devices smooth
  their stages, so no "≥ N consecutive minutes" rule is applied).
- Sleep period time (SPT) = sleep onset → end of the last sleep span (final awakening).
- TST = summed duration of the sleep spans of the main period. WASO = summed duration of wake spans
  inside SPT. Unscored gaps (no span at all) count as neither sleep nor wake.
- Sleep efficiency = TST / TIB · 100.
- Awakenings = wake bouts inside SPT lasting ≥ `min_awakening_ms` (1 min; touching wake spans form
  one bout). PSG counts single 30-s epochs; consumer devices vary.
- Stage minutes (light/deep/rem) only when the device itself gave stages (`stages_from_device`); we
  never derive stages ourselves. Spans of stage ASLEEP count towards TST only.
- Nightly resting HR = the lowest mean HR over clock-aligned 5-min windows inside SPT, using windows
  with ≥ `min_hr_samples` samples (default 1, so devices that log HR every 5 min still get a value).
- Nightly lnRMSSD = mean of the per-5-min-window lnRMSSD values whose window lies entirely inside SPT
  and passed the quality gate (windows come from `tracker.analysis.hrv`).
- HR and HRV need a sleep period: a night with heart data but no sleep spans gets no `Night`.
Spans are assumed not to overlap one another.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import ArrayLike, NDArray

from tracker.model import SleepSpan, Stage

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS
DEFAULT_GAP_MS = 60 * MINUTE_MS
DEFAULT_MAX_EDGE_WAKE_MS = 60 * MINUTE_MS
DEFAULT_MIN_AWAKENING_MS = 1 * MINUTE_MS
HR_WINDOW_MS = 5 * MINUTE_MS
HRV_WINDOW_MS = 5 * MINUTE_MS

# Names used by the nights analysis (`effects`, `report`).
NIGHT_METRICS: tuple[str, ...] = (
    "ln_rmssd_night",
    "resting_hr_bpm",
    "tst_min",
    "sleep_efficiency_pct",
    "waso_min",
    "deep_min",
    "rem_min",
)

_STAGE_CODES = {Stage.AWAKE: 0, Stage.LIGHT: 1, Stage.DEEP: 2, Stage.REM: 3, Stage.ASLEEP: 4}


def _zone(tz: str | ZoneInfo) -> ZoneInfo:
    return tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)


def _local_noon_ms(day: date, zone: ZoneInfo) -> int:
    return int(datetime.combine(day, time(12, 0), tzinfo=zone).timestamp() * 1000)


def night_label(t_ms: int, tz: str | ZoneInfo) -> date:
    """The night containing the instant `t_ms`: the local date of the noon that ends it."""
    local = datetime.fromtimestamp(t_ms / 1000, tz=_zone(tz))
    return local.date() + timedelta(days=1) if local.hour >= 12 else local.date()


def night_window_ms(label: date, tz: str | ZoneInfo) -> tuple[int, int]:
    """UTC [start_ms, end_ms) of the night labelled `label`: local noon the day before → local noon."""
    zone = _zone(tz)
    return _local_noon_ms(label - timedelta(days=1), zone), _local_noon_ms(label, zone)


def night_labels(t_ms: ArrayLike, tz: str | ZoneInfo) -> NDArray[np.datetime64]:
    """Vectorised `night_label`: one zone lookup per calendar day spanned, then a binary search."""
    t = np.asarray(t_ms, dtype=np.int64)
    if t.size == 0:
        return np.empty(0, dtype="datetime64[D]")
    zone = _zone(tz)
    first = night_label(int(t.min()), zone)
    last = night_label(int(t.max()), zone)
    n = (last - first).days + 1
    labels = [first + timedelta(days=i) for i in range(n)]
    # ends[i] = the noon that ends night labels[i]; night of t = first label whose end is > t.
    ends = np.array([_local_noon_ms(d, zone) for d in labels], dtype=np.int64)
    pos = np.searchsorted(ends, t, side="right")
    return np.datetime64(first, "D") + pos.astype("timedelta64[D]")


@dataclass(frozen=True, slots=True)
class Night:
    """One night's main sleep period and its metrics (None = not available)."""

    label: date  # local date of the morning the night ends
    bed_start_ms: int
    bed_end_ms: int
    sleep_onset_ms: int
    sleep_end_ms: int  # end of the last sleep span (final awakening)
    time_in_bed_min: float
    sleep_onset_latency_min: float
    tst_min: float
    sleep_efficiency_pct: float
    waso_min: float
    awakenings: int
    stages_from_device: bool
    light_min: float | None
    deep_min: float | None
    rem_min: float | None
    nap_min: float  # sleep in other periods of the same night (excluded from the metrics above)
    resting_hr_bpm: float | None = None
    ln_rmssd_night: float | None = None
    n_hrv_windows: int = 0


@dataclass(frozen=True, slots=True, eq=False)
class NightSeries:
    """Nights as parallel arrays: `labels[i]` and `metrics[name][i]` (NaN = missing)."""

    labels: tuple[date, ...]
    metrics: Mapping[str, NDArray[np.float64]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Period:
    onset_ms: int
    end_ms: int
    sleep_ms: int
    first: int  # index range [first, last] into the sorted sleep spans
    last: int


def _sleep_periods(s_start: NDArray[np.int64], s_end: NDArray[np.int64], gap_ms: int) -> list[_Period]:
    if s_start.size == 0:
        return []
    run_end = np.maximum.accumulate(s_end)
    breaks = np.empty(s_start.size, dtype=bool)
    breaks[0] = True
    breaks[1:] = s_start[1:] - run_end[:-1] > gap_ms
    firsts = np.flatnonzero(breaks)
    lasts = np.append(firsts[1:] - 1, s_start.size - 1)
    dur = s_end - s_start
    sums = np.add.reduceat(dur, firsts)
    return [
        _Period(int(s_start[f]), int(run_end[la]), int(sm), int(f), int(la))
        for f, la, sm in zip(firsts, lasts, sums, strict=True)
    ]


def _overlap_ms(a0: NDArray[np.int64], a1: NDArray[np.int64], lo: int, hi: int) -> NDArray[np.int64]:
    return np.clip(np.minimum(a1, hi) - np.maximum(a0, lo), 0, None)


def summarize_nights(
    spans: Iterable[SleepSpan],
    tz: str | ZoneInfo,
    *,
    hr_t_ms: ArrayLike | None = None,
    hr_bpm: ArrayLike | None = None,
    hrv_window_t_ms: ArrayLike | None = None,
    hrv_ln_rmssd: ArrayLike | None = None,
    hrv_quality_ok: ArrayLike | None = None,
    gap_ms: int = DEFAULT_GAP_MS,
    max_edge_wake_ms: int = DEFAULT_MAX_EDGE_WAKE_MS,
    min_awakening_ms: int = DEFAULT_MIN_AWAKENING_MS,
    min_hr_samples: int = 1,
    hrv_window_ms: int = HRV_WINDOW_MS,
) -> tuple[Night, ...]:
    """One `Night` per night that has a sleep period, sorted by label (conventions: module docstring).

    Heart data are optional arrays: `hr_t_ms`/`hr_bpm` samples, and per-window HRV values
    (`hrv_window_t_ms` = window start, `hrv_ln_rmssd`, `hrv_quality_ok`), as produced by the HRV module.
    """
    zone = _zone(tz)
    ordered = sorted(spans, key=lambda s: (s.start_ms, s.end_ms))
    if not ordered:
        return ()
    start = np.fromiter((s.start_ms for s in ordered), dtype=np.int64, count=len(ordered))
    end = np.fromiter((s.end_ms for s in ordered), dtype=np.int64, count=len(ordered))
    code = np.fromiter((_STAGE_CODES[Stage(s.stage)] for s in ordered), dtype=np.int8, count=len(ordered))
    is_sleep = code != 0
    s_start, s_end, s_code = start[is_sleep], end[is_sleep], code[is_sleep]
    w_start, w_end = start[~is_sleep], end[~is_sleep]

    periods = _sleep_periods(s_start, s_end, gap_ms)
    if not periods:
        return ()
    onsets = np.array([p.onset_ms for p in periods], dtype=np.int64)
    labels = night_labels(onsets, zone)

    # Main period per night = most sleep; ties go to the earlier period (stable ordering).
    main_of: dict[np.datetime64, int] = {}
    nap_ms: dict[np.datetime64, int] = {}
    for i, (lab, per) in enumerate(zip(labels, periods, strict=True)):
        j = main_of.get(lab)
        if j is None or per.sleep_ms > periods[j].sleep_ms:
            main_of[lab] = i
        nap_ms[lab] = nap_ms.get(lab, 0) + per.sleep_ms
    mains = sorted(main_of.items())

    records: list[dict[str, object]] = []
    for lab, i in mains:
        per = periods[i]
        sl = slice(per.first, per.last + 1)
        tst_ms = per.sleep_ms
        codes = s_code[sl]
        durs = s_end[sl] - s_start[sl]
        staged = bool(np.isin(codes, (1, 2, 3)).any())
        # Wake inside SPT.
        inside = _overlap_ms(w_start, w_end, per.onset_ms, per.end_ms)
        waso_ms = int(inside.sum())
        awakenings = _count_bouts(w_start, w_end, per.onset_ms, per.end_ms, min_awakening_ms)
        # Bed edges from adjacent wake spans, each limited to max_edge_wake_ms.
        lead = (w_start < per.onset_ms) & (w_end > per.onset_ms - max_edge_wake_ms)
        bed_start = max(int(w_start[lead].min()), per.onset_ms - max_edge_wake_ms) if lead.any() else per.onset_ms
        trail = (w_end > per.end_ms) & (w_start < per.end_ms + max_edge_wake_ms)
        bed_end = min(int(w_end[trail].max()), per.end_ms + max_edge_wake_ms) if trail.any() else per.end_ms
        tib_ms = bed_end - bed_start
        records.append(
            dict(
                label=lab.item(),
                bed_start_ms=bed_start,
                bed_end_ms=bed_end,
                sleep_onset_ms=per.onset_ms,
                sleep_end_ms=per.end_ms,
                time_in_bed_min=tib_ms / MINUTE_MS,
                sleep_onset_latency_min=(per.onset_ms - bed_start) / MINUTE_MS,
                tst_min=tst_ms / MINUTE_MS,
                sleep_efficiency_pct=100.0 * tst_ms / tib_ms if tib_ms > 0 else math.nan,
                waso_min=waso_ms / MINUTE_MS,
                awakenings=awakenings,
                stages_from_device=staged,
                light_min=float(durs[codes == 1].sum()) / MINUTE_MS if staged else None,
                deep_min=float(durs[codes == 2].sum()) / MINUTE_MS if staged else None,
                rem_min=float(durs[codes == 3].sum()) / MINUTE_MS if staged else None,
                nap_min=(nap_ms[lab] - tst_ms) / MINUTE_MS,
            )
        )

    spt_start = np.array([r["sleep_onset_ms"] for r in records], dtype=np.int64)
    spt_end = np.array([r["sleep_end_ms"] for r in records], dtype=np.int64)
    rhr = _resting_hr(spt_start, spt_end, hr_t_ms, hr_bpm, min_hr_samples)
    ln_mean, n_win = _night_ln_rmssd(spt_start, spt_end, hrv_window_t_ms, hrv_ln_rmssd, hrv_quality_ok, hrv_window_ms)
    return tuple(
        Night(
            **r,  # type: ignore[arg-type]
            resting_hr_bpm=None if math.isnan(rhr[k]) else float(rhr[k]),
            ln_rmssd_night=None if math.isnan(ln_mean[k]) else float(ln_mean[k]),
            n_hrv_windows=int(n_win[k]),
        )
        for k, r in enumerate(records)
    )


def summarize_night(label: date, spans: Iterable[SleepSpan], tz: str | ZoneInfo, **kwargs: object) -> Night | None:
    """The `Night` labelled `label` (same keyword arguments as `summarize_nights`), or None."""
    lo, hi = night_window_ms(label, tz)
    # A main period starting in this night can run past its noon, so keep a day of spans either side.
    near = [s for s in spans if s.end_ms > lo - DAY_MS and s.start_ms < hi + DAY_MS]
    for night in summarize_nights(near, tz, **kwargs):  # type: ignore[arg-type]
        if night.label == label:
            return night
    return None


def _count_bouts(w_start: NDArray[np.int64], w_end: NDArray[np.int64], lo: int, hi: int, min_ms: int) -> int:
    keep = (w_end > lo) & (w_start < hi)
    if not keep.any():
        return 0
    a0 = np.maximum(w_start[keep], lo)
    a1 = np.minimum(w_end[keep], hi)
    # Touching (or overlapping) wake spans are one bout.
    new = np.empty(a0.size, dtype=bool)
    new[0] = True
    new[1:] = a0[1:] > np.maximum.accumulate(a1)[:-1]
    first = np.flatnonzero(new)
    bout_end = np.maximum.reduceat(a1, first)
    return int(np.count_nonzero(bout_end - a0[first] >= min_ms))


def _period_index(t: NDArray[np.int64], spt_start: NDArray[np.int64], spt_end: NDArray[np.int64]) -> NDArray[np.int64]:
    """Index of the SPT containing each time, −1 if none (periods are disjoint and sorted)."""
    order = np.argsort(spt_start)
    starts, ends = spt_start[order], spt_end[order]
    pos = np.searchsorted(starts, t, side="right") - 1
    ok = (pos >= 0) & (t < ends[np.clip(pos, 0, None)])
    return np.where(ok, order[np.clip(pos, 0, None)], -1)


def _resting_hr(
    spt_start: NDArray[np.int64],
    spt_end: NDArray[np.int64],
    hr_t_ms: ArrayLike | None,
    hr_bpm: ArrayLike | None,
    min_samples: int,
) -> NDArray[np.float64]:
    out = np.full(spt_start.size, np.nan)
    if hr_t_ms is None or hr_bpm is None:
        return out
    t = np.asarray(hr_t_ms, dtype=np.int64)
    bpm = np.asarray(hr_bpm, dtype=np.float64)
    night = _period_index(t, spt_start, spt_end)
    ok = (night >= 0) & np.isfinite(bpm)
    if not ok.any():
        return out
    night, window, bpm = night[ok], t[ok] // HR_WINDOW_MS, bpm[ok]
    # Group samples by (night, clock-aligned 5-min window), average, then take each night's minimum.
    keys = np.stack([night, window], axis=1)
    uniq, inv, counts = np.unique(keys, axis=0, return_inverse=True, return_counts=True)
    inv = inv.ravel()
    means = np.bincount(inv, weights=bpm) / counts
    good = counts >= min_samples
    np.fmin.at(out, uniq[good, 0], means[good])
    return out


def _night_ln_rmssd(
    spt_start: NDArray[np.int64],
    spt_end: NDArray[np.int64],
    win_t_ms: ArrayLike | None,
    ln_rmssd: ArrayLike | None,
    quality_ok: ArrayLike | None,
    window_ms: int,
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    n = spt_start.size
    if win_t_ms is None or ln_rmssd is None:
        return np.full(n, np.nan), np.zeros(n, dtype=np.int64)
    t = np.asarray(win_t_ms, dtype=np.int64)
    v = np.asarray(ln_rmssd, dtype=np.float64)
    q = np.ones(t.size, dtype=bool) if quality_ok is None else np.asarray(quality_ok, dtype=bool)
    night = _period_index(t, spt_start, spt_end)
    ok = (night >= 0) & q & np.isfinite(v)
    # The whole window must lie inside SPT.
    ok &= t + window_ms <= spt_end[np.clip(night, 0, None)]
    counts = np.bincount(night[ok], minlength=n)
    sums = np.bincount(night[ok], weights=v[ok], minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return means, counts


def night_series(nights: Sequence[Night], *, first: date | None = None, last: date | None = None) -> NightSeries:
    """Nights as a continuous calendar (one entry per label from `first` to `last`, NaN for gaps).

    Metrics: the seven `NIGHT_METRICS` plus time_in_bed_min, sleep_onset_latency_min, awakenings and
    light_min. Defaults for `first`/`last`: the first and last night given.
    """
    names = NIGHT_METRICS + ("time_in_bed_min", "sleep_onset_latency_min", "awakenings", "light_min")
    if not nights and (first is None or last is None):
        return NightSeries(labels=(), metrics={k: np.empty(0) for k in names})
    lo = first if first is not None else min(n.label for n in nights)
    hi = last if last is not None else max(n.label for n in nights)
    count = max(0, (hi - lo).days + 1)
    labels = tuple(lo + timedelta(days=i) for i in range(count))
    metrics = {k: np.full(count, np.nan) for k in names}
    for n in nights:
        i = (n.label - lo).days
        if 0 <= i < count:
            for k in names:
                val = getattr(n, k)
                if val is not None:
                    metrics[k][i] = float(val)
    return NightSeries(labels=labels, metrics=metrics)
