"""Minimum detectable effects of the within-session tests, from the decision rule actually used (pure).

The acute rows are judged by exact permutation tests: a sign-flip test of the per-session changes
(all 2ⁿ sign patterns up to n = 15) and a label-permutation test of massage minus rest (all
C(n_a + n_b, n_a) relabellings up to 20,000). Two facts about them drive the figures here:

* Discreteness. An exact test can only give p-values that are multiples of 1/(number of patterns),
  and the two mirror-image extremes tie, so the smallest p is 2/2ⁿ for the sign flip (0.0625 at n = 5:
  "improved" is impossible with 5 sessions). The level actually used is α_eff = the largest attainable
  p-value ≤ α; when none exists the row says "not enough data" and shows no MDE.
* Multiplicity. A row is called when its Benjamini–Hochberg q < α. Whatever the other rows do, p ≤ α/m
  is always enough and nothing weaker is guaranteed, so the MDE is sized at α/m (m = rows tested).

Power at a standardised effect δ (δ = mean change / SD of the changes): for the sign flip with n ≤ 10
it is simulated under the exact rule (1,500 seeded draws of normal changes, every sign pattern), since
there the t-test approximation overstates the exact test (73 % instead of 80 % at n = 6); otherwise
that of the t-test at α_eff: for normal changes the permutation test conditional on |Δ| and the t-test agree closely once
the level is attainable (Lehmann & Romano, *Testing Statistical Hypotheses*, §17.2); noncentral t:
power = P(|T_{n−1}(δ√n)| > t_{1−α_eff/2}). The tests in tests/tracker/analysis check by simulation
that the exact tests reach ≥ 80 % at the MDE this returns. MDE = the δ with power 0.80 (brentq).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy import optimize, special

POWER = 0.80
EXACT_SIGN_FLIP_MAX_N = 15
EXACT_RELABEL_MAX = 20_000
N_RANDOM = 10_000
MAX_SESSIONS_SEARCH = 400


def sign_flip_min_p(n: int) -> float:
    """Smallest p-value the two-sided sign-flip test can give with n changes."""
    if n < 1:
        return 1.0
    if n <= EXACT_SIGN_FLIP_MAX_N:
        return 2.0 / 2.0**n
    return 1.0 / (1.0 + N_RANDOM)


def relabel_min_p(n_a: int, n_b: int) -> float:
    """Smallest p-value of the two-sided label-permutation test (mirror ties when n_a = n_b)."""
    if n_a < 1 or n_b < 1:
        return 1.0
    total = math.comb(n_a + n_b, n_a)
    if total > EXACT_RELABEL_MAX:
        return 1.0 / (1.0 + N_RANDOM)
    return (2.0 if n_a == n_b else 1.0) / total


def _attainable_level(alpha: float, min_p: float, step: float | None) -> float | None:
    """Largest attainable p-value ≤ alpha (multiples of `step` when exact), None if none is."""
    if min_p > alpha:
        return None
    if step is None:
        return alpha
    return math.floor(alpha / step + 1e-9) * step


def _t_power(delta: float, df: int, ncp_per_delta: float, level: float) -> float:
    # scipy.special's ufuncs directly: the scipy.stats wrappers cost ~1 ms a call, and the searches
    # below make hundreds of calls.
    crit = float(special.stdtrit(df, 1.0 - level / 2.0))
    ncp = delta * ncp_per_delta
    upper = 1.0 - float(special.nctdtr(df, ncp, crit))
    if not math.isfinite(upper):  # far in the tail the normal shift is close
        upper = float(special.ndtr(ncp - crit))
    lower = float(special.nctdtr(df, ncp, -crit))
    return upper + (lower if math.isfinite(lower) else 0.0)


def _solve(df: int, ncp_per_delta: float, level: float) -> float:
    f = lambda d: _t_power(d, df, ncp_per_delta, level) - POWER  # noqa: E731
    hi = 1.0
    while f(hi) < 0 and hi < 1e4:
        hi *= 2.0
    return float(optimize.brentq(f, 0.0, hi, xtol=1e-5))


MONTE_CARLO_MAX_N = 10
MONTE_CARLO_DRAWS = 1_500


def _sign_flip_mde_monte_carlo(n: int, alpha: float, t_guess: float) -> float:
    """MDE of the exact sign-flip test by simulation (fixed seed, common random numbers, bisection).

    For n ≤ 10 the t-test approximation overstates the exact test's power near its attainable limit
    (≈ 73 % instead of 80 % at n = 6), so the rule itself is simulated: Δ ~ N(δ, 1), all 2ⁿ patterns.
    The search starts from the t-test's MDE `t_guess`, which the exact test's MDE is not below."""
    rng = np.random.default_rng(np.random.SeedSequence([20_260_109, n]))
    z = rng.standard_normal((MONTE_CARLO_DRAWS, n)).astype(np.float32)
    codes = np.arange(2**n, dtype=np.int64)[:, None]
    signs = (1.0 - 2.0 * ((codes >> np.arange(n)) & 1)).astype(np.float32)
    a = signs @ z.T  # (2ⁿ, R): Σ signs·noise
    c = signs.sum(axis=1)[:, None]  # Σ signs: the effect's share of each pattern
    a0, c0 = z.sum(axis=1), float(n)
    limit = int(math.floor(alpha * 2.0**n + 1e-9))  # reject when at most `limit` patterns are as extreme

    def power(delta: float) -> float:
        obs = np.abs(a0 + delta * c0) * (1 - 1e-6)
        count = np.count_nonzero(np.abs(a + delta * c) >= obs[None, :], axis=0)
        return float(np.mean(count <= limit))

    lo, hi = 0.9 * t_guess, 1.3 * t_guess
    while power(lo) >= POWER and lo > 1e-3:
        lo *= 0.8
    while power(hi) < POWER and hi < 64:
        hi *= 1.5
    for _ in range(10):  # to 1/1,024 of the bracket: below the simulation error
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if power(mid) < POWER else (lo, mid)
    return hi


@lru_cache(maxsize=4096)
def paired_mde_sd(n: int, alpha: float) -> float | None:
    """MDE (in SDs of the changes) of the sign-flip test at level alpha with n sessions; None if unreachable."""
    if n < 2:
        return None
    step = 2.0 / 2.0**n if n <= EXACT_SIGN_FLIP_MAX_N else None
    level = _attainable_level(alpha, sign_flip_min_p(n), step)
    if level is None or level <= 0:
        return None
    t_mde = _solve(n - 1, math.sqrt(n), level)
    if n <= MONTE_CARLO_MAX_N:
        return _sign_flip_mde_monte_carlo(n, level, t_mde)
    return t_mde


@lru_cache(maxsize=4096)
def two_sample_mde_sd(n_a: int, n_b: int, alpha: float) -> float | None:
    """MDE (in pooled SDs) of the label-permutation test of mean(a) − mean(b); None if unreachable."""
    if n_a < 2 or n_b < 2:
        return None
    total = math.comb(n_a + n_b, n_a)
    exact = total <= EXACT_RELABEL_MAX
    step = ((2.0 if n_a == n_b else 1.0) / total) if exact else None
    level = _attainable_level(alpha, relabel_min_p(n_a, n_b), step)
    if level is None or level <= 0:
        return None
    return _solve(n_a + n_b - 2, 1.0 / math.sqrt(1.0 / n_a + 1.0 / n_b), level)


def _first_true(lo: int, hi: int, ok) -> int | None:  # type: ignore[no-untyped-def]
    """Smallest x in [lo, hi] with ok(x), for ok monotone in x (binary search); None if ok(hi) is False."""
    if not ok(hi):
        return None
    while lo < hi:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid + 1
    return lo


@lru_cache(maxsize=4096)
def paired_sessions_needed(n: int, alpha: float, target_sd: float) -> int | None:
    """Further sessions until the sign-flip MDE is ≤ target_sd (None beyond the search limit)."""

    def ok(total: int) -> bool:
        m = paired_mde_sd(total, alpha)
        return m is not None and m <= target_sd

    total = _first_true(max(n, 2), max(n, 2) + MAX_SESSIONS_SEARCH, ok)
    return None if total is None else total - n


def _grow(n_a: int, n_b: int, extra: int) -> tuple[int, int]:
    """Give `extra` new sessions one by one to the smaller group (that shrinks √(1/n_a + 1/n_b) most)."""
    a, b = n_a, n_b
    gap = abs(a - b)
    first = min(gap, extra)
    if a < b:
        a += first
    else:
        b += first
    rest = extra - first
    return a + rest // 2 + (rest % 2 if a <= b else 0), b + rest // 2 + (rest % 2 if a > b else 0)


@lru_cache(maxsize=4096)
def two_sample_more_needed(n_a: int, n_b: int, alpha: float, target_sd: float) -> tuple[int, int] | None:
    """(more a, more b) sessions, fewest in total, until the MDE is ≤ target_sd (new sessions go to the
    smaller group first)."""

    def ok(extra: int) -> bool:
        a, b = _grow(max(n_a, 0), max(n_b, 0), extra)
        m = two_sample_mde_sd(a, b, alpha) if a >= 2 and b >= 2 else None
        return m is not None and m <= target_sd

    extra = _first_true(0, 2 * MAX_SESSIONS_SEARCH, ok)
    if extra is None:
        return None
    a, b = _grow(max(n_a, 0), max(n_b, 0), extra)
    return a - n_a, b - n_b
