"""Honest n-of-1 effect statistics: per-session changes and nights after sessions (pure).

Everything here is a pure function of numpy arrays (and an explicit integer `seed` wherever randomness
is used): no database, no clock, no logging. Conventions follow shared/research/science.md §6.

Acute, within-session (§6A)
    For each session Δ = post − pre. Across sessions: mean Δ, a 95 % Student-t interval
    (Δ̄ ± t₀.₉₇₅,ₙ₋₁·s/√n) and an exact sign-flip permutation p-value (all 2ⁿ sign patterns for n ≤ 15,
    otherwise 10,000 random flips from `numpy.random.default_rng(seed)`, p = (1 + #≥)/(1 + B)).
    Massage minus rest: difference of mean changes with a Welch t interval and a label-permutation
    p-value (exact when the number of relabellings is ≤ 20,000, otherwise 10,000 random ones).

Nights after sessions (§6B–§6D)
    A daily series y_t (one value per local night, NaN where missing) is scored against the person's own
    past only: m_t = median(y_{t−28..t−1}), s_t = 1.4826·MAD of the same window, and a night is *scored*
    only when at least 7 of those 28 past nights exist and s_t > 0 (no look-ahead). The analysis uses the
    deviation y_t − m_t in the metric's own units (the "difference" reported), and z_t = (y_t − m_t)/s_t
    (reported as `difference_z`).
    Lag ℓ night t: a massage took place on local day t − ℓ (the night labelled t is the one that ends on
    the morning of day t, so a session on day d is followed first by night d + 1). Control night: no
    massage on days t−1, t−2, t−3.
    D = mean deviation over lag nights − mean over control nights.
    Hedges g = J·D/s_p with J = 1 − 3/(4(n_L + n_C) − 9).
    95 % CI of D: moving-block bootstrap over days (block ≈ T^(1/3) days, labels travel with their
    days, percentile interval, 2,000 replicates, seeded).
    p: circular-shift (calendar-rotation) test: the massage-day indicator is rotated by every offset
    k ∈ [7, T−7] days (which keeps session spacing and the autocorrelation of y), D_k recomputed for all
    offsets in one matrix product, p = (1 + #{|D_k| ≥ |D_obs|})/(1 + K).
    MDE (two-sided α = 0.05, power 0.80) = 2.80·√(1/n_L + 1/n_C) SDs, converted to metric units with the
    SD of the deviations over all scored nights. Sessions still needed: assuming future sessions keep the
    current ratio r = n_C/n_L of control nights per lag night, MDE(k) = 2.80·√((1 + 1/r)/k), so reaching a
    target δ (in SDs) needs k = (2.80/δ)²·(1 + 1/r) lag nights; we report k − n_L (≥ 0) for δ = the
    "smallest worthwhile change" of 0.5 SD (Buchheit 2014) and for δ = the observed |D|/SD.
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

# z₀.₉₇₅ + z₀.₈₀ = 1.95996 + 0.84162, rounded as in science.md §6D.
MDE_Z_SUM = 2.80
SMALLEST_WORTHWHILE_CHANGE_SD = 0.5
BASELINE_WINDOW_NIGHTS = 28
BASELINE_MIN_PAST_NIGHTS = 7
MAD_TO_SD = 1.4826
CONTROL_EXCLUDE_DAYS = 3
MIN_SHIFT_DAYS = 7
N_BOOTSTRAP = 2_000
N_RANDOM = 10_000
EXACT_SIGN_FLIP_MAX_N = 15
EXACT_RELABEL_MAX = 20_000
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
    perm = rng.permuted(np.broadcast_to(np.arange(n), (n_random, n)), axis=1)
    sa = pooled[perm[:, :na]].sum(axis=1)
    diffs = np.abs(sa / na - (total - sa) / nb)
    return (1.0 + float(np.count_nonzero(diffs >= thresh))) / (1.0 + n_random)


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


def mde_sd(n_lag: int, n_control: int, z_sum: float = MDE_Z_SUM) -> float | None:
    """Minimum detectable effect in SDs: z_sum·√(1/k + 1/(N−k)) (science.md §6D; 60/8 → 1.06)."""
    if n_lag <= 0 or n_control <= 0:
        return None
    return z_sum * math.sqrt(1.0 / n_lag + 1.0 / n_control)


def sessions_needed(target_sd: float | None, n_lag: int, n_control: int, z_sum: float = MDE_Z_SUM) -> int | None:
    """Further sessions until the MDE reaches `target_sd` (see module docstring); None if undefined."""
    if target_sd is None or not math.isfinite(target_sd) or target_sd <= 0 or n_lag <= 0 or n_control <= 0:
        return None
    # Future sessions keep today's ratio of control nights per lag night.
    k_total = (z_sum / target_sd) ** 2 * (1.0 + n_lag / n_control)
    return max(0, math.ceil(k_total - 1e-9) - n_lag)


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


@dataclass(frozen=True, slots=True)
class NightEffect:
    """Lag-ℓ nights vs control nights for one metric (deviations from the past-28-night median)."""

    lag: int
    n_scored: int  # scored nights in the whole series
    n_lag: int
    n_control: int
    difference: float | None  # metric units
    difference_z: float | None  # robust z units
    hedges_g: float | None
    ci95: tuple[float, float] | None  # of `difference`, moving-block bootstrap
    p: float | None  # circular-shift p
    sd: float | None  # SD of deviations over scored nights, metric units
    mde: float | None  # metric units
    mde_sd: float | None
    sessions_needed: int | None  # to reach MDE = 0.5 SD
    sessions_needed_observed: int | None  # to reach MDE = observed |difference|


def block_bootstrap_weights(n_days: int, *, seed: int, n_boot: int = N_BOOTSTRAP) -> FloatArray:
    """Moving-block bootstrap as a (n_boot, n_days) matrix of how often each day is drawn.

    Block length round(n_days^(1/3)); block starts uniform on [0, n_days − block]; blocks are
    concatenated and cut to n_days. Any resampled mean of a day-indexed quantity x is then
    (W @ (x·mask)) / (W @ mask): one matrix product for all replicates, metrics and lags.
    """
    block = max(1, int(round(n_days ** (1.0 / 3.0))))
    n_blocks = -(-n_days // block)
    rng = np.random.default_rng(seed)
    starts = rng.integers(0, n_days - block + 1, size=(n_boot, n_blocks))
    idx = (starts[:, :, None] + np.arange(block)).reshape(n_boot, -1)[:, :n_days]
    flat = (np.arange(n_boot)[:, None] * n_days + idx).ravel()
    return np.bincount(flat, minlength=n_boot * n_days).reshape(n_boot, n_days).astype(np.float64)


def _shift_masks(
    massage_day: NDArray[np.bool_], lags: Sequence[int], exclude_days: int, min_shift_days: int
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]] | None:
    """Rotated lag masks (L, K, T) and control masks (K, T) for offsets k = min_shift … T − min_shift."""
    t = massage_day.size
    offsets = np.arange(min_shift_days, t - min_shift_days + 1)
    if offsets.size == 0:
        return None
    days = np.arange(t)

    def rotated(lag: int) -> NDArray[np.bool_]:
        return massage_day[(days[None, :] - offsets[:, None] - lag) % t]

    lag_k = np.stack([rotated(lag) for lag in lags])
    near = np.zeros((offsets.size, t), dtype=bool)
    for j in range(1, exclude_days + 1):
        near |= rotated(j)
    return lag_k, ~near


def night_effects(
    y: ArrayLike,
    massage_day: ArrayLike,
    *,
    lags: Sequence[int] = (1, 2, 3),
    seed: int,
    n_boot: int = N_BOOTSTRAP,
    baseline: Baseline | None = None,
    boot_weights: FloatArray | None = None,
    exclude_days: int = CONTROL_EXCLUDE_DAYS,
    min_shift_days: int = MIN_SHIFT_DAYS,
) -> tuple[NightEffect, ...]:
    """Lag-ℓ vs control contrasts of one daily series `y` (NaN = no night) for each lag in `lags`.

    `massage_day[t]` is True when a massage took place on local day t (same calendar as `y`).
    `baseline`/`boot_weights` may be passed to share work across metrics (see `report.build_report`).
    """
    md = np.asarray(massage_day, dtype=bool)
    bl = baseline if baseline is not None else rolling_baseline(y)
    dev = bl.deviation
    t = dev.size
    valid = np.isfinite(dev)
    n_scored = int(valid.sum())
    dv = np.where(valid, dev, 0.0)
    zv = np.where(valid, bl.z, 0.0)
    vf = valid.astype(np.float64)

    lmask = lag_masks(md, lags).astype(np.float64)  # (L, T)
    cmask = control_mask(md, exclude_days).astype(np.float64)  # (T,)
    n_l = lmask @ vf
    n_c = float(cmask @ vf)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_l = (lmask @ dv) / n_l
        mean_c = (cmask @ dv) / n_c
        d_obs = mean_l - mean_c
        d_z = (lmask @ zv) / n_l - (cmask @ zv) / n_c
    sd = float(dev[valid].std(ddof=1)) if n_scored >= 2 else math.nan

    # Moving-block bootstrap of D: one matrix product gives every replicate's sums for all lags.
    w = boot_weights if boot_weights is not None else block_bootstrap_weights(t, seed=seed, n_boot=n_boot)
    masks = np.vstack([lmask, cmask[None, :]])  # (L+1, T)
    sums = w @ np.hstack([(masks * dv).T, (masks * vf).T])  # (B, 2(L+1))
    n_groups = masks.shape[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        means_b = sums[:, :n_groups] / sums[:, n_groups:]
    d_boot = means_b[:, :-1] - means_b[:, -1:]  # (B, L)

    # Circular shift: all rotated indicators at once.
    shifted = _shift_masks(md, lags, exclude_days, min_shift_days)
    if shifted is not None:
        lag_k, ctl_k = (m.astype(np.float64) for m in shifted)
        with np.errstate(divide="ignore", invalid="ignore"):
            mc_k = (ctl_k @ dv) / (ctl_k @ vf)
            d_k = (lag_k @ dv) / (lag_k @ vf) - mc_k[None, :]  # (L, K)

    results = []
    for i, lag in enumerate(lags):
        nl = int(n_l[i])
        nc = int(n_c)
        diff = float(d_obs[i]) if nl and nc else math.nan
        ci = None
        p = None
        g = None
        if nl and nc:
            d_b = d_boot[:, i]
            d_b = d_b[np.isfinite(d_b)]
            # A CI only when most replicates contain both kinds of night.
            if d_b.size >= 0.5 * w.shape[0]:
                lo, hi = np.percentile(d_b, [2.5, 97.5])
                ci = (float(lo), float(hi))
            if shifted is not None:
                dk = d_k[i][np.isfinite(d_k[i])]
                if dk.size:
                    thresh = abs(diff) - _TIE_RTOL * max(abs(diff), 1e-300)
                    p = (1.0 + float(np.count_nonzero(np.abs(dk) >= thresh))) / (1.0 + dk.size)
            in_lag = lmask[i].astype(bool) & valid
            in_ctl = cmask.astype(bool) & valid
            g = hedges_g(dev[in_lag], dev[in_ctl])
        m_sd = mde_sd(nl, nc)
        observed_sd = abs(diff) / sd if math.isfinite(diff) and math.isfinite(sd) and sd > 0 else None
        results.append(
            NightEffect(
                lag=int(lag),
                n_scored=n_scored,
                n_lag=nl,
                n_control=nc,
                difference=_none_if_nan(diff),
                difference_z=_none_if_nan(float(d_z[i])) if nl and nc else None,
                hedges_g=g,
                ci95=ci,
                p=p,
                sd=_none_if_nan(sd),
                mde=m_sd * sd if m_sd is not None and math.isfinite(sd) else None,
                mde_sd=m_sd,
                sessions_needed=sessions_needed(SMALLEST_WORTHWHILE_CHANGE_SD, nl, nc),
                sessions_needed_observed=sessions_needed(observed_sd, nl, nc),
            )
        )
    return tuple(results)


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
