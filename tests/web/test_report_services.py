"""Pure helpers behind the dashboard services (tracker.reports): rolling lnRMSSD and instantaneous HR."""

from __future__ import annotations

import math

import numpy as np

from tracker.analysis import hrv
from tracker.reports import ROLLING_BEATS, beat_series


def test_rolling_ln_rmssd_matches_the_window_metric_and_never_crosses_a_gap() -> None:
    rng = np.random.default_rng(1)
    rr = 900 + rng.normal(0, 30, 200)
    t = np.cumsum(rr).astype(np.int64)
    t[100:] += 600_000  # ten minutes without a recording after beat 99
    hr, rolling = beat_series(t, rr)
    assert np.allclose(hr, 60000 / rr)
    end = 60
    window = rr[end - ROLLING_BEATS + 1 : end + 1]
    assert math.isclose(rolling[end], hrv.ln_rmssd(window), rel_tol=1e-12)
    assert np.isnan(rolling[: ROLLING_BEATS - 1]).all()  # no full window yet
    assert np.isnan(rolling[100 : 100 + ROLLING_BEATS - 1]).all()  # windows spanning the gap
    assert np.isfinite(rolling[100 + ROLLING_BEATS - 1 :]).all()


def test_flagged_beats_have_no_heart_rate() -> None:
    rr = np.full(60, 1000.0)
    rr[30] = 1500.0  # an artefact: 50 % off its neighbours
    t = np.cumsum(rr).astype(np.int64)
    hr, rolling = beat_series(t, rr)
    assert np.isnan(hr[30]) and np.isfinite(np.delete(hr, 30)).all()
    assert np.isnan(rolling).all()  # a constant series has RMSSD 0: no logarithm
