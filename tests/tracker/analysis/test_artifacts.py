"""Tests for tracker.analysis.artifacts: range gate, 11-beat local-median gate, quality gate."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest

from tracker.analysis.artifacts import artefact_mask, gate_rr, local_median_ms, valid_pairs

REPO_ROOT = Path(__file__).resolve().parents[3]
VECTORS = REPO_ROOT / "tests" / "data" / "vectors" / "hrv"


def load_rr(name: str) -> np.ndarray:
    return np.loadtxt(VECTORS / name, delimiter=",", skiprows=1)


# ---------------------------------------------------------------- reference vectors


def test_reference_artefacts_flag_exactly_the_injected_beats() -> None:
    result = gate_rr(load_rr("rr_artifacts.csv"))
    expected = json.loads((VECTORS / "results" / "artifacts_python3.11.7_neurokit20.2.13.json").read_text())
    assert result.flagged.tolist() == [60, 61, 121, 180, 181, 240]
    assert result.flagged.tolist() == expected["results"]["median_filter_drop_pairs"]["flagged_idx"]
    assert result.n_beats == 300
    assert result.n_flagged == 6
    assert result.flagged_pct == pytest.approx(2.0)
    assert result.quality_ok is True
    assert int(valid_pairs(result.valid).sum()) == expected["results"]["median_filter_drop_pairs"]["n_diffs"]


def test_reference_clean_series_flags_nothing() -> None:
    result = gate_rr(load_rr("rr_clean.csv"))
    assert result.flagged.size == 0
    assert result.valid.all()
    assert result.coverage_pct == 100.0
    assert result.quality_ok is True


# ---------------------------------------------------------------- range gate


@pytest.mark.parametrize(
    ("value_ms", "valid"),
    [
        (299.9, False),
        (300.0, True),
        (1000.0, True),
        (2000.0, True),
        (2000.1, False),
        (0.0, False),
        (-800.0, False),
        (math.nan, False),
        (math.inf, False),
    ],
)
def test_range_gate_bounds_are_inclusive(value_ms: float, valid: bool) -> None:
    # A constant series: the local median equals the value, so only the range gate can flag it.
    mask = artefact_mask(np.full(21, value_ms))
    assert mask.tolist() == [valid] * 21


# ---------------------------------------------------------------- local-median gate


@pytest.mark.parametrize(
    ("value_ms", "flagged"),
    [
        (1200.0, False),  # exactly +20 %: the rule is strict ">"
        (1201.0, True),
        (800.0, False),  # exactly −20 %
        (799.0, True),
        (1150.0, False),
    ],
)
def test_local_median_threshold_is_strict_20_percent(value_ms: float, flagged: bool) -> None:
    rr = np.full(31, 1000.0)
    rr[15] = value_ms
    result = gate_rr(rr)
    assert result.flagged.tolist() == ([15] if flagged else [])


def test_local_median_uses_eleven_beats() -> None:
    # Beats 6 apart do not see each other: a 1300-ms beat at i has neighbours 1000 only within ±5.
    rr = np.full(40, 1000.0)
    rr[[10, 16, 22]] = 1300.0
    assert gate_rr(rr).flagged.tolist() == [10, 16, 22]
    # Six equal long beats in a row make the 11-beat median long for the middle ones (median is robust to 5 of 11).
    rr = np.full(40, 1000.0)
    rr[15:21] = 1300.0
    med = local_median_ms(rr)
    assert med[17] == 1300.0 and med[12] == 1000.0


def test_out_of_range_beats_do_not_take_part_in_the_median() -> None:
    # Beat 10 (790 ms) has five 1000-ms neighbours on the left and five 100-ms (out-of-range) ones on the right.
    # Counting the 100-ms values the median would be 790 (not flagged); ignoring them it is 1000 → 21 % off.
    rr = np.array([1000.0] * 10 + [790.0] + [100.0] * 10)
    med = local_median_ms(rr)
    assert med[10] == 1000.0
    result = gate_rr(rr)
    assert 10 in result.flagged.tolist()
    assert set(range(11, 21)) <= set(result.flagged.tolist())  # range gate
    assert not set(range(0, 10)) & set(result.flagged.tolist())


def test_edges_are_reflect_padded_without_repeating_the_edge_beat() -> None:
    # Numpy "reflect" pads beat 0 with RR[5..1]: window = 1300×5, 1000×6 → median 1000 → beat 0 flagged.
    # "symmetric" padding (edge repeated) would give 1300×6 and let the beat pass.
    rr = np.array([1300.0, 1300.0, 1300.0] + [1000.0] * 10)
    assert local_median_ms(rr)[0] == 1000.0
    assert 0 in gate_rr(rr).flagged.tolist()


@pytest.mark.parametrize("n", [1, 2, 3, 5, 11])
def test_short_series_are_padded_and_clean(n: int) -> None:
    result = gate_rr(np.full(n, 950.0))
    assert result.n_beats == n and result.n_flagged == 0 and result.quality_ok


def test_window_of_only_out_of_range_beats_has_no_median() -> None:
    rr = np.array([100.0] * 12)
    assert np.isnan(local_median_ms(rr)).all()
    assert gate_rr(rr).n_flagged == 12


# ---------------------------------------------------------------- quality gate and counts


def test_quality_fails_above_five_percent_flagged() -> None:
    rr = np.full(100, 1000.0)
    rr[[10, 30, 50, 70, 90]] = 5000.0  # 5 % → still ok if coverage holds
    ok = gate_rr(rr, window_s=100.0)
    assert ok.flagged_pct == pytest.approx(5.0)
    assert ok.coverage_pct == pytest.approx(95.0)
    assert ok.quality_ok is True
    rr[95] = 5000.0  # 6 %
    bad = gate_rr(rr, window_s=100.0)
    assert bad.flagged_pct == pytest.approx(6.0)
    assert bad.quality_ok is False


@pytest.mark.parametrize(
    ("window_s", "coverage_pct", "ok"),
    [
        (100.0, 100.0, True),
        (125.0, 80.0, True),
        (130.0, 100.0 * 100.0 / 130.0, False),
        (50.0, 100.0, True),  # capped: beats may start before the window
    ],
)
def test_coverage_against_window_duration(window_s: float, coverage_pct: float, ok: bool) -> None:
    result = gate_rr(np.full(100, 1000.0), window_s=window_s)
    assert result.coverage_pct == pytest.approx(coverage_pct)
    assert result.quality_ok is ok


def test_coverage_without_window_uses_summed_duration_of_all_beats() -> None:
    rr = np.full(100, 1000.0)
    rr[50] = 30000.0  # a 30-s dropout recorded as one interval: out of range
    result = gate_rr(rr)
    assert result.coverage_pct == pytest.approx(100.0 * 99_000.0 / 129_000.0)
    assert result.flagged.tolist() == [50]
    assert result.quality_ok is False  # 1 % flagged, but only 77 % of the time is covered


def test_empty_series() -> None:
    result = gate_rr([])
    assert (result.n_beats, result.n_flagged, result.flagged_pct, result.coverage_pct) == (0, 0, 0.0, 0.0)
    assert result.quality_ok is False


def test_result_is_frozen_and_arrays_read_only() -> None:
    result = gate_rr(np.full(20, 900.0))
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.n_beats = 3  # type: ignore[misc]
    with pytest.raises(ValueError):
        result.valid[0] = False


def test_rejects_two_dimensional_input() -> None:
    with pytest.raises(ValueError):
        gate_rr(np.ones((3, 3)))


def test_rejects_non_positive_window() -> None:
    with pytest.raises(ValueError):
        gate_rr(np.full(10, 900.0), window_s=0.0)


def test_artefact_masks_of_many_series_equal_one_at_a_time() -> None:
    """The batched gate (every capture window of a report at once) gives exactly the per-series masks,
    edges, short series, out-of-range beats and empty series included."""
    from tracker.analysis.artifacts import artefact_mask, artefact_masks

    rng = np.random.default_rng(11)
    series = [rng.normal(900, 60, size=n) for n in (0, 1, 2, 3, 5, 6, 11, 12, 40, 300, 4, 7, 0, 2)]
    series[6][4] = 6000.0  # a dropout: out of range, not part of its neighbours' median
    series[8][[0, 17, 39]] = [1500.0, 250.0, np.nan]
    series[9][100] = 1600.0  # an ectopic-like long beat: flagged against the local median
    batched = artefact_masks(series)
    for rr, mask in zip(series, batched, strict=True):
        assert mask.dtype == bool and np.array_equal(mask, artefact_mask(rr))
    for block in (1, 7, 50):  # passes of a few beats each: the same masks
        assert all(np.array_equal(a, b) for a, b in zip(artefact_masks(series, block_beats=block), batched, strict=True))
    assert not batched[6][4] and not batched[8][17] and not batched[9][100] and batched[9][101]


def test_artefact_masks_of_short_series_with_outliers_equal_one_at_a_time() -> None:
    """Series shorter than the 5-beat padding (reflected more than once) and outliers at their edges."""
    from tracker.analysis.artifacts import artefact_mask, artefact_masks

    rng = np.random.default_rng(23)
    series = []
    for _ in range(300):
        rr = rng.normal(900, 40, size=int(rng.integers(1, 9)))
        rr[rng.random(rr.size) < 0.25] *= rng.choice([0.6, 1.5, 3.0])  # long, short and out-of-range beats
        series.append(rr)
    batched = artefact_masks(series, block_beats=64)
    assert all(np.array_equal(a, artefact_mask(rr)) for a, rr in zip(batched, series, strict=True))
    assert sum(int((~m).sum()) for m, rr in zip(batched, series, strict=True) if rr.size < 6) > 20
