"""Raw samples of one person over a time range, one source per metric and period (tracker.sources.RULE).

Every reader takes a bounded range [start_ms, end_ms) and reads through the indexed (person_id, t_ms)
key, so its cost follows the range, not the person's history. The exceptions say so: `sleep_spans`
without a range and `nights_from_samples` read everything, and serve only as the reference a test
compares the stored nights with.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import sqlalchemy as sa
import sqlalchemy.orm as so

from tracker.analysis import hrv
from tracker.analysis.sleep import HR_WINDOW_MS, HRV_WINDOW_MS, Night, summarize_nights
from tracker.model import SleepSpan, Stage
from tracker.queries import fetch_tuples, rows_to_arrays
from tracker.sources import choose_source, one_source_per_day
from tracker.storage.models import HeartRateRow, RRRow, SleepRow

DAY_MS = 86_400_000


class SampleReader:
    def __init__(self, sessionmaker: so.sessionmaker[so.Session]) -> None:
        self._db = sessionmaker

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

    def heart_rate(self, person_id: int, start_ms: int, end_ms: int) -> tuple[np.ndarray, np.ndarray]:
        """(t_ms, bpm) of the person's stored heart-rate samples in [start_ms, end_ms)."""
        return self._series(HeartRateRow, HeartRateRow.bpm, person_id, start_ms, end_ms)

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

    def sleep_spans(self, person_id: int, start_ms: int | None = None, end_ms: int | None = None) -> list[SleepSpan]:
        """Stage spans overlapping [start_ms, end_ms) (None: unbounded), one source per night."""
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
                # Bounded on the indexed start time as well: a span is shorter than a day (tracker.night_compute
                # makes the same assumption), so `end_ms > start_ms` alone would scan the whole history.
                stmt = stmt.where(SleepRow.start_ms >= lo, SleepRow.end_ms > start_ms)
            if end_ms is not None:
                stmt = stmt.where(SleepRow.start_ms < end_ms)
            rows = [tuple(r) for r in db.execute(stmt.order_by(SleepRow.start_ms))]
        chosen = one_source_per_day(rows) if per_day else [r[:-1] for r in rows]
        return [SleepSpan(s, e, Stage(stage)) for s, e, stage in chosen]

    def nights_from_samples(self, person_id: int, tz: str) -> tuple[Night, ...]:
        """Every night recomputed from the whole history in one pass (the reference for the stored nights;
        reads every sample of the person, so no page uses it)."""
        spans = self.sleep_spans(person_id)
        if not spans:
            return ()
        lo, hi = spans[0].start_ms, max(s.end_ms for s in spans)
        hr_t, hr_bpm = self.heart_rate(person_id, lo, hi)
        rr_t, rr_ms = self.rr(person_id, lo, hi)
        return summarize_from_samples(spans, tz, hr_t, hr_bpm, rr_t, rr_ms)


def summarize_from_samples(spans: Sequence[SleepSpan], tz: str, hr_t: np.ndarray, hr_bpm: np.ndarray,
                           rr_t: np.ndarray, rr_ms: np.ndarray) -> tuple[Night, ...]:  # fmt: skip
    """Nights from spans, heart rate and RR arrays (without heart-rate samples: the HRV windows' mean HR)."""
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
