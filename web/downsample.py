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
