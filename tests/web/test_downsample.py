"""LTTB downsampling keeps at most 2,000 points per series, keeps the ends, and leaves short series alone."""

from __future__ import annotations

import numpy as np
import pytest

from web.downsample import MAX_POINTS, clamp_points, lttb


def _series(n: int) -> tuple[np.ndarray, np.ndarray]:
    t = 1_800_000_000_000 + np.arange(n, dtype=np.int64) * 1000
    return t, 60 + 15 * np.sin(np.arange(n) / 300.0)


@pytest.mark.parametrize("n", [2001, 10_000, 250_000])
def test_never_more_than_2000_points(n: int) -> None:
    t, v = _series(n)
    t_out, v_out = lttb(t, v, max_points=10**9)
    assert len(t_out) == len(v_out) == MAX_POINTS
    assert t_out[0] == t[0] and t_out[-1] == t[-1]
    assert np.all(np.diff(t_out) > 0)


def test_keeps_a_spike() -> None:
    t, v = _series(50_000)
    v[31_337] = 180.0
    _, v_out = lttb(t, v, 500)
    assert 180.0 in v_out


def test_short_series_unchanged_and_budget_clamped() -> None:
    t, v = _series(10)
    t_out, v_out = lttb(t, v, 2000)
    assert np.array_equal(t_out, t) and np.array_equal(v_out, v)
    assert len(lttb(*_series(100), max_points=1)[0]) == 3  # LTTB's minimum
    assert clamp_points(None) == MAX_POINTS and clamp_points(5000) == MAX_POINTS and clamp_points(0) == 3
    empty = lttb(np.empty(0, dtype=np.int64), np.empty(0), 2000)
    assert len(empty[0]) == 0


def test_mismatched_lengths_raise() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        lttb(np.arange(5), np.arange(4), 3)
