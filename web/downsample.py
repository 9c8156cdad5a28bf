"""Server-side downsampling for charts: LTTB (tsdownsample) to at most `MAX_POINTS` points per series.

Why LTTB: it keeps the visual shape (peaks, drops) of a heart-rate trace far better than every-nth or
bucket means at the same point count, and a browser draws 2,000 points per series without effort.
"""

from __future__ import annotations

import numpy as np
from tsdownsample import LTTBDownsampler

MAX_POINTS = 2000
MIN_POINTS = 3  # LTTB keeps the first and last point and needs at least one bucket between them


def clamp_points(requested: int | None) -> int:
    """The point budget for one series: the request's, bounded to MIN_POINTS..MAX_POINTS."""
    if requested is None:
        return MAX_POINTS
    return max(MIN_POINTS, min(MAX_POINTS, requested))


def lttb(t_ms: np.ndarray, values: np.ndarray, max_points: int = MAX_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """At most `max_points` (clamped to 3..2000) of the series, chosen by LTTB; short series unchanged.

    `t_ms` must be sorted ascending (int64 epoch ms); `values` is converted to float64.
    """
    n_out = clamp_points(max_points)
    t_ms = np.ascontiguousarray(t_ms, dtype=np.int64)
    values = np.ascontiguousarray(values, dtype=np.float64)
    if len(t_ms) != len(values):
        raise ValueError(f"t_ms and values differ in length ({len(t_ms)} != {len(values)})")
    if len(t_ms) <= n_out:
        return t_ms, values
    index = LTTBDownsampler().downsample(t_ms, values, n_out=n_out)  # type: ignore[no-untyped-call]
    return t_ms[index], values[index]


def chart_series(t_ms: np.ndarray, values: np.ndarray, gap_ms: int, max_points: int = MAX_POINTS) -> tuple[list[int], list[float | None]]:
    """A series for the browser: NaNs dropped, LTTB to ≤ `max_points`, then a null wherever the original
    had a gap longer than `gap_ms` between two kept points (uPlot breaks the line at a null).

    Gaps are found before downsampling, so thinning out a dense stretch never invents a break and a real
    break (pre window → post window) is never bridged.
    """
    t_ms = np.asarray(t_ms, dtype=np.int64)
    values = np.asarray(values, dtype=np.float64)
    keep = np.isfinite(values)
    t_ms, values = t_ms[keep], values[keep]
    if len(t_ms) == 0:
        return [], []
    break_after = t_ms[:-1][np.diff(t_ms) > gap_ms]  # last point before each gap
    t_out, v_out = lttb(t_ms, values, max_points)
    # Points with a different count of gap starts at or before them sit on different sides of a gap.
    side = np.searchsorted(break_after, t_out, side="left")
    xs: list[int] = []
    ys: list[float | None] = []
    for i, (t, v) in enumerate(zip(t_out.tolist(), v_out.tolist(), strict=True)):
        if i and side[i] != side[i - 1]:
            xs.append((xs[-1] + int(t)) // 2)
            ys.append(None)
        xs.append(int(t))
        ys.append(float(v))
    return xs, ys
