"""The n-of-1 trial's randomisation test, checked by simulation on many simulated people.

Each simulated person has a nightly series with a weekday rhythm (the night after the second slot is
better anyway), day-to-day autocorrelation (AR(1), φ = 0.5) and a slow trend; a trial draws each week's
massage slot with `allocate`. With no effect planted the false-call rate must stay ≤ 5 % and the p-values
must be uniform; with an effect planted the interval must cover it ≥ 94 % of the time and find it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from tracker.analysis.trial import (
    MIN_WEEKS_FOR_ALPHA,
    OutcomeSpec,
    allocate,
    analyse_trial,
    min_weeks_for,
    randomization_test,
)

SLOT_DAYS = (1, 4)  # Tuesday and Friday sessions; outcome: the next night


def simulated_person(rng: np.random.Generator, weeks: int, effect_sd: float, seed: int) -> tuple[list[float], list[float]]:
    """Per-week (massage, rest) outcomes of one person in units of the night-to-night SD."""
    days = 7 * weeks + 7
    phi = 0.5
    noise = np.empty(days)
    noise[0] = rng.normal()
    for t in range(1, days):
        noise[t] = phi * noise[t - 1] + math.sqrt(1 - phi**2) * rng.normal()
    weekday = np.where(np.arange(days) % 7 == SLOT_DAYS[1] + 1, 0.8, 0.0)  # Saturday nights are better anyway
    trend = np.linspace(0, 1.5, days)
    nights = noise + weekday + trend
    massage, rest = [], []
    for w, slot in enumerate(allocate(seed, weeks)):
        after = [nights[7 * w + d + 1] for d in SLOT_DAYS]
        massage.append(after[slot] + effect_sd)
        rest.append(after[1 - slot])
    return massage, rest


def test_allocation_is_reproducible_and_fair() -> None:
    assert allocate(42, 10) == allocate(42, 10)
    assert allocate(42, 10) != allocate(43, 10)
    draws = np.array([allocate(seed, 8) for seed in range(2000)])
    share = draws.mean()  # 16000 fair coins: SE 0.004
    assert abs(share - 0.5) < 0.015
    with pytest.raises(ValueError):
        allocate(1, 0)


def test_exact_p_by_hand() -> None:
    # d = 1..6 all positive: only the observed allocation and its mirror reach |mean| = 3.5 → 2/64.
    t = randomization_test([1, 2, 3, 4, 5, 6], [0] * 6)
    assert (t.method, t.n_allocations, t.n_weeks) == ("exact", 64, 6)
    assert t.p == pytest.approx(2 / 64)
    assert t.estimate == pytest.approx(3.5)
    # d = (1, -1): every allocation has |mean| ≥ 0 → p = 1.
    assert randomization_test([1, 0], [0, 1]).p == 1.0
    # d = (3, 1, 2): flips of the smallest keep |mean| ≥ 2? (3+1+2)/3=2, (3-1+2)/3=1.33 … only ±(3,1,2) → 2/8.
    assert randomization_test([3, 1, 2], [0, 0, 0]).p == pytest.approx(2 / 8)
    # Missing outcomes drop their week.
    t = randomization_test([1, math.nan, 2], [0, 0, math.nan])
    assert t.n_weeks == 1


def test_too_few_weeks_give_no_interval() -> None:
    assert MIN_WEEKS_FOR_ALPHA == 6 == min_weeks_for(0.05)
    t = randomization_test([5, 6, 7, 8, 9], [0] * 5)  # as strong as 5 weeks can be: p = 2/32 > 0.05
    assert t.p == pytest.approx(0.0625) and t.min_p == pytest.approx(0.0625)
    assert t.ci95 is None
    results = analyse_trial({"x": (OutcomeSpec("x", "resting heart rate", "bpm", "on the night after"), [5, 6, 7, 8, 9], [0] * 5)}, "x")
    assert results[0].verdict == "not enough weeks"
    assert "1 more complete week needed" in results[0].statement
    assert "massage" not in results[0].statement.lower().split("with")[0]


def test_monte_carlo_agrees_with_exact() -> None:
    rng = np.random.default_rng(3)
    m, r = rng.normal(0.6, 1, 12), rng.normal(0, 1, 12)
    exact = randomization_test(m, r)
    mc = randomization_test(m, r, exact_max_weeks=0, draws=9_999, seed=5)
    assert exact.method == "exact" and mc.method == "monte_carlo" and mc.n_allocations == 9_999
    assert abs(exact.p - mc.p) < 4 * math.sqrt(exact.p * (1 - exact.p) / 9_999) + 1e-4
    assert mc.p >= 1 / 10_000  # the +1 correction: never 0
    assert exact.ci95 is not None and mc.ci95 is not None
    assert mc.ci95 == pytest.approx(exact.ci95, abs=0.15)


@pytest.mark.slow
def test_no_effect_false_calls_at_most_5_percent_and_uniform_p() -> None:
    """2000 simulated people, 8-week trials, weekday rhythm + autocorrelation + trend, no effect."""
    rng = np.random.default_rng(2027)
    people = 2000
    p = np.empty(people)
    agree = 0
    for i in range(people):
        m, r = simulated_person(rng, 8, 0.0, seed=i)
        t = randomization_test(m, r, seed=i)
        p[i] = t.p
        agree += (t.p <= 0.05) == (t.ci95 is not None and not t.ci95[0] <= 0 <= t.ci95[1])
    assert agree == people  # the interval and the p-value never disagree
    se = math.sqrt(0.05 * 0.95 / people)
    assert (p <= 0.05).mean() <= 0.05 + 2 * se
    for a in (0.01, 0.1, 0.25, 0.5, 0.75):  # exact test: P(p ≤ a) ≤ a (discrete, so ≤ rather than =)
        assert (p <= a).mean() <= a + 3 * math.sqrt(a * (1 - a) / people), a


@pytest.mark.slow
def test_no_effect_monte_carlo_p_values_are_uniform() -> None:
    rng = np.random.default_rng(2028)
    people = 1000
    p = np.array([randomization_test(*simulated_person(rng, 20, 0.0, seed=i), seed=i, draws=999).p for i in range(people)])
    # An anti-conservative test (e.g. 10 % false calls) gives a KS p far below 0.001 with 1000 people.
    assert stats.kstest(p, "uniform").pvalue > 0.001
    assert (p <= 0.05).mean() <= 0.05 + 2 * math.sqrt(0.05 * 0.95 / people)


@pytest.mark.slow
@pytest.mark.parametrize(("effect_sd", "weeks"), [(0.5, 10), (-2.0, 10)])
def test_planted_effect_is_covered_and_found(effect_sd: float, weeks: int) -> None:
    rng = np.random.default_rng(7)
    people = 800
    covered = found = 0
    for i in range(people):
        t = randomization_test(*simulated_person(rng, weeks, effect_sd, seed=10_000 + i), seed=i)
        assert t.ci95 is not None
        covered += t.ci95[0] <= effect_sd <= t.ci95[1]
        found += t.p <= 0.05 and (t.estimate > 0) == (effect_sd > 0)
    assert covered / people >= 0.94
    # SD(d_w) ≈ 1.55 here (two nights 3 days apart, plus the ±0.8 weekday rhythm): SE of 10 weeks ≈ 0.49.
    if abs(effect_sd) >= 2.0:  # z ≈ 4: found nearly always
        assert found / people >= 0.90
    else:  # z ≈ 1: power about 15 %, still clearly more than the 5 % of chance (800 people: SE 0.8 %)
        assert found / people >= 0.10


def test_only_a_significant_trial_result_is_worded_causally() -> None:
    spec = OutcomeSpec("resting_hr_bpm", "resting heart rate", "bpm", "on the night after")
    other = OutcomeSpec("tst_min", "total sleep", "min", "on the night after")
    strong = analyse_trial({"resting_hr_bpm": (spec, [50, 51, 49, 50, 52, 50, 51, 49], [55, 54, 56, 55, 54, 56, 55, 57]),
                            "tst_min": (other, [400, 420, 410, 405, 415, 400, 420, 410], [410, 405, 400, 420, 415, 410, 400, 405])},
                           "resting_hr_bpm")  # fmt: skip
    primary, secondary = strong
    assert primary.primary and primary.verdict == "lowered"
    assert primary.statement.startswith("In this randomised test massage lowered resting heart rate on the night after by 5 bpm (95 % CI 3.33 to 6.67; p = 0.00781).")
    assert secondary.verdict == "cannot tell" and secondary.q is not None
    assert secondary.statement.startswith("This trial cannot tell yet whether massage changes total sleep")
    assert primary.to_dict()["ci95"][1] < 0
