"""Detrended fluctuation analysis, short-term exponent α1. Pure: numpy only.

Definition (as documented in `tracker.analysis.hrv`): the beats are integrated, y_k = Σ(RR − mean); for
every box size n = 4..16 beats the series is cut into non-overlapping boxes from the start *and* from the
end (so the tail is not wasted), a least-squares line is removed per box, F(n) = RMS of the residuals over
all boxes, and α1 is the least-squares slope of log F against log n. Needs ≥ 64 beats.

How it is computed, all box sizes at once: for a box of n beats starting at beat s, rebased on its first
value (b_k = y_{s+k} − y_s, so the sums stay small and nothing cancels), the residual of the line fit is

    Σb² − (Σb)²/n − (Σx·b)²/Σx²,   x = k − (n−1)/2  (centred abscissa),

and the three sums for *every* start s and *every* n ≤ 16 are running sums down the 16 rows of a
(3, 16, starts) array whose row k holds y_{s+k} − y_s. One pass then serves all 13 box sizes and both
directions: a few dozen numpy calls whatever the length (the previous per-size loop made ~150, which
dominated a 5-minute window). Long series are processed in blocks of starts to bound memory.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.lib.stride_tricks import as_strided

from tracker.analysis.artifacts import as_rr_array

DFA_ALPHA1_BOX_BEATS = tuple(range(4, 17))
DFA_MIN_BEATS = 64
DFA_STARTS_PER_BLOCK = 8192  # box starts per block (bounds memory to ~3 MB; no effect on results)

_N = np.asarray(DFA_ALPHA1_BOX_BEATS, dtype=np.int64)
_N_F = _N.astype(np.float64)
_MAX_N = int(_N.max())
_SXX = _N_F * (_N_F * _N_F - 1.0) / 12.0  # Σx² of the centred abscissa for each box size
_HALF = (_N_F - 1.0) / 2.0  # Σx·b = Σk·b − (n−1)/2·Σb
_K = np.arange(_MAX_N, dtype=np.float64)[:, None]
_LOG_N = np.log(_N_F)
_LOG_N_CENTRED = _LOG_N - _LOG_N.mean()
_LOG_N_SS = float(_LOG_N_CENTRED @ _LOG_N_CENTRED)


_N2 = np.concatenate((_N, _N))  # (26,): every box size, for the boxes from the start then from the end
_SIZE_IDX2 = np.concatenate((np.arange(_N.size), np.arange(_N.size)))
_N_COL = _N_F[:, None]
_HALF_COL = _HALF[:, None]
_SXX_COL = _SXX[:, None]


def _box_starts(n_beats: int, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
    """Start index and size index (into DFA_ALPHA1_BOX_BEATS) of every box whose start is in [lo, hi).

    Boxes from the start begin at multiples of n; boxes from the end at N − m·n plus multiples of n
    (m = N // n boxes each way). Built with repeat/arange for all sizes and both directions at once.
    """
    m = n_beats // _N2
    offsets = np.where(np.arange(_N2.size) < _N.size, 0, n_beats - m * _N2)
    first = np.minimum(np.maximum(-((offsets - lo) // _N2), 0), m)  # ceil((lo − offset)/n), within [0, m]
    stop = np.minimum(np.maximum(-((offsets - hi) // _N2), 0), m)
    counts = stop - first
    group_first = np.cumsum(counts) - counts
    size_idx = np.repeat(_SIZE_IDX2, counts)
    box = np.arange(int(group_first[-1] + counts[-1])) - np.repeat(group_first - first, counts)
    start = np.repeat(offsets, counts) + box * _N[size_idx]  # box: its number within its direction
    return start, size_idx


def _residual_ss(y: np.ndarray) -> np.ndarray:
    """Sum of squared line-fit residuals over all boxes (both directions), one entry per box size."""
    n_beats = y.size
    # Trailing padding so every start has 16 values; padded values never enter a box (k < n, s + n ≤ N).
    y_pad = np.concatenate((y, np.zeros(_MAX_N - 1)))
    n_starts = n_beats - int(_N.min()) + 1  # the last box (n = 4 from the end) starts at N − 4
    total = np.zeros(_N.size)
    item = y_pad.strides[0]
    for lo in range(0, n_starts, DFA_STARTS_PER_BLOCK):
        width = min(DFA_STARTS_PER_BLOCK, n_starts - lo)
        rows = as_strided(y_pad[lo:], shape=(_MAX_N, width), strides=(item, item), writeable=False)  # y[s + k]
        # sums[q, n − 1, s] = Σ_{k<n} of b_k (q = 0), b_k² (q = 1), k·b_k (q = 2) for the box of n at s,
        # with b_k = y[s + k] − y[s] (each box rebased on its first value).
        sums = np.empty((3, _MAX_N, width))
        np.subtract(rows, rows[0], out=sums[0])
        np.multiply(sums[0], sums[0], out=sums[1])
        np.multiply(sums[0], _K, out=sums[2])
        for k in range(1, _MAX_N):  # running sums down the rows: faster than np.cumsum(axis=1) here
            np.add(sums[:, k], sums[:, k - 1], out=sums[:, k])
        # The line-fit residual of every (box size, start), then only the actual boxes are gathered.
        s1, s2, sk = sums[:, _N[0] - 1 :]
        sxb = sk - _HALF_COL * s1
        resid = s2 - s1 * s1 / _N_COL - sxb * sxb / _SXX_COL
        start, size_idx = _box_starts(n_beats, lo, lo + width)
        total += np.bincount(size_idx, weights=resid.ravel()[size_idx * width + (start - lo)], minlength=_N.size)
    return total


def dfa_alpha1(rr_ms: np.ndarray | Sequence[float]) -> float | None:
    """DFA α1 over box sizes 4–16 beats; None below 64 beats, for non-finite input or a flat series.

    Pass already-cleaned beats (``rr[gate.valid]``).
    """
    rr = as_rr_array(rr_ms)
    if rr.size < DFA_MIN_BEATS or not np.all(np.isfinite(rr)):
        return None
    y = np.cumsum(rr - rr.sum() / rr.size)  # rr.mean()'s arithmetic, without its call overhead
    resid_ss = _residual_ss(y)
    if not np.all(resid_ss > 0.0):
        return None
    n_boxed = 2 * (y.size // _N) * _N  # residuals averaged over every boxed beat, both directions
    log_f = 0.5 * np.log(resid_ss / n_boxed)
    alpha = float(_LOG_N_CENTRED @ log_f) / _LOG_N_SS  # least-squares slope of log F on log n
    return alpha if math.isfinite(alpha) else None
