"""RR-interval artefact gate. Pure: numpy and stdlib only; no I/O, no clock, no logging.

The gate decides which beats are trustworthy before any HRV metric is computed
(science.md §0.3 and §2, "recommended simple default"):

1. **Range gate** — a beat is valid only if ``300 <= RR <= 2000`` ms (HR 30–200 bpm). Non-finite values
   (NaN, ±inf) fail the range gate too.
2. **Local-median gate** — ``med_i`` is the median of the 11 beats ``RR[i-5 .. i+5]``; the beat is
   flagged when ``|RR_i - med_i| > 0.20 * med_i`` (strict ``>``).

   * Edges are *reflect*-padded in numpy's sense (``d c b | a b c d``: the edge beat itself is not
     duplicated), so the first beat is compared with ``RR[1..5]`` mirrored, not with a second copy of
     itself, which would pull the median towards the beat under test.
   * **Out-of-range beats do not take part in the median**: they are treated as missing and the median is
     taken over the remaining in-range beats of the window. A dropout of, say, 6 000 ms or a zero from a
     glitching sensor is not a heartbeat and must not shift the reference of its neighbours. A window whose
     beats are all out of range has no median; its beats are flagged by the range gate anyway.
3. **Quality gate** — a series (or window) is usable when at most 5 % of its beats are flagged **and**
   coverage is at least 80 %. Coverage is the summed duration of the clean beats divided by the window's
   duration when ``window_s`` is given, else by the summed duration of all (finite) beats; it is capped at
   100 % because the first interval of a window starts before the window does.

Difference-based metrics (RMSSD, SDSD, pNNx, SD1/SD2) are computed downstream only over successive pairs
``(i, i+1)`` in which *both* beats are valid; see `valid_pairs`.

On tests/data/vectors/hrv/rr_artifacts.csv this gate flags exactly beats 60, 61, 121, 180, 181 and 240 and
nothing on rr_clean.csv.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import as_strided, sliding_window_view

RR_MIN_MS = 300.0
RR_MAX_MS = 2000.0
MEDIAN_HALF_WIDTH_BEATS = 5  # 11-beat window: RR[i-5 .. i+5]
MEDIAN_THRESHOLD = 0.20  # flag if |RR - med| > 20 % of med
MAX_FLAGGED_PCT = 5.0
MIN_COVERAGE_PCT = 80.0


@dataclass(frozen=True, eq=False)
class GateResult:
    """Outcome of `gate_rr` for one RR series.

    ``valid`` is a read-only boolean mask (True = beat kept), ``flagged`` the read-only sorted indices of
    the rejected beats. Percentages are in % (0–100). ``eq=False`` because numpy arrays have no scalar
    equality; compare fields explicitly.
    """

    valid: np.ndarray
    flagged: np.ndarray
    n_beats: int
    n_flagged: int
    flagged_pct: float
    coverage_pct: float
    quality_ok: bool


def as_rr_array(rr_ms: np.ndarray | Sequence[float]) -> np.ndarray:
    """Return ``rr_ms`` as a 1-D float64 array (no copy when it already is one)."""
    rr = np.asarray(rr_ms, dtype=np.float64)
    if rr.ndim != 1:
        raise ValueError(f"rr_ms must be 1-D, got shape {rr.shape}")
    return rr


def in_range_mask(rr_ms: np.ndarray) -> np.ndarray:
    """True where ``300 <= RR <= 2000`` ms; NaN/inf compare False and so are out of range."""
    return (rr_ms >= RR_MIN_MS) & (rr_ms <= RR_MAX_MS)


def local_median_ms(rr_ms: np.ndarray, in_range: np.ndarray | None = None) -> np.ndarray:
    """Median of ``RR[i-5 .. i+5]`` for each beat, reflect-padded, ignoring out-of-range beats.

    Vectorised: an (n, 11) strided view is sorted row-wise with missing beats as NaN (which sort to the
    end), then the median of the ``k`` present values is read at positions ``(k-1)//2`` and ``k//2``.
    Rows without any in-range beat give NaN. When every beat is in range (the usual case) each row holds
    11 values and a partial sort for the 6th smallest gives the same median for less work.
    """
    rr = as_rr_array(rr_ms)
    n = rr.size
    if n == 0:
        return np.empty(0)
    if in_range is None:
        in_range = in_range_mask(rr)
    h = MEDIAN_HALF_WIDTH_BEATS
    all_in_range = bool(in_range.all())
    masked = rr if all_in_range else np.where(in_range, rr, np.nan)
    if n > h:
        # numpy's "reflect" padding written out (np.pad costs more than the median itself on a 5-min window)
        padded = np.concatenate((masked[h:0:-1], masked, masked[-2 : -h - 2 : -1]))
    else:
        padded = np.pad(masked, h, mode="reflect")  # short series: np.pad reflects repeatedly
    width = 2 * h + 1
    windows = as_strided(padded, shape=(n, width), strides=(padded.strides[0],) * 2, writeable=False)
    if all_in_range:
        # The usual case: every window is full, so the median is the middle order statistic (exact, as below).
        return np.partition(windows, h, axis=1)[:, h]
    windows = np.sort(windows, axis=1)
    k = np.count_nonzero(~np.isnan(windows), axis=1)
    rows = np.arange(n)
    lo = np.maximum((k - 1) // 2, 0)
    hi = np.maximum(k // 2, 0)
    med = 0.5 * (windows[rows, lo] + windows[rows, hi])
    return np.where(k > 0, med, np.nan)


def artefact_mask(rr_ms: np.ndarray | Sequence[float]) -> np.ndarray:
    """Boolean mask, True = valid beat (passes the range gate and the local-median gate)."""
    rr = as_rr_array(rr_ms)
    in_range = in_range_mask(rr)
    med = local_median_ms(rr, in_range)
    with np.errstate(invalid="ignore"):
        # NaN median (no in-range neighbour) makes the comparison False -> only the range gate decides.
        off_median = np.abs(rr - med) > MEDIAN_THRESHOLD * med
    return in_range & ~off_median


def artefact_masks(series: Sequence[np.ndarray], block_beats: int = 16_384) -> list[np.ndarray]:
    """`artefact_mask` of each RR series, computed for many at a time in vectorised passes.

    For the capture windows of a whole report (hundreds of short series): each series is reflect-padded on
    its own, exactly as `local_median_ms` pads it, the padded series are laid end to end, and the 11-beat
    rows centred on real beats are sorted together, about `block_beats` beats per pass (an (n, 11) block
    of floats is sorted in memory). Every row holds the same values as in the one-series path, so the
    masks are identical, not merely close.
    """
    rrs = [as_rr_array(rr) for rr in series]
    out: list[np.ndarray] = []
    group: list[np.ndarray] = []
    beats = 0
    for rr in rrs:
        if group and beats + rr.size > block_beats:
            out += _masks_of_group(group)
            group, beats = [], 0
        group.append(rr)
        beats += rr.size
    if group:
        out += _masks_of_group(group)
    return out


def _masks_of_group(rrs: list[np.ndarray]) -> list[np.ndarray]:
    sizes = np.array([rr.size for rr in rrs], dtype=np.int64)
    total = int(sizes.sum())
    if total == 0:
        return [np.zeros(0, dtype=bool) for _ in rrs]
    half = MEDIAN_HALF_WIDTH_BEATS
    rr_all = np.concatenate(rrs)
    in_range = in_range_mask(rr_all)
    masked = np.where(in_range, rr_all, np.nan)
    # Each series reflect-padded by `half` on its own (numpy's "reflect": d c b | a b c d | c b a, repeated
    # with period 2(n − 1) when the series is shorter than the padding), as one gather over all of them.
    present = sizes[sizes > 0]
    starts = np.cumsum(present) - present  # of each series in rr_all
    width = present + 2 * half
    series_of = np.repeat(np.arange(present.size), width)
    local = np.arange(int(width.sum())) - np.repeat(np.cumsum(width) - width, width) - half
    n = present[series_of]
    period = np.maximum(2 * (n - 1), 1)
    m = np.mod(local, period)
    local = np.where(m >= n, period - m, m)
    local = np.where(n == 1, 0, local)
    padded = masked[starts[series_of] + local]
    # the row of beat i of a series starts at its own position in the padded series
    rows = np.repeat(np.cumsum(width) - width, present) + (np.arange(total) - np.repeat(starts, present))
    windows = np.sort(sliding_window_view(padded, 2 * half + 1)[rows], axis=1)
    k = np.count_nonzero(~np.isnan(windows), axis=1)
    index = np.arange(windows.shape[0])
    lo = np.maximum((k - 1) // 2, 0)
    hi = np.maximum(k // 2, 0)
    med = np.where(k > 0, 0.5 * (windows[index, lo] + windows[index, hi]), np.nan)
    with np.errstate(invalid="ignore"):
        off_median = np.abs(rr_all - med) > MEDIAN_THRESHOLD * med
    valid = in_range & ~off_median
    return np.split(valid, np.cumsum(sizes)[:-1])


def valid_pairs(valid: np.ndarray) -> np.ndarray:
    """Mask over the N-1 successive pairs: True where both beats ``i`` and ``i+1`` are valid."""
    return valid[:-1] & valid[1:]


def gate_rr(rr_ms: np.ndarray | Sequence[float], window_s: float | None = None) -> GateResult:
    """Run the artefact gate on one RR series (ms) and report counts and the quality verdict.

    ``window_s`` is the duration of the window the beats were recorded in; when given, coverage is the
    clean beats' summed duration over ``window_s``, else over the summed duration of all finite beats.
    An empty series is reported with zero counts, coverage 0 % and ``quality_ok=False``.
    """
    return gate_with_mask(rr_ms, artefact_mask(rr_ms), window_s)


def gate_with_mask(rr_ms: np.ndarray | Sequence[float], valid: np.ndarray, window_s: float | None = None) -> GateResult:
    """`gate_rr` from a mask already computed (e.g. by `artefact_masks` for many windows at once)."""
    rr = as_rr_array(rr_ms)
    if window_s is not None and not window_s > 0:
        raise ValueError(f"window_s must be positive, got {window_s!r}")
    n = int(rr.size)
    valid = np.array(valid, dtype=bool)  # a copy: the result's mask is made read-only
    flagged = np.flatnonzero(~valid)
    n_flagged = int(flagged.size)
    flagged_pct = 100.0 * n_flagged / n if n else 0.0

    clean_ms = float(rr[valid].sum())
    if window_s is not None:
        reference_ms = 1000.0 * float(window_s)
    else:
        finite = np.isfinite(rr) & (rr > 0)
        reference_ms = float(rr[finite].sum())
    coverage_pct = min(100.0, 100.0 * clean_ms / reference_ms) if reference_ms > 0 else 0.0

    quality_ok = n > 0 and flagged_pct <= MAX_FLAGGED_PCT and coverage_pct >= MIN_COVERAGE_PCT
    valid.setflags(write=False)
    flagged.setflags(write=False)
    return GateResult(
        valid=valid,
        flagged=flagged,
        n_beats=n,
        n_flagged=n_flagged,
        flagged_pct=flagged_pct,
        coverage_pct=coverage_pct,
        quality_ok=bool(quality_ok),
    )
