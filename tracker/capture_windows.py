"""A session's capture windows and their summaries, one session at a time or all of a person's at once.

The windows are the capture plan's, from [capture]: by default the 5 minutes before the start and the 5
minutes starting 5 minutes after the end. A window's summary (beats, mean HR and lnRMSSD of the
artefact-free beats, flagged share, coverage, and the quality gate of [capture]) is computed from the RR
stored inside it, from ONE source when several devices recorded there (tracker.sources.RULE: the source
with the most beats in the window; ties to a device over a file import, then the lower device id).

The Evidence report needs the windows of every done session. One query per window would cost two
compiled round trips per session; one query over the whole span would load every overnight beat in
between. `windows_rr` merges the windows into disjoint ranges and sends `BATCH_WINDOWS` of them at a time
as one UNION ALL of indexed range reads, so 200 sessions (400 windows) take 2 queries and only the beats
inside windows travel; it then applies the one-source rule per window exactly as the per-window path
(`Reports.rr`) does.

Those beats rarely change, so `session_windows` reads the stored summaries (tracker.window_store: the raw
`WindowStats`, per exact window) in one query and computes and stores only the missing ones; `to_window`
applies [capture]'s quality thresholds when read, so a change of them needs no recomputation.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import sqlalchemy.orm as so

from tracker.analysis import hrv
from tracker.analysis.artifacts import artefact_masks, gate_rr, gate_with_mask
from tracker.config import CaptureConfig
from tracker.queries import fetch_matrix
from tracker.sources import one_source_per_day, rank
from tracker.storage.models import RRRow
from tracker.window_store import WindowStats, cached_stats

if TYPE_CHECKING:
    from tracker.analysis.report import WindowSummary
    from tracker.sessions import SessionInfo

BATCH_WINDOWS = 256
MINUTE_MS = 60_000
DAY_MS = 86_400_000
_EMPTY = (np.empty(0, np.int64), np.empty(0, np.float64))


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
        from tracker.analysis.report import WindowSummary  # the report's module imports scipy

        return WindowSummary(hr_bpm=self.hr_bpm, ln_rmssd=self.ln_rmssd, quality_ok=self.quality_ok)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def window_bounds(start_ms: int, end_ms: int, capture: CaptureConfig) -> tuple[tuple[int, int], tuple[int, int]]:
    """([start, end) of the pre window, [start, end) of the post window) of a session."""
    pre = (start_ms - round(capture.pre_min * MINUTE_MS), start_ms)
    post_start = end_ms + round(capture.post_delay_min * MINUTE_MS)
    return pre, (post_start, post_start + round(capture.post_min * MINUTE_MS))


def to_window(stats: WindowStats, start_ms: int, end_ms: int, capture: CaptureConfig) -> Window:
    """The window's summary under [capture]'s quality thresholds (rounded for display, as always shown)."""
    if stats.flagged_pct is None or stats.coverage_pct is None:
        return Window(start_ms, end_ms, stats.beats, None, None, None, stats.coverage_pct, False)
    ok = bool(stats.flagged_pct <= capture.max_artifact_pct and stats.coverage_pct >= capture.min_coverage_pct)
    return Window(start_ms, end_ms, stats.beats, stats.hr_bpm, stats.ln_rmssd, round(stats.flagged_pct, 2),
                  round(stats.coverage_pct, 1), ok)  # fmt: skip


def window_stats(start_ms: int, end_ms: int, rr_ms: np.ndarray, valid: np.ndarray | None = None) -> WindowStats:
    """The window's raw summary from the RR (ms) of its one source, in time order (`valid`: its artefact
    mask, when already computed)."""
    if len(rr_ms) < 2:
        return WindowStats(len(rr_ms), None, None, None, 0.0 if len(rr_ms) == 0 else None)
    window_s = (end_ms - start_ms) / 1000
    gate = gate_rr(rr_ms, window_s=window_s) if valid is None else gate_with_mask(rr_ms, valid, window_s)
    return WindowStats(len(rr_ms), hrv.mean_hr_bpm(rr_ms, gate.valid), hrv.ln_rmssd(rr_ms, gate.valid),
                       float(gate.flagged_pct), float(gate.coverage_pct))  # fmt: skip


def summarize_window(start_ms: int, end_ms: int, rr_ms: np.ndarray, capture: CaptureConfig,
                     valid: np.ndarray | None = None) -> Window:  # fmt: skip
    """The window's summary from the RR (ms) of its one source, in time order (`valid`: its artefact mask,
    when already computed)."""
    return to_window(window_stats(start_ms, end_ms, rr_ms, valid), start_ms, end_ms, capture)


def _one_source(t: np.ndarray, rr: np.ndarray, key: np.ndarray, span_ms: int) -> tuple[np.ndarray, np.ndarray]:
    """The beats of one window (all sources, time order) reduced to one source, as `Reports.rr` does."""
    if t.size == 0:
        return _EMPTY
    keys, counts = np.unique(key, return_counts=True)
    if keys.size == 1:
        return t, rr
    if span_ms > DAY_MS:  # several sources over days: choose per day (never for a capture window)
        rows = one_source_per_day(list(zip(t.tolist(), rr.tolist(), key.tolist(), strict=True)))
        return (np.fromiter((r[0] for r in rows), np.int64, len(rows)),
                np.fromiter((r[1] for r in rows), np.float64, len(rows)))  # fmt: skip
    best = min(zip(keys.tolist(), counts.tolist(), strict=True), key=lambda kc: rank(*kc))[0]
    keep = key == best
    return t[keep], rr[keep]


def _merged(windows: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """The union of the windows as sorted, disjoint ranges (each beat is then fetched once)."""
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(w for w in windows if w[1] > w[0]):
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


@functools.lru_cache(maxsize=8)
def _ranges_sql(n: int) -> str:
    """One UNION ALL of `n` indexed range reads of a person's RR (parameters :p, :lo0, :hi0, …).

    Not `WHERE t_ms BETWEEN … OR t_ms BETWEEN …`: SQLite answers such an OR by scanning the person's whole
    index and testing every term on every row (all of the person's RR, overnight recordings included).
    Textual SQL (names from the model), built and compiled once per size: compiling a 256-branch union
    through the expression language cost more than reading the beats.
    """
    table, c = RRRow.__table__, RRRow.__table__.c
    branch = (f"SELECT {c.t_ms.name}, {c.rr_ms.name}, {c.device_key.name} FROM {table.name} "  # noqa: S608
              f"WHERE {c.person_id.name} = :p AND {c.t_ms.name} >= :lo{{i}} AND {c.t_ms.name} < :hi{{i}}")  # fmt: skip
    return " UNION ALL ".join(branch.format(i=i) for i in range(n))


def _ranges_values(person_id: int, ranges: Sequence[tuple[int, int]]) -> dict[str, int]:
    values = {"p": person_id}
    for i, (lo, hi) in enumerate(ranges):
        values[f"lo{i}"], values[f"hi{i}"] = lo, hi
    return values


def windows_rr(sessionmaker: so.sessionmaker[so.Session], person_id: int,
               windows: Sequence[tuple[int, int]]) -> list[tuple[np.ndarray, np.ndarray]]:  # fmt: skip
    """(t_ms, rr_ms) of the person's RR in each [start_ms, end_ms) of `windows`, in the order given, each
    from the one source `tracker.sources.RULE` picks for that window."""
    ranges = _merged(windows)
    with sessionmaker() as db:
        batches = [ranges[first : first + BATCH_WINDOWS] for first in range(0, len(ranges), BATCH_WINDOWS)]
        parts = [fetch_matrix(db, _ranges_sql(len(b)), 3, _ranges_values(person_id, b)) for b in batches]
    rows = np.concatenate(parts) if parts else np.empty((0, 3))
    del parts
    t, rr, key = rows[:, 0].astype(np.int64), np.ascontiguousarray(rows[:, 1]), rows[:, 2].astype(np.int64)
    del rows
    # By time, then source (what `ORDER BY t_ms, device_key` would give). Each branch reads its range in
    # index order and the ranges are sorted, so this is usually sorted already: no sort, no copies then.
    dt_ms = np.diff(t)
    if (dt_ms < 0).any() or ((dt_ms == 0) & (np.diff(key) <= 0)).any():
        order = np.lexsort((key, t))
        t, rr, key = t[order], rr[order], key[order]
    out = []
    for lo_ms, hi_ms in windows:  # windows may overlap: each takes its own slice of the sorted beats
        lo, hi = np.searchsorted(t, (lo_ms, hi_ms), side="left")
        out.append(_one_source(t[lo:hi], rr[lo:hi], key[lo:hi], hi_ms - lo_ms))
    return out


def compute_stats(sessionmaker: so.sessionmaker[so.Session], person_id: int,
                  bounds: Sequence[tuple[int, int]]) -> list[WindowStats]:  # fmt: skip
    """The raw summary of each of the person's windows from the stored RR, in a bounded number of queries."""
    beats = windows_rr(sessionmaker, person_id, bounds)
    masks = artefact_masks([rr for _t, rr in beats])  # the artefact gate of every window in one pass
    return [window_stats(lo, hi, rr, valid) for (lo, hi), (_t, rr), valid in zip(bounds, beats, masks, strict=True)]


def session_windows(sessionmaker: so.sessionmaker[so.Session], capture: CaptureConfig,
                    sessions: Sequence[SessionInfo], now_ms: int) -> list[tuple[Window, Window]]:  # fmt: skip
    """(pre, post) windows of each session, all of one person's, in a bounded number of queries.

    Summaries stored by tracker.window_store are read for all windows in one query; only the missing ones
    are computed from the RR (and stored, stamped `now_ms`).
    """
    if not sessions:
        return []
    person_ids = {s.person_id for s in sessions}
    if len(person_ids) != 1:
        raise ValueError("session_windows takes the sessions of one person")
    bounds = [b for s in sessions for b in window_bounds(s.start_ms, s.end_ms, capture)]
    person_id = person_ids.pop()
    stats = cached_stats(sessionmaker, person_id, bounds, lambda missing: compute_stats(sessionmaker, person_id, missing),
                         now_ms)  # fmt: skip
    summaries = [to_window(st, lo, hi, capture) for (lo, hi), st in zip(bounds, stats, strict=True)]
    return [(summaries[2 * i], summaries[2 * i + 1]) for i in range(len(sessions))]
