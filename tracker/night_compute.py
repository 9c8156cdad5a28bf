"""Computes nightly summaries from the stored samples, one night at a time in effect, many in one go.

Why "in effect one at a time": a stored summary must not depend on which other nights were recomputed
with it (a bulk rebuild and a one-night refresh after a sync must give the same numbers), so each
night reads only its own neighbourhood:

- Sleep: the spans starting within a day either side of the night's noon-to-noon window
  (`analysis.sleep.summarize_night`'s neighbourhood), so periods, naps and bed edges are the same as
  over the whole history.
- One source per night and metric (tracker.sources.RULE): a ring's and a band's heart rate, or a file's
  and a strap's beats, are never mixed in one night's numbers.
- Heart rate: the 1-minute samples inside the night's sleep period (SPT); without any, the mean HR of the
  quality-passed HRV windows (as the report always did when a person has no separate heart-rate log).
- HRV: the RR intervals from `RR_PAD_MS` before sleep onset to `RR_PAD_MS` after the final awakening, gated
  and windowed by `analysis.hrv.windowed_ln_rmssd`; 10 minutes hold far more than the 5 neighbours each side
  that the artefact gate's local median uses, so the windows inside SPT see the same beats as over the
  whole history whenever the recording is continuous around them.

A run of consecutive nights is loaded with three range queries (spans, heart rate, RR) and then sliced
per night, so a two-year rebuild costs a few queries per month, not per night.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import numpy as np
import sqlalchemy as sa
import sqlalchemy.orm as so

from tracker.analysis.hrv import windowed_ln_rmssd
from tracker.analysis.sleep import (
    DAY_MS,
    HRV_WINDOW_MS,
    Night,
    night_label,
    night_window_ms,
    summarize_nights,
)
from tracker.model import SleepSpan, Stage
from tracker.queries import fetch_tuples, rows_to_arrays
from tracker.sources import one_source_per_day, rank
from tracker.storage.models import HeartRateRow, RRRow, SleepRow

RR_PAD_MS = 10 * 60_000
RUN_NIGHTS = 31  # nights computed per batch of queries: bounds memory for overnight RR (~15,000 beats a night)


def affected_labels(start_ms: int, end_ms: int, tz: str) -> list[dt.date]:
    """Nights whose summary a change of samples in [start_ms, end_ms] can alter.

    A span can merge or split sleep periods and move bed edges up to a day away (the neighbourhood above),
    and a sample belongs to the night of the period around it, whose onset may lie in the night before.
    """
    first = night_label(start_ms - DAY_MS, tz)
    last = night_label(end_ms + DAY_MS, tz)
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def runs_of(labels: Iterable[dt.date], max_len: int = RUN_NIGHTS) -> list[list[dt.date]]:
    """Sorted labels split into runs of consecutive dates, none longer than `max_len`."""
    out: list[list[dt.date]] = []
    for label in sorted(set(labels)):
        if out and (label - out[-1][-1]).days == 1 and len(out[-1]) < max_len:
            out[-1].append(label)
        else:
            out.append([label])
    return out


def _spans(db: so.Session, person_id: int, start_ms: int, end_ms: int) -> list[SleepSpan]:
    # Bounded on the indexed start time only, so the cost does not grow with the person's history. Two
    # devices' stages of one night would double the night: one source per day (tracker.sources.RULE).
    stmt = (
        sa.select(SleepRow.start_ms, SleepRow.end_ms, SleepRow.stage, SleepRow.device_key)
        .where(SleepRow.person_id == person_id, SleepRow.start_ms >= start_ms, SleepRow.start_ms < end_ms)
        .order_by(SleepRow.start_ms)
    )
    rows = one_source_per_day(fetch_tuples(db, stmt))
    return [SleepSpan(int(s), int(e), Stage(stage)) for s, e, stage in rows]


def _samples(db: so.Session, model: type[HeartRateRow] | type[RRRow], person_id: int, start_ms: int,
             end_ms: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """(t_ms, value, device_key) in time order."""
    value = HeartRateRow.bpm if model is HeartRateRow else RRRow.rr_ms
    stmt = (
        sa.select(model.t_ms, value, model.device_key)
        .where(model.person_id == person_id, model.t_ms >= start_ms, model.t_ms < end_ms)
        .order_by(model.t_ms)
    )
    rows = fetch_tuples(db, stmt)
    t, v = rows_to_arrays([r[:2] for r in rows])
    keys = np.fromiter((r[2] for r in rows), dtype=np.int64, count=len(rows))
    return t, v, keys


def _slice(t: np.ndarray, v: np.ndarray, keys: np.ndarray, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
    """The samples in [lo, hi) of ONE source (tracker.sources.RULE over this slice): a ring's and a band's
    values of the same night are never mixed, nor an imported file's with a device's."""
    i, j = np.searchsorted(t, [lo, hi], side="left")
    t, v, keys = t[i:j], v[i:j], keys[i:j]
    if keys.size and keys.min() != keys.max():
        found, counts = np.unique(keys, return_counts=True)
        best = min(zip(found.tolist(), counts.tolist(), strict=True), key=lambda kc: rank(*kc))[0]
        mine = keys == best
        t, v = t[mine], v[mine]
    return t, v


def compute_run(db: so.Session, person_id: int, tz: str, labels: Sequence[dt.date]) -> dict[dt.date, Night]:
    """The nights among `labels` (consecutive dates) that have a sleep period, computed from the samples."""
    wanted = set(labels)
    lo, _ = night_window_ms(min(labels), tz)
    _, hi = night_window_ms(max(labels), tz)
    all_spans = _spans(db, person_id, lo - DAY_MS, hi + DAY_MS)
    sleep_only = [n for n in summarize_nights(all_spans, tz) if n.label in wanted]
    if not sleep_only:
        return {}
    first_ms = min(n.sleep_onset_ms for n in sleep_only) - RR_PAD_MS
    last_ms = max(n.sleep_end_ms for n in sleep_only) + RR_PAD_MS
    hr_t, hr_bpm, hr_keys = _samples(db, HeartRateRow, person_id, first_ms, last_ms)
    rr_t, rr_ms, rr_keys = _samples(db, RRRow, person_id, first_ms, last_ms)

    # Per night: its own heart-rate samples and HRV windows; concatenated, they do not overlap because
    # sleep periods do not, and summarize_nights assigns each value to the period that contains it.
    parts_hr_t, parts_hr, parts_win_t, parts_ln, parts_ok = [], [], [], [], []
    for n in sleep_only:
        onset, end = n.sleep_onset_ms, n.sleep_end_ms
        night_hr_t, night_hr = _slice(hr_t, hr_bpm, hr_keys, onset, end)
        beat_t, beat_rr = _slice(rr_t, rr_ms, rr_keys, onset - RR_PAD_MS, end + RR_PAD_MS)
        if beat_t.size > 1:
            w = windowed_ln_rmssd(beat_t, beat_rr, HRV_WINDOW_MS)
            win_t = np.asarray(w.window_start_ms, dtype=np.int64)
            inside = (win_t >= onset) & (win_t < end)
            parts_win_t.append(win_t[inside])
            parts_ln.append(np.asarray(w.ln_rmssd, dtype=np.float64)[inside])
            parts_ok.append(np.asarray(w.quality_ok, dtype=bool)[inside])
            if night_hr_t.size == 0:  # no heart-rate log this night: the clean windows' mean HR
                ok = inside & np.asarray(w.quality_ok, dtype=bool)
                night_hr_t, night_hr = win_t[ok], np.asarray(w.mean_hr_bpm, dtype=np.float64)[ok]
        parts_hr_t.append(night_hr_t)
        parts_hr.append(night_hr)

    def cat(parts: list[np.ndarray], dtype: type) -> np.ndarray | None:
        joined = np.concatenate(parts).astype(dtype) if parts else np.empty(0, dtype)
        return joined if joined.size else None

    win_t_all = cat(parts_win_t, np.int64)
    nights = summarize_nights(
        all_spans, tz,
        hr_t_ms=cat(parts_hr_t, np.int64), hr_bpm=cat(parts_hr, np.float64),
        hrv_window_t_ms=win_t_all, hrv_ln_rmssd=cat(parts_ln, np.float64) if win_t_all is not None else None,
        hrv_quality_ok=cat(parts_ok, bool) if win_t_all is not None else None,
    )  # fmt: skip
    return {n.label: n for n in nights if n.label in wanted}


def compute_nights(db: so.Session, person_id: int, tz: str, labels: Iterable[dt.date]) -> dict[dt.date, Night]:
    """Every night among `labels` with a sleep period (runs of consecutive labels share their queries)."""
    out: dict[dt.date, Night] = {}
    for run in runs_of(labels):
        out.update(compute_run(db, person_id, tz, run))
    return out


def all_labels(db: so.Session, person_id: int, tz: str) -> list[dt.date]:
    """Every night label from the person's first to last sleep span (empty without sleep data)."""
    lo, hi = db.execute(
        sa.select(
            sa.select(sa.func.min(SleepRow.start_ms)).where(SleepRow.person_id == person_id).scalar_subquery(),
            sa.select(sa.func.max(SleepRow.start_ms)).where(SleepRow.person_id == person_id).scalar_subquery(),
        )
    ).one()
    if lo is None:
        return []
    first, last = night_label(int(lo), tz), night_label(int(hi), tz)
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
