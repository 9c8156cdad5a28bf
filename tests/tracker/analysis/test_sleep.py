"""Nightly sleep summaries (tracker.analysis.sleep): night labelling across DST and hand-built nights."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from tracker.analysis.sleep import (
    NIGHT_METRICS,
    night_label,
    night_labels,
    night_series,
    night_window_ms,
    summarize_night,
    summarize_nights,
)
from tracker.model import SleepSpan, Stage

BERLIN = ZoneInfo("Europe/Berlin")
HOUR_MS = 3_600_000


def ms(y: int, mo: int, d: int, h: int, mi: int = 0, s: int = 0, tz: ZoneInfo = BERLIN) -> int:
    return int(datetime(y, mo, d, h, mi, s, tzinfo=tz).timestamp() * 1000)


def utc_ms(y: int, mo: int, d: int, h: int, mi: int = 0) -> int:
    return ms(y, mo, d, h, mi, tz=ZoneInfo("UTC"))


# --- night labelling ------------------------------------------------------------------------------------


def test_dst_night_labels_in_berlin() -> None:
    # Spring forward: 2024-03-31 02:00 CET → 03:00 CEST.
    assert night_label(utc_ms(2024, 3, 30, 10, 30), "Europe/Berlin") == date(2024, 3, 30)  # 11:30 CET
    assert night_label(utc_ms(2024, 3, 30, 11, 30), "Europe/Berlin") == date(2024, 3, 31)  # 12:30 CET
    assert night_label(utc_ms(2024, 3, 31, 0, 30), "Europe/Berlin") == date(2024, 3, 31)  # 01:30 CET
    assert night_label(utc_ms(2024, 3, 31, 9, 30), "Europe/Berlin") == date(2024, 3, 31)  # 11:30 CEST
    assert night_label(utc_ms(2024, 3, 31, 10, 30), "Europe/Berlin") == date(2024, 4, 1)  # 12:30 CEST
    lo, hi = night_window_ms(date(2024, 3, 31), "Europe/Berlin")
    assert (hi - lo) == 23 * HOUR_MS
    assert lo == utc_ms(2024, 3, 30, 11) and hi == utc_ms(2024, 3, 31, 10)
    # Fall back: 2024-10-27 03:00 CEST → 02:00 CET, so that night lasts 25 h.
    lo, hi = night_window_ms(date(2024, 10, 27), "Europe/Berlin")
    assert (hi - lo) == 25 * HOUR_MS
    assert night_label(utc_ms(2024, 10, 27, 10, 59), BERLIN) == date(2024, 10, 27)  # 11:59 CET
    assert night_label(utc_ms(2024, 10, 27, 11, 0), BERLIN) == date(2024, 10, 28)  # 12:00 CET


@pytest.mark.parametrize("start", [datetime(2024, 3, 28), datetime(2024, 10, 24)])
def test_vectorised_labels_match_scalar(start: datetime) -> None:
    t0 = ms(start.year, start.month, start.day, 0)
    t = t0 + np.arange(0, 6 * 24 * 60, 17) * 60_000
    vec = night_labels(t, BERLIN)
    assert [d.item() for d in vec] == [night_label(int(x), BERLIN) for x in t]


# --- a hand-built night -------------------------------------------------------------------------------


def _spans() -> list[SleepSpan]:
    def span(d0: int, h0: int, m0: int, d1: int, h1: int, m1: int, stage: Stage, s0: int = 0, s1: int = 0):
        return SleepSpan(ms(2024, 6, d0, h0, m0, s0), ms(2024, 6, d1, h1, m1, s1), stage)

    return [
        # Night labelled 2024-06-02 (device stages).
        span(1, 22, 30, 1, 22, 50, Stage.AWAKE),
        span(1, 22, 50, 2, 0, 50, Stage.LIGHT),
        span(2, 0, 50, 2, 1, 50, Stage.DEEP),
        span(2, 1, 50, 2, 1, 50, Stage.AWAKE, 0, 30),  # 30 s: too short to count as an awakening
        span(2, 1, 50, 2, 3, 0, Stage.REM, 30, 0),
        span(2, 3, 0, 2, 3, 10, Stage.AWAKE),
        span(2, 3, 10, 2, 6, 30, Stage.LIGHT),
        span(2, 6, 30, 2, 6, 45, Stage.AWAKE),
        # Night labelled 2024-06-03: an afternoon nap, then the main sleep without stages.
        span(2, 13, 0, 2, 13, 40, Stage.ASLEEP),
        span(2, 23, 0, 3, 7, 0, Stage.ASLEEP),
    ]


def test_summarize_nights_hand_checked() -> None:
    n1, n2 = summarize_nights(_spans(), "Europe/Berlin")
    assert n1.label == date(2024, 6, 2)
    assert n1.bed_start_ms == ms(2024, 6, 1, 22, 30) and n1.bed_end_ms == ms(2024, 6, 2, 6, 45)
    assert n1.time_in_bed_min == pytest.approx(495)
    assert n1.sleep_onset_latency_min == pytest.approx(20)
    assert n1.tst_min == pytest.approx(120 + 60 + 69.5 + 200)
    assert n1.waso_min == pytest.approx(10.5)
    assert n1.awakenings == 1
    assert n1.sleep_efficiency_pct == pytest.approx(100 * 449.5 / 495)
    assert n1.stages_from_device
    assert (n1.light_min, n1.deep_min, n1.rem_min) == pytest.approx((320, 60, 69.5))
    assert n1.nap_min == 0
    assert n1.resting_hr_bpm is None and n1.ln_rmssd_night is None

    assert n2.label == date(2024, 6, 3)
    assert n2.tst_min == pytest.approx(480) and n2.nap_min == pytest.approx(40)  # nap excluded
    assert n2.sleep_onset_latency_min == 0 and n2.sleep_efficiency_pct == pytest.approx(100)
    assert not n2.stages_from_device and n2.deep_min is None and n2.rem_min is None

    assert summarize_night(date(2024, 6, 3), _spans(), "Europe/Berlin") == n2
    assert summarize_night(date(2024, 6, 9), _spans(), "Europe/Berlin") is None


def test_gap_rule_merges_short_breaks_and_splits_long_ones() -> None:
    def night(gap_min: int) -> list[SleepSpan]:
        a0 = ms(2024, 6, 1, 23, 0)
        a1 = a0 + 2 * HOUR_MS
        b0 = a1 + gap_min * 60_000
        return [
            SleepSpan(a0, a1, Stage.ASLEEP),
            SleepSpan(a1, b0, Stage.AWAKE),
            SleepSpan(b0, b0 + 3 * HOUR_MS, Stage.ASLEEP),
        ]

    (merged,) = summarize_nights(night(45), BERLIN)
    assert merged.tst_min == pytest.approx(300) and merged.waso_min == pytest.approx(45)
    assert merged.awakenings == 1
    (split,) = summarize_nights(night(90), BERLIN)
    assert split.tst_min == pytest.approx(180)  # the longer block is the main period
    assert split.nap_min == pytest.approx(120)
    assert split.sleep_onset_latency_min == pytest.approx(60)  # leading wake capped at 60 min


def test_sleep_across_dst_change_counts_real_minutes() -> None:
    spans = [SleepSpan(ms(2024, 3, 30, 23, 0), ms(2024, 3, 31, 7, 0), Stage.ASLEEP)]  # 23:00 CET → 07:00 CEST
    (n,) = summarize_nights(spans, BERLIN)
    assert n.label == date(2024, 3, 31)
    assert n.tst_min == pytest.approx(7 * 60)


def test_resting_hr_and_night_ln_rmssd() -> None:
    spans = _spans()[:8]
    t0 = ms(2024, 6, 1, 20, 0)
    hr_t = t0 + np.arange(12 * 60) * 60_000  # one sample a minute, 20:00 → 08:00
    bpm = np.full(hr_t.size, 60.0)
    low = (hr_t >= ms(2024, 6, 2, 2, 0)) & (hr_t < ms(2024, 6, 2, 2, 5))
    bpm[low] = 50.0
    bpm[hr_t == ms(2024, 6, 1, 21, 0)] = 40.0  # before sleep: ignored
    w_t = ms(2024, 6, 1, 22, 0) + np.arange(0, 9 * 60, 5) * 60_000  # windows every 5 min 22:00 → 06:55
    ln = np.where((w_t >= ms(2024, 6, 1, 22, 50)) & (w_t <= ms(2024, 6, 2, 6, 25)), 4.0, 1.0)
    ok = np.ones(w_t.size, dtype=bool)
    bad = w_t == ms(2024, 6, 2, 3, 0)
    ln[bad], ok[bad] = 10.0, False
    (n,) = summarize_nights(
        spans, BERLIN, hr_t_ms=hr_t, hr_bpm=bpm, hrv_window_t_ms=w_t, hrv_ln_rmssd=ln, hrv_quality_ok=ok
    )
    assert n.resting_hr_bpm == pytest.approx(50.0)
    assert n.ln_rmssd_night == pytest.approx(4.0)
    assert n.n_hrv_windows == 91  # 22:50 … 06:25 is 92 windows, one failed the quality gate


def test_night_series_fills_the_calendar() -> None:
    nights = summarize_nights(_spans(), BERLIN)
    s = night_series(nights, first=date(2024, 6, 1), last=date(2024, 6, 4))
    assert s.labels == tuple(date(2024, 6, 1) + timedelta(days=i) for i in range(4))
    assert set(NIGHT_METRICS) <= set(s.metrics)
    tst = s.metrics["tst_min"]
    assert math.isnan(tst[0]) and tst[1] == pytest.approx(449.5) and tst[2] == pytest.approx(480)
    assert math.isnan(s.metrics["deep_min"][2])  # no device stages that night
    assert np.isnan(s.metrics["ln_rmssd_night"]).all()
