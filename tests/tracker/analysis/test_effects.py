"""Statistics of tracker.analysis.effects: hand-checked small cases and simulation-based validation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from tracker.analysis.effects import (
    benjamini_hochberg,
    control_mask,
    group_difference,
    hedges_g,
    hedges_j,
    label_permutation_p,
    lag_masks,
    paired_change,
    rolling_baseline,
    sign_flip_p,
    spearman_permutation,
    t_interval,
    welch_interval,
)
from tracker.analysis.adjusted import adjusted_effects, set_aside_artefacts, weekday_permutations
from tracker.analysis.verdicts import Verdict, night_verdict

# --- acute ----------------------------------------------------------------------------------------


def test_sign_flip_exact_small_sets() -> None:
    # Only ++++ and ---- reach |Σ| = 10 among the 16 patterns.
    assert sign_flip_p([1, 2, 3, 4], seed=0) == pytest.approx(2 / 16)
    # ±2±3±1: |Σ| ≥ 4 for (6, 4, −4, −6) → 4 of 8.
    assert sign_flip_p([2, 3, -1], seed=0) == pytest.approx(4 / 8)
    # A zero sum is matched by every pattern.
    assert sign_flip_p([1, -1], seed=0) == pytest.approx(1.0)


def test_sign_flip_random_path_is_seeded_and_bounded() -> None:
    x = np.linspace(0.1, 2.0, 20)
    p1 = sign_flip_p(x, seed=3)
    assert p1 == sign_flip_p(x, seed=3)
    assert p1 == pytest.approx(1 / 10_001)  # all positive: no random pattern reaches the observed sum
    assert sign_flip_p(np.array([1.0, -1.0] * 10), seed=1) == pytest.approx(1.0)


def test_paired_change_t_interval_matches_scipy() -> None:
    d = np.array([-3.0, -1.5, -4.2, 0.5, -2.0, np.nan])
    pc = paired_change(d, seed=0)
    ref = stats.ttest_1samp(d[:-1], 0).confidence_interval(0.95)
    assert pc.n == 5
    assert pc.mean_change == pytest.approx(-2.04)
    assert pc.ci95 == pytest.approx((ref.low, ref.high))
    # |Σ| = 10.2; at least as extreme: the observed pattern, the one with 0.5 flipped (|Σ| = 11.2)
    # and both negations → 4 of 32.
    assert pc.p == pytest.approx(4 / 32)
    assert t_interval([1.0]) is None


def test_welch_interval_and_label_permutation() -> None:
    a = np.array([1.0, 2.0, 4.0, 7.0])
    b = np.array([3.0, 5.0, 6.0, 9.0, 12.0])
    ref = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert welch_interval(a, b) == pytest.approx((ref.low, ref.high))
    # {1,2} vs {3,4}: of the 6 relabellings, {1,2} and {3,4} give |Δ| = 2.
    assert label_permutation_p([1, 2], [3, 4], seed=0) == pytest.approx(2 / 6)
    gd = group_difference(a, b, seed=0)
    assert gd.difference == pytest.approx(a.mean() - b.mean())
    assert 0 < gd.p <= 1


# --- multiplicity, effect size, power ---------------------------------------------------------------


def test_benjamini_hochberg_against_hand_computation() -> None:
    # sorted .01 .03 .04 .20 → m·p/j = .04 .06 .0533 .20 → running min from the top: .04 .0533 .0533 .20
    q = benjamini_hochberg([0.01, 0.04, 0.03, 0.20, np.nan])
    assert q[:4] == pytest.approx([0.04, 0.16 / 3, 0.16 / 3, 0.20])
    assert math.isnan(q[4])
    assert benjamini_hochberg([0.9, 0.95]) == pytest.approx([0.95, 0.95])


def test_hedges_g_formula() -> None:
    x = [1.0, 2.0, 3.0, 4.0]
    y = [2.0, 3.0, 4.0, 5.0, 6.0]
    sp = math.sqrt((3 * np.var(x, ddof=1) + 4 * np.var(y, ddof=1)) / 7)
    j = 1 - 3 / (4 * 9 - 9)
    assert hedges_j(4, 5) == pytest.approx(j)
    assert hedges_g(x, y) == pytest.approx(j * (-1.5) / sp)
    assert hedges_g(x, y) == pytest.approx(-0.910840, abs=1e-6)


# --- nights -------------------------------------------------------------------------------------------


def test_rolling_baseline_uses_past_only() -> None:
    rng = np.random.default_rng(1)
    y = rng.normal(size=50)
    bl = rolling_baseline(y)
    # Fewer than 7 past nights: unscored.
    assert np.isnan(bl.deviation[:7]).all() and np.isfinite(bl.deviation[7:]).all()
    window = y[12:40]
    med = np.median(window)
    assert bl.median[40] == pytest.approx(med)
    assert bl.scale[40] == pytest.approx(1.4826 * np.median(np.abs(window - med)))
    # Changing the future never changes the past scores.
    y2 = y.copy()
    y2[30:] += 100
    assert np.array_equal(rolling_baseline(y2).deviation[:30], bl.deviation[:30], equal_nan=True)


def test_lag_and_control_masks() -> None:
    md = np.zeros(10, dtype=bool)
    md[2] = True
    lm = lag_masks(md, (1, 2, 3))
    assert [np.flatnonzero(r).tolist() for r in lm] == [[3], [4], [5]]
    assert np.flatnonzero(~control_mask(md)).tolist() == [3, 4, 5]


def _ar1(rng: np.random.Generator, n_people: int, n_days: int, phi: float) -> np.ndarray:
    e = rng.normal(size=(n_people, n_days))
    y = np.empty_like(e)
    y[:, 0] = e[:, 0] / math.sqrt(1 - phi**2)
    for t in range(1, n_days):
        y[:, t] = phi * y[:, t - 1] + e[:, t]
    return y


def _session_days(rng: np.random.Generator, n_people: int, n_days: int, k: int) -> np.ndarray:
    # k distinct days per person, after the 7-night baseline warm-up and before the last night.
    keys = rng.random((n_people, n_days))
    keys[:, :7] = 2.0
    keys[:, -1] = 2.0
    days = np.argsort(keys, axis=1)[:, :k]
    md = np.zeros((n_people, n_days), dtype=bool)
    np.put_along_axis(md, days, True, axis=1)
    return md


def _adjusted(y: np.ndarray, md: np.ndarray, seed: int, lags=(1,)):  # type: ignore[no-untyped-def]
    return adjusted_effects(y, weekday_permutations(md, 0, seed=seed), lags=lags)


def _verdict(metric: str, e, primary: bool = True) -> Verdict:  # type: ignore[no-untyped-def]
    return night_verdict(metric, n_values=e.n_rows, n_scored=e.n_rows, n_lag=e.n_lag, n_control=e.n_other,
                         ci95=e.ci95, p=e.p, q=e.p, primary=primary, separable=e.separable,
                         reachable=e.reachable)  # fmt: skip


def test_planted_lag1_effect_is_found_with_right_sign_and_covering_ci() -> None:
    rng = np.random.default_rng(7)
    n_days, true_effect = 150, 0.30  # 2 SD of the 0.15 night-to-night noise
    md = _session_days(rng, 1, n_days, 20)[0]
    y = 3.8 + 0.15 * _ar1(rng, 1, n_days, 0.4)[0]
    y[1:][md[:-1]] += true_effect
    lag1, lag2 = _adjusted(y, md, 0, lags=(1, 2))
    assert lag1.estimate == pytest.approx(true_effect, abs=0.1)
    assert 0 < lag1.ci95[0] <= true_effect <= lag1.ci95[1]
    assert lag1.p < 0.05
    assert _verdict("ln_rmssd_night", lag1) is Verdict.IMPROVED
    assert _verdict("resting_hr_bpm", lag1, primary=False) is Verdict.WORSENED  # a rise in resting HR
    assert lag2.ci95[0] < 0 < lag2.ci95[1] or abs(lag2.estimate) < 0.1


def test_weekday_permutations_keep_each_weekday_count() -> None:
    md = np.zeros(70, dtype=bool)
    md[[5, 12, 19, 3, 41]] = True  # three Saturdays (day 0 = Monday), a Thursday, a Sunday
    perms = weekday_permutations(md, 0, seed=1, n_perm=200)
    wd = np.arange(70) % 7
    for w in range(7):
        assert (perms.permuted[:, wd == w].sum(axis=1) == md[wd == w].sum()).all()
    assert perms.log10_arrangements == pytest.approx(math.log10(math.comb(10, 3) * 10 * 10))


def test_null_effect_primary_endpoint_false_calls_at_most_5_percent_and_p_agrees_with_ci() -> None:
    n_people, n_days, k = 300, 60, 8
    rng = np.random.default_rng(2024)
    y = 3.8 + 0.15 * _ar1(rng, n_people, n_days, 0.4)
    md = _session_days(rng, n_people, n_days, k)
    calls = 0
    for i in range(n_people):
        (e,) = _adjusted(y[i], md[i], i)
        calls += _verdict("ln_rmssd_night", e) in (Verdict.IMPROVED, Verdict.WORSENED)
        assert (e.p < 0.05) == (e.ci95[0] > 0 or e.ci95[1] < 0)
    assert calls / n_people <= 0.05, calls


def test_artefact_nights_are_set_aside() -> None:
    rng = np.random.default_rng(3)
    y = 3.8 + 0.15 * _ar1(rng, 1, 90, 0.6)[0]
    y[[20, 50]] += [1.2, -1.0]
    base = np.hstack([(np.arange(90)[:, None] % 7 == np.arange(7)).astype(float), np.linspace(-1, 1, 90)[:, None]])
    out = set_aside_artefacts(y, base)
    assert np.isnan(out[[20, 50]]).all()
    assert np.isnan(out).sum() <= 4  # real nights are kept


def test_unscored_inputs_and_a_weekday_locked_schedule() -> None:
    md = np.zeros(84, dtype=bool)
    md[5::7] = True  # every Saturday
    (none,) = _adjusted(np.full(84, np.nan), md, 0)
    assert none.estimate is None and none.ci95 is None and none.p is None
    rng = np.random.default_rng(0)
    (e,) = _adjusted(rng.normal(size=84), md, 0)
    assert not e.separable and e.weekday_information < 2
    assert _verdict("ln_rmssd_night", e) is Verdict.CANNOT_SEPARATE_WEEKDAY


def test_spearman_permutation() -> None:
    x = np.arange(12.0)
    r = spearman_permutation(x, x**2, seed=0)
    assert r.rho == pytest.approx(1.0)
    assert r.p < 0.001
    assert spearman_permutation(np.ones(12), x, seed=0).rho is None


def test_random_relabellings_are_uniform_subsets_and_agree_with_the_exact_test() -> None:
    """The random branch (partial Fisher–Yates k-subsets) draws every value into the smaller group equally
    often, and its p agrees with the exact enumeration within Monte Carlo error."""
    import math

    import tracker.analysis.effects as effects

    rng = np.random.default_rng(5)
    for na, nb, shift in ((10, 6, 0.0), (9, 7, 0.8), (6, 10, 1.5), (12, 3, 0.5)):
        a, b = rng.normal(shift, 1, na), rng.normal(0, 1, nb)
        exact = effects.label_permutation_p(a, b, seed=1)
        assert math.comb(na + nb, na) <= effects.EXACT_RELABEL_MAX  # that one enumerated every relabelling
        draws = 20_000
        random = effects.label_permutation_p(a, b, seed=3, n_random=draws, exact_max=0)
        assert exact is not None and random is not None
        se = math.sqrt(max(exact * (1 - exact), 1e-4) / draws)
        assert abs(random - exact) < 5 * se + 1 / draws, (na, nb, exact, random)
    # Uniform subsets: every value is chosen equally often, and every pair too (a shuffle that favoured
    # neighbours, or the first positions, would fail this).
    n, k, draws = 11, 4, 30_000
    subsets = effects.random_subsets(np.random.default_rng(11), n, k, draws)
    assert all(len(set(row)) == k for row in subsets[:500].tolist())
    seen = np.bincount(subsets.ravel(), minlength=n)
    expected = draws * k / n
    assert np.all(np.abs(seen - expected) < 5 * math.sqrt(expected)), seen
    pair = np.zeros((n, n))
    for c1 in range(k):
        for c2 in range(k):
            if c1 != c2:
                np.add.at(pair, (subsets[:, c1], subsets[:, c2]), 1)
    off = pair[~np.eye(n, dtype=bool)]
    expected_pair = draws * k * (k - 1) / (n * (n - 1))
    assert np.all(np.abs(off - expected_pair) < 5 * math.sqrt(expected_pair)), off
