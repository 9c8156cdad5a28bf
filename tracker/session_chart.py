"""The session chart's beat-to-beat series (pure: numpy and the artefact gate only).

Instantaneous HR = 60000/RR of artefact-free beats; rolling lnRMSSD over the last `ROLLING_BEATS` beats,
only over successive valid pairs, never across a recording gap, and only when ≥ 2/3 of the window's pairs
are valid. No scipy here, so the web layer can import the constants at module level.
"""

from __future__ import annotations

import math

import numpy as np

from tracker.analysis.artifacts import artefact_mask, valid_pairs

ROLLING_BEATS = 30
ROLLING_MIN_VALID_SHARE = 2 / 3
BEAT_GAP_MS = 5_000  # beats further apart than their RR plus this are a gap in the recording
DEVICE_HR_GAP_MS = 11 * 60_000  # a 5-minute log missing two readings in a row is a gap


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
