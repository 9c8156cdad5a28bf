"""Honest n-of-1 effect statistics: per-session changes and nights after sessions (pure).

Everything here is a pure function of numpy arrays (and an explicit integer `seed` wherever randomness
is used): no database, no clock, no logging. Conventions follow shared/research/science.md §6.

Acute, within-session (§6A)
    For each session Δ = post − pre. Across sessions: mean Δ, a 95 % Student-t interval
    (Δ̄ ± t₀.₉₇₅,ₙ₋₁·s/√n) and an exact sign-flip permutation p-value (all 2ⁿ sign patterns for n ≤ 15,
    otherwise 10,000 random flips from `numpy.random.default_rng(seed)`, p = (1 + #≥)/(1 + B)).
    Massage minus rest: difference of mean changes with a Welch t interval and a label-permutation
    p-value (exact when the number of relabellings is ≤ 20,000, otherwise 10,000 random ones).

Nights (§6B): the past-only baseline and the lag/control masks
    A daily series y_t (one value per local night, NaN where missing) is scored against the person's own
    past only: m_t = median(y_{t−28..t−1}), s_t = 1.4826·MAD of the same window, and a night is *scored*
    only when at least 7 of those 28 past nights exist and s_t > 0 (no look-ahead); deviation y_t − m_t
    and z_t = (y_t − m_t)/s_t. Lag ℓ night t: a massage took place on local day t − ℓ (the night labelled t
    ends on the morning of day t). Control night: no massage on days t−1, t−2, t−3. The tested, adjusted
    night effects are in `adjusted` (the plain contrast is kept as a description, see `nights`).
    Multiplicity: Benjamini–Hochberg adjusted p-values (`benjamini_hochberg`).

Dose-response (§6E): Spearman ρ with a permutation p-value (10,000 seeded permutations).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

FloatArray = NDArray[np.float64]

BASELINE_WINDOW_NIGHTS = 28
BASELINE_MIN_PAST_NIGHTS = 7
MAD_TO_SD = 1.4826
CONTROL_EXCLUDE_DAYS = 3
N_RANDOM = 10_000
EXACT_SIGN_FLIP_MAX_N = 15
EXACT_RELABEL_MAX = 20_000
PERMUTATION_BLOCK_ROWS = 1_000  # random relabellings drawn and summed per block (bounds memory)
# Relative tolerance when comparing permuted statistics with the observed one, so that a permutation
# that reproduces the observed value exactly (up to float rounding) counts as "at least as extreme".
_TIE_RTOL = 1e-9


def _finite(x: ArrayLike) -> FloatArray:
    a = np.asarray(x, dtype=np.float64).ravel()
    return a[np.isfinite(a)]


def _none_if_nan(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


# --------------------------------------------------------------------------------------------------
# Acute: paired changes
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PairedChange:
    """Summary of per-session changes Δ = post − pre (NaN entries ignored)."""

    n: int
    mean_change: float | None
    sd_change: float | None
    ci95: tuple[float, float] | None
    p: float | None
    d_z: float | None  # mean/SD of the changes (standardised paired effect)


def t_interval(x: ArrayLike, confidence: float = 0.95) -> tuple[float, float] | None:
    """Student-t interval for the mean of the finite values of `x`; None when n < 2."""
    a = _finite(x)
    n = a.size
    if n < 2:
        return None
    m = float(a.mean())
    se = float(a.std(ddof=1)) / math.sqrt(n)
    h = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * se
    return (m - h, m + h)


def sign_flip_p(
    delta: ArrayLike,
    *,
    seed: int,
    n_random: int = N_RANDOM,
    exact_max_n: int = EXACT_SIGN_FLIP_MAX_N,
) -> float | None:
    """Two-sided sign-flip permutation p-value of H0 "changes are symmetric about 0".

    Statistic |Σ Δ|. For n ≤ `exact_max_n` every one of the 2ⁿ sign patterns is enumerated (the observed
    pattern is one of them, so p ≥ 2⁻ⁿ); above that, `n_random` random patterns from
    `default_rng(seed)` and p = (1 + #{|S*| ≥ |S|})/(1 + n_random).
    """
    a = _finite(delta)
    n = a.size
    if n == 0:
        return None
    obs = abs(float(a.sum()))
    thresh = obs - _TIE_RTOL * max(obs, 1e-300)
    if n <= exact_max_n:
        # Rows of ±1 for all 2ⁿ patterns, built from the bits of 0..2ⁿ−1.
        codes = np.arange(2**n, dtype=np.int64)[:, None]
        signs = 1.0 - 2.0 * ((codes >> np.arange(n)) & 1)
        sums = np.abs(signs @ a)
        return float(np.count_nonzero(sums >= thresh)) / float(2**n)
    rng = np.random.default_rng(seed)
    signs = rng.integers(0, 2, size=(n_random, n), dtype=np.int8) * 2 - 1
    sums = np.abs(signs @ a)
    return (1.0 + float(np.count_nonzero(sums >= thresh))) / (1.0 + n_random)


def paired_change(delta: ArrayLike, *, seed: int, n_random: int = N_RANDOM) -> PairedChange:
    """Mean change with a 95 % t-interval and a sign-flip p-value (NaN changes are dropped)."""
    a = _finite(delta)
    n = int(a.size)
    if n == 0:
        return PairedChange(0, None, None, None, None, None)
    mean = float(a.mean())
    sd = float(a.std(ddof=1)) if n >= 2 else None
    d_z = mean / sd if sd else None
    return PairedChange(
        n=n,
        mean_change=mean,
        sd_change=sd,
        ci95=t_interval(a),
        p=sign_flip_p(a, seed=seed, n_random=n_random) if n >= 2 else None,
        d_z=d_z,
    )


@dataclass(frozen=True, slots=True)
class GroupDifference:
    """Difference of means a − b with a Welch interval and a label-permutation p-value."""

    n_a: int
    n_b: int
    difference: float | None
    ci95: tuple[float, float] | None
    p: float | None


def welch_interval(a: ArrayLike, b: ArrayLike, confidence: float = 0.95) -> tuple[float, float] | None:
    """Welch (unequal-variance) t interval for mean(a) − mean(b); None when either n < 2."""
    x, y = _finite(a), _finite(b)
    if x.size < 2 or y.size < 2:
        return None
    va, vb = x.var(ddof=1) / x.size, y.var(ddof=1) / y.size
    se = math.sqrt(va + vb)
    diff = float(x.mean() - y.mean())
    if se == 0.0:
        return (diff, diff)
    # Welch–Satterthwaite degrees of freedom.
    df = (va + vb) ** 2 / (va**2 / (x.size - 1) + vb**2 / (y.size - 1))
    h = float(stats.t.ppf(0.5 + confidence / 2, df)) * se
    return (diff - h, diff + h)


def random_subsets(rng: np.random.Generator, n: int, k: int, rows: int) -> NDArray[np.int64]:
    """(rows, k) indices: each row a uniformly random k-subset of range(n) (a partial Fisher–Yates shuffle)."""
    idx = np.tile(np.arange(n), (rows, 1))
    r = np.arange(rows)
    for j in range(k):
        swap = j + rng.integers(0, n - j, size=rows)
        chosen = idx[r, swap]
        idx[r, swap] = idx[r, j]
        idx[r, j] = chosen
    return idx[:, :k]


def label_permutation_p(
    a: ArrayLike,
    b: ArrayLike,
    *,
    seed: int,
    n_random: int = N_RANDOM,
    exact_max: int = EXACT_RELABEL_MAX,
) -> float | None:
    """Two-sided permutation p-value for |mean(a) − mean(b)| by relabelling the pooled values.

    Exact (all C(n_a+n_b, n_a) relabellings, p = #≥/total) when that number is ≤ `exact_max`;
    otherwise `n_random` random relabellings and p = (1 + #≥)/(1 + n_random).
    """
    x, y = _finite(a), _finite(b)
    na, nb = x.size, y.size
    if na == 0 or nb == 0:
        return None
    pooled = np.concatenate([x, y])
    n = na + nb
    total = pooled.sum()
    obs = abs(x.mean() - y.mean())
    thresh = obs - _TIE_RTOL * max(obs, 1e-300)
    if math.comb(n, na) <= exact_max:
        idx = np.array(list(itertools.combinations(range(n), na)), dtype=np.int64)
        sa = pooled[idx].sum(axis=1)
        diffs = np.abs(sa / na - (total - sa) / nb)
        return float(np.count_nonzero(diffs >= thresh)) / float(idx.shape[0])
    rng = np.random.default_rng(seed)
    hits = 0
    # A relabelling is decided by which k = min(n_a, n_b) values form the smaller group: a uniformly random
    # k-subset is the first k positions of a partial Fisher–Yates shuffle, k vectorised swap steps over all
    # rows of a block. Why not a full shuffle of each row (rng.permuted): with 180 massage and 20 rest
    # sessions it shuffled 200 values to choose 20, and the five acute rows' tests were a third of a cold
    # report. Blocks of rows bound the memory (indices and gathered values).
    k = min(na, nb)
    for first in range(0, n_random, PERMUTATION_BLOCK_ROWS):
        rows = min(PERMUTATION_BLOCK_ROWS, n_random - first)
        small = pooled[random_subsets(rng, n, k, rows)].sum(axis=1)
        sa = small if k == na else total - small
        diffs = np.abs(sa / na - (total - sa) / nb)
        hits += int(np.count_nonzero(diffs >= thresh))
    return (1.0 + float(hits)) / (1.0 + n_random)


def group_difference(a: ArrayLike, b: ArrayLike, *, seed: int, n_random: int = N_RANDOM) -> GroupDifference:
    """mean(a) − mean(b): Welch 95 % interval and label-permutation p (NaNs dropped)."""
    x, y = _finite(a), _finite(b)
    diff = float(x.mean() - y.mean()) if x.size and y.size else None
    return GroupDifference(
        n_a=int(x.size),
        n_b=int(y.size),
        difference=diff,
        ci95=welch_interval(x, y),
        p=label_permutation_p(x, y, seed=seed, n_random=n_random) if x.size >= 2 and y.size >= 2 else None,
    )


# --------------------------------------------------------------------------------------------------
# Multiplicity, effect sizes, power
# --------------------------------------------------------------------------------------------------


def benjamini_hochberg(p: ArrayLike) -> FloatArray:
    """BH-adjusted p-values (q); NaN entries stay NaN and do not count towards m.

    q₍ᵢ₎ = min_{j ≥ i} min(1, m·p₍ⱼ₎/j) over the sorted finite p-values (Benjamini & Hochberg 1995).
    """
    pv = np.asarray(p, dtype=np.float64)
    q = np.full(pv.shape, np.nan)
    ok = np.isfinite(pv)
    m = int(ok.sum())
    if m == 0:
        return q
    vals = pv[ok]
    order = np.argsort(vals, kind="stable")
    scaled = vals[order] * m / np.arange(1, m + 1)
    adj = np.minimum(1.0, np.minimum.accumulate(scaled[::-1])[::-1])
    out = np.empty(m)
    out[order] = adj
    q[ok] = out
    return q


def hedges_j(n1: int, n2: int) -> float:
    """Small-sample correction J = 1 − 3/(4(n1 + n2) − 9) (Hedges 1981)."""
    return 1.0 - 3.0 / (4.0 * (n1 + n2) - 9.0)


def hedges_g(x: ArrayLike, y: ArrayLike) -> float | None:
    """Hedges g of mean(x) − mean(y) with the pooled SD (ddof 1) and the J correction."""
    a, b = _finite(x), _finite(y)
    n1, n2 = a.size, b.size
    if n1 < 2 or n2 < 2:
        return None
    sp2 = ((n1 - 1) * a.var(ddof=1) + (n2 - 1) * b.var(ddof=1)) / (n1 + n2 - 2)
    if sp2 <= 0:
        return None
    return hedges_j(n1, n2) * float(a.mean() - b.mean()) / math.sqrt(sp2)


# --------------------------------------------------------------------------------------------------
# Nights: baseline scoring
# --------------------------------------------------------------------------------------------------


def _sorted_window_median(sorted_w: FloatArray, count: NDArray[np.int64]) -> FloatArray:
    """Median of each row of an ascending-sorted window whose NaNs sit at the end (count = #finite)."""
    lo = np.clip((count - 1) // 2, 0, None)
    hi = np.clip(count // 2, 0, None)
    a = np.take_along_axis(sorted_w, lo[..., None], axis=-1)[..., 0]
    b = np.take_along_axis(sorted_w, hi[..., None], axis=-1)[..., 0]
    med = (a + b) / 2.0
    return np.where(count > 0, med, np.nan)


@dataclass(frozen=True, slots=True, eq=False)
class Baseline:
    """Past-only robust baseline of daily series (arrays shaped like the input, NaN = unscored)."""

    median: FloatArray  # m_t, metric units
    scale: FloatArray  # s_t = 1.4826·MAD, metric units
    deviation: FloatArray  # y_t − m_t where scored, else NaN
    z: FloatArray  # (y_t − m_t)/s_t where scored, else NaN
    n_past: NDArray[np.int64]  # finite nights in the 28-night window


def rolling_baseline(
    y: ArrayLike,
    *,
    window_nights: int = BASELINE_WINDOW_NIGHTS,
    min_past_nights: int = BASELINE_MIN_PAST_NIGHTS,
) -> Baseline:
    """Score each night against the previous `window_nights` nights only (last axis = days).

    Works on any leading shape (e.g. metrics × days). A night is scored when it is finite, at least
    `min_past_nights` past nights are finite and the MAD is > 0.
    """
    ya = np.asarray(y, dtype=np.float64)
    pad = np.full(ya.shape[:-1] + (window_nights,), np.nan)
    padded = np.concatenate([pad, ya], axis=-1)
    # Window t covers y[t−window .. t−1]: strictly the past.
    win = np.lib.stride_tricks.sliding_window_view(padded, window_nights, axis=-1)[..., : ya.shape[-1], :]
    count = np.isfinite(win).sum(axis=-1)
    sw = np.sort(win, axis=-1)  # NaNs sort last
    med = _sorted_window_median(sw, count)
    absdev = np.sort(np.abs(win - med[..., None]), axis=-1)
    scale = MAD_TO_SD * _sorted_window_median(absdev, count)
    scored = np.isfinite(ya) & (count >= min_past_nights) & (scale > 0)
    dev = np.where(scored, ya - med, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(scored, dev / scale, np.nan)
    return Baseline(median=med, scale=scale, deviation=dev, z=z, n_past=count)


# --------------------------------------------------------------------------------------------------
# Nights: lag contrasts
# --------------------------------------------------------------------------------------------------


def lag_masks(massage_day: ArrayLike, lags: Sequence[int]) -> NDArray[np.bool_]:
    """(len(lags), T) masks: night t is a lag-ℓ night when a massage took place on day t − ℓ."""
    md = np.asarray(massage_day, dtype=bool)
    t = md.size
    out = np.zeros((len(lags), t), dtype=bool)
    for i, lag in enumerate(lags):
        if lag < t:
            out[i, lag:] = md[: t - lag]
    return out


def control_mask(massage_day: ArrayLike, exclude_days: int = CONTROL_EXCLUDE_DAYS) -> NDArray[np.bool_]:
    """Control nights: no massage on days t−1 … t−`exclude_days` (days before the series count as none)."""
    near = lag_masks(massage_day, range(1, exclude_days + 1)).any(axis=0)
    return ~near


# --------------------------------------------------------------------------------------------------
# Dose-response
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RankCorrelation:
    n: int
    rho: float | None
    p: float | None


def spearman_permutation(x: ArrayLike, y: ArrayLike, *, seed: int, n_perm: int = N_RANDOM) -> RankCorrelation:
    """Spearman ρ over pairs where both are finite, two-sided permutation p = (1 + #≥)/(1 + n_perm).

    Undefined (None) when fewer than 3 pairs or either variable is constant.
    """
    xa = np.asarray(x, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    ok = np.isfinite(xa) & np.isfinite(ya)
    xa, ya = xa[ok], ya[ok]
    n = int(xa.size)
    if n < 3 or np.ptp(xa) == 0 or np.ptp(ya) == 0:
        return RankCorrelation(n, None, None)
    rx = stats.rankdata(xa)
    ry = stats.rankdata(ya)
    rx = (rx - rx.mean()) / np.linalg.norm(rx - rx.mean())
    ry = (ry - ry.mean()) / np.linalg.norm(ry - ry.mean())
    rho = float(rx @ ry)
    rng = np.random.default_rng(seed)
    perm = rng.permuted(np.broadcast_to(np.arange(n), (n_perm, n)), axis=1)
    rho_p = ry[perm] @ rx
    thresh = abs(rho) - _TIE_RTOL * max(abs(rho), 1e-300)
    p = (1.0 + float(np.count_nonzero(np.abs(rho_p) >= thresh))) / (1.0 + n_perm)
    return RankCorrelation(n, rho, p)
