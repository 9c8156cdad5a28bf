"""Night effects adjusted for day of week, the state before the session and slow trends (pure).

Why not the plain "lag nights vs control nights" contrast: sessions are not scheduled at random. When
they fall on one weekday, or are booked after a bad night, or drift with a trend, the plain contrast
reads the timing as an effect (science.md §6H). So each lag ℓ is estimated in a regression over nights t

    y_t = β·L_t + Σ_w δ_w·[weekday(t) = w] + Σ_j τ_j·P_j(t) + γ·y_{t−ℓ} + η·[y_{t−ℓ} missing]
          + Σ_{j≠ℓ} κ_j·L^{(j)}_t + ε_t

L_t = 1 when a massage took place on day t − ℓ (night t is the ℓ-th night after it); P_j are Legendre
polynomials of time (degree 2, 3 from 120 nights: an accelerating trend, which a rolling baseline alone
misses, Bernal et al. 2017); y_{t−ℓ} is the night before the session (baseline adjustment: booking
after a bad night is not read as the massage's doing, Barnett et al. 2005); nights whose y_{t−ℓ} is
missing are left out (complete cases: an unrecorded bad night cannot be adjusted for); the other lags' indicators keep their nights out of the comparison. Nights
that stand out from a weekday-and-trend fit or from their neighbours are set aside as artefacts
(`set_aside_artefacts`).

Inference: a permutation test that keeps weekdays. The massage-day indicator is permuted among days of
the same weekday (K = 1,999 permutations, drawn once per report and shared by every metric and lag:
O(days × K)); the nuisance columns stay as observed (Kennedy 1995). The statistic is the studentised
score S = ⟨u, y⟩/‖u‖ with u = the lag indicator residualised on the nuisance columns: dividing by ‖u‖
keeps S's null spread equal across permutations even when the observed timing is collinear with the
night before or the weekday (Anderson & Robinson 2001). p = (1 + #{|S_k| ≥ |S_obs|})/(1 + K).

CI: the test inverted (Garthwaite 1996). H0: β = b is tested on y − b·x, where S is linear in b, so
every p(b) costs one pass over the K permutations; the interval is the run of accepted b (p ≥ 0.05)
around β̂, refined by bisection. 0 lies outside it exactly when p(0) < 0.05, so "CI excludes 0" and
"p < 0.05" agree by construction.

MDE: power of that decision rule, from the permutation null at β̂: reject when |S| exceeds c, the
(1 − α) quantile of |S_k| (which carries the discreteness), S ≈ N(β‖u‖, σ_S²) with σ_S the SD of the
S_k; MDE = (c(MDE) + z₀.₈₀·σ_S)/‖u‖, where c(δ) allows for the permuted schedules sharing some days
with the real one (so they carry part of a true effect too; see `_mde`). α is 0.05 for the primary endpoint and q/m (the worst case of
Benjamini–Hochberg over m rows) otherwise. Sessions needed: ‖u‖² grows in proportion to the lag nights,
so reaching a target δ takes n_lag·(MDE/δ)² lag nights in all.

Weekday separation: with W the weekday columns alone, I_w = ‖(I − P_W) x‖² = Σ_w n_lag,w·n_other,w/n_w
is the information the weekday-matched comparison has (4 lag vs 4 other nights on one weekday give 2).
Below 2, while the unmatched comparison would have enough, the verdict is "cannot separate from day of
week". The same happens when the weekday-keeping permutations are too few to ever reach p < α.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy import special, stats

from tracker.analysis.effects import lag_masks

N_PERMUTATIONS = 999
ARTEFACT_SD = 3.5
LOCAL_ARTEFACT_SD = 4.0
MAD_TO_SD = 1.4826
MIN_WEEKDAY_INFORMATION = 2.0
POWER = 0.80
_Z_POWER = float(stats.norm.ppf(POWER))
_GRID_HALF_WIDTH_SE = 8.0
_GRID_POINTS = 81
_BISECT_STEPS = 12
_RANK_TOL = 1e-9


@dataclass(frozen=True, slots=True, eq=False)
class Permutations:
    """Weekday-keeping permutations of the massage-day indicator, shared by every metric and lag."""

    massage_day: NDArray[np.bool_]  # (T,) observed
    permuted: NDArray[np.bool_]  # (K, T)
    weekday: NDArray[np.int64]  # (T,) weekday (0 = Monday) of each day / night label
    log10_arrangements: float  # log10 of the number of distinct weekday-keeping arrangements
    _shifted: list[NDArray[np.float64]] = field(default_factory=list)  # [(K, pad + T)], built on first use

    def lagged(self, lag: int) -> NDArray[np.float64]:
        """(K, T) permuted lag-ℓ indicators (night t after a permuted massage on day t − ℓ).

        Every lag is a view into ONE float copy of the permutations behind `pad` zero columns, so the
        report holds K × T floats once instead of once per lag (70 MB at 8 years for lags 1-3). A view
        with a wider row stride goes to BLAS as it is (its leading dimension), so the products equal those
        of a separate (K, T) array bit for bit.
        """
        t = self.massage_day.size
        if not self._shifted or self._shifted[0].shape[1] - t < lag:
            pad = max(lag, 3)
            z = np.zeros((self.permuted.shape[0], pad + t))
            z[:, pad:] = self.permuted
            self._shifted[:] = [z]
        z = self._shifted[0]
        pad = z.shape[1] - t
        return z[:, pad - lag : pad - lag + t]


def weekday_permutations(
    massage_day: Sequence[bool] | NDArray[np.bool_], first_weekday: int, *, seed: int, n_perm: int = N_PERMUTATIONS
) -> Permutations:
    """Permute `massage_day` among days of the same weekday; day 0 has weekday `first_weekday`."""
    md = np.asarray(massage_day, dtype=bool)
    t = md.size
    wd = (first_weekday + np.arange(t)) % 7
    rng = np.random.default_rng(seed)
    out = np.zeros((n_perm, t), dtype=bool)
    log_count = 0.0
    for w in range(7):
        idx = np.flatnonzero(wd == w)
        if idx.size == 0:
            continue
        k = int(md[idx].sum())
        log_count += (special.gammaln(idx.size + 1) - special.gammaln(k + 1) - special.gammaln(idx.size - k + 1)) / math.log(10)
        order = np.argsort(rng.random((n_perm, idx.size)), axis=1)
        out[:, idx] = md[idx][order]
    return Permutations(md, out, wd.astype(np.int64), float(log_count))


@dataclass(frozen=True, slots=True)
class AdjustedEffect:
    lag: int
    n_rows: int  # nights in the regression (the night and the one ℓ before it recorded)
    n_lag: int  # lag nights among them
    n_other: int  # nights with no massage on days t−1 … t−3 among them
    estimate: float | None  # β̂, metric units
    ci95: tuple[float, float] | None
    p: float | None
    sd: float | None  # night-to-night SD after weekday and trend, metric units
    mde: float | None
    mde_sd: float | None
    sessions_needed: int | None  # to reach an MDE of 0.5 SD
    sessions_needed_observed: int | None  # to reach an MDE of |β̂|
    weekday_information: float
    separable: bool  # False: weekday and massage cannot be told apart
    reachable: bool  # False: the permutations are too few for p < α


def _orthonormal(z: NDArray[np.float64]) -> NDArray[np.float64]:
    """Orthonormal basis of the column space of z (rank-revealing SVD: collinear columns are fine)."""
    if z.shape[1] == 0:
        return z
    u, s, _ = np.linalg.svd(z, full_matrices=False)
    return u[:, s > _RANK_TOL * max(s[0], 1.0)]


def _residualise(q: NDArray[np.float64], x: NDArray[np.float64]) -> NDArray[np.float64]:
    """x minus its projection on span(q), along the last axis (x may be (n,) or (K, n))."""
    return x - (x @ q) @ q.T


def set_aside_artefacts(y: NDArray[np.float64], base: NDArray[np.float64]) -> NDArray[np.float64]:
    """NaN for artefact nights (a Hampel filter on the weekday-and-trend residuals).

    An artefact night used as "the night before" has huge leverage and would flatten the baseline
    adjustment, so it is treated as missing rather than clipped. Residuals d from least squares on the
    weekday and trend columns `base` (T × c); a night is set aside when d is further than 3.5 robust SD
    from 0, or further than 4 robust SD from the median of the 6 nights around it (nights persist, so a
    wrong value on a bad night still stands out from its neighbours). Robust SD = 1.4826·MAD."""
    ok = np.isfinite(y)
    if ok.sum() < base.shape[1] + 5:
        return y
    q = _orthonormal(base[ok])
    d = np.full(y.shape, np.nan)
    d[ok] = _residualise(q, y[ok])
    d -= np.nanmedian(d)
    scale = MAD_TO_SD * float(np.nanmedian(np.abs(d)))
    if scale <= 0:
        return y
    half = 3
    padded = np.concatenate([np.full(half, np.nan), d, np.full(half, np.nan)])
    win = np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1)
    neighbours = np.delete(win, half, axis=1)
    with warnings.catch_warnings():  # all-NaN neighbourhoods give NaN, which is what we want
        warnings.simplefilter("ignore", RuntimeWarning)
        local = np.nanmedian(neighbours, axis=1)
    r = d - local
    r_scale = MAD_TO_SD * float(np.nanmedian(np.abs(r - np.nanmedian(r)))) if np.isfinite(r).any() else math.nan
    bad = np.abs(d) > ARTEFACT_SD * scale
    if math.isfinite(r_scale) and r_scale > 0:
        bad |= np.nan_to_num(np.abs(r), nan=0.0) > LOCAL_ARTEFACT_SD * r_scale
    out = y.copy()
    out[bad & ok] = np.nan
    return out


def trend_degree(n_days: int) -> int:
    return 3 if n_days >= 120 else 2


def _trend_columns(t: int) -> NDArray[np.float64]:
    x = np.linspace(-1.0, 1.0, t) if t > 1 else np.zeros(t)
    deg = trend_degree(t)
    return np.stack([np.polynomial.legendre.Legendre.basis(d)(x) for d in range(1, deg + 1)], axis=1)


def adjusted_effects(
    y: Sequence[float] | NDArray[np.float64],
    perms: Permutations,
    *,
    lags: Sequence[int] = (1, 2, 3),
    alphas: Sequence[float] | None = None,
    target_sd: float = 0.5,
    exclude_days: int = 3,
) -> tuple[AdjustedEffect, ...]:
    """Adjusted lag effects of one nightly series `y` (NaN = no night), on the calendar of `perms`.

    `alphas[i]` is the significance level the decision rule uses for lag `lags[i]` (for the MDE).
    """
    ya = np.asarray(y, dtype=np.float64)
    t = ya.size
    md = perms.massage_day
    alphas = list(alphas) if alphas is not None else [0.05] * len(lags)
    all_lags = lag_masks(md, range(1, max(max(lags), exclude_days) + 1)).astype(np.float64)  # (Lmax, T)
    near = all_lags[:exclude_days].any(axis=0)
    weekday_cols = (perms.weekday[:, None] == np.arange(7)[None, :]).astype(np.float64)
    trend = _trend_columns(t)
    base_full = np.hstack([weekday_cols, trend])
    ya = set_aside_artefacts(ya, base_full)
    finite = np.isfinite(ya)
    # Night-to-night SD after weekday and trend: the scale of "0.5 SD".
    sd = math.nan
    if finite.sum() > base_full.shape[1] + 2:
        q0 = _orthonormal(base_full[finite])
        resid0 = _residualise(q0, ya[finite] - ya[finite].mean())
        sd = float(np.sqrt(resid0 @ resid0 / max(int(finite.sum()) - q0.shape[1], 1)))
    out = []
    for lag, alpha in zip(lags, alphas, strict=True):
        prev = np.full(t, np.nan)
        prev[lag:] = ya[: t - lag]
        # Complete cases: a night counts only when the night before its session was recorded too.
        # (Booking after a bad night that went unrecorded could not be adjusted for otherwise.)
        rows = finite & np.isfinite(prev)
        n = int(rows.sum())
        yr = ya[rows]
        x = all_lags[lag - 1][rows]
        n_lag = int(x.sum())
        n_other = int((~near)[rows].sum())
        # Weekday information of the matched comparison.
        qw = _orthonormal(weekday_cols[rows]) if n else np.zeros((0, 0))
        xw = _residualise(qw, x) if n else x
        info_w = float(xw @ xw)
        prev_c = prev[rows] - (prev[rows].mean() if n else 0.0)
        others = [j for j in range(1, all_lags.shape[0] + 1) if j != lag]
        z = np.hstack([base_full[rows], prev_c[:, None], all_lags[[j - 1 for j in others]][:, rows].T])
        reachable = perms.log10_arrangements > math.log10(2.0 / alpha)
        empty = AdjustedEffect(lag, n, n_lag, n_other, None, None, None, _nan_none(sd), None, None, None, None,
                               info_w, info_w >= MIN_WEEKDAY_INFORMATION, reachable)  # fmt: skip
        if n_lag == 0 or n <= z.shape[1] + 2:
            out.append(empty)
            continue
        q = _orthonormal(z)
        u0 = _residualise(q, x)
        norm0 = float(np.sqrt(u0 @ u0))
        if norm0 < 1e-6:
            out.append(empty)
            continue
        # Inner products with u_k = x_k − Q Qᵀ x_k without forming u_k: one (K × T) @ (T × (r + 3))
        # product; the columns are zero on days without a night, so no (K × n) copy is needed.
        r = q.shape[1]
        cols_full = np.zeros((t, r + 3))
        cols_full[rows, :r] = q
        cols_full[rows, r] = yr
        cols_full[rows, r + 1] = x
        cols_full[rows, r + 2] = 1.0
        prod = perms.lagged(lag) @ cols_full
        proj = prod[:, :r]
        qy, qx = q.T @ yr, q.T @ x
        normk = np.sqrt(np.maximum(prod[:, r + 2] - np.einsum("kr,kr->k", proj, proj), 0.0))  # x_k binary
        ok = normk > 1e-6
        proj, prod, normk = proj[ok], prod[ok], normk[ok]
        a_k = (prod[:, r] - proj @ qy) / normk  # S_k(b) = a_k − b·b_k
        b_k = (prod[:, r + 1] - proj @ qx) / normk
        a_0 = float(u0 @ yr) / norm0
        b_0 = norm0
        beta = a_0 / b_0

        def p_of(b: NDArray[np.float64]) -> NDArray[np.float64]:
            s_obs = np.abs(a_0 - b * b_0)
            s_k = np.abs(a_k[None, :] - b[:, None] * b_k[None, :])
            thresh = s_obs * (1.0 - 1e-9)
            return (1.0 + np.count_nonzero(s_k >= thresh[:, None], axis=1)) / (1.0 + a_k.size)

        p0 = float(p_of(np.array([0.0]))[0])
        resid = _residualise(_orthonormal(np.hstack([z, x[:, None]])), yr)
        sigma = float(np.sqrt(resid @ resid / max(n - z.shape[1] - 1, 1)))
        ci = _invert(p_of, beta, max(sigma / b_0, 1e-12), 0.05, p0)
        # Power of the rule at this design, from the permutation null centred at β̂.
        s_null = a_k - beta * b_k
        sig_s = float(np.std(s_null, ddof=1)) if s_null.size > 1 else math.nan
        mde = _mde(s_null, b_k, b_0, sig_s, alpha) if reachable and s_null.size else math.nan
        mde_sd = mde / sd if math.isfinite(mde) and math.isfinite(sd) and sd > 0 else math.nan
        out.append(
            AdjustedEffect(
                lag=lag, n_rows=n, n_lag=n_lag, n_other=n_other, estimate=beta, ci95=ci, p=p0,
                sd=_nan_none(sd), mde=_nan_none(mde), mde_sd=_nan_none(mde_sd),
                sessions_needed=_needed(n_lag, mde_sd, target_sd),
                sessions_needed_observed=_needed(n_lag, mde_sd, abs(beta) / sd if sd and math.isfinite(sd) else None),
                weekday_information=info_w, separable=info_w >= MIN_WEEKDAY_INFORMATION, reachable=reachable,
            )  # fmt: skip
        )
    return tuple(out)


def _mde(s_null: NDArray[np.float64], b_k: NDArray[np.float64], b_0: float, sig_s: float, alpha: float) -> float:
    """δ with P(reject at b = 0) = 0.80 when the true effect is δ.

    With effect δ the observed S moves by δ·b_0, but the permuted statistics move too, by δ·b_k
    (a permuted schedule shares some massage days with the real one), so the critical value is the
    (1 − α) quantile of |S_null + δ·b_k|: solved by fixed-point iteration δ = (crit(δ) + z₀.₈·σ_S)/b_0."""
    delta = 0.0
    for _ in range(8):
        crit = float(np.quantile(np.abs(s_null + delta * b_k), 1.0 - alpha))
        new = (crit + _Z_POWER * sig_s) / b_0
        if abs(new - delta) <= 1e-4 * max(abs(new), 1e-12):
            return new
        delta = new
    return delta


def _nan_none(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def _needed(n_lag: int, mde_sd: float, target_sd: float | None) -> int | None:
    if target_sd is None or not math.isfinite(mde_sd) or not target_sd > 0 or n_lag <= 0:
        return None
    total = n_lag * (mde_sd / target_sd) ** 2
    return max(0, math.ceil(total - 1e-9) - n_lag)


def _invert(p_of, beta: float, se: float, alpha: float, p0: float) -> tuple[float, float] | None:  # type: ignore[no-untyped-def]
    """The run of b with p(b) ≥ alpha around β̂ (0 included exactly when p(0) ≥ alpha, so the CI
    excludes 0 exactly when the verdict's rule p < alpha holds)."""
    grid = beta + se * np.linspace(-_GRID_HALF_WIDTH_SE, _GRID_HALF_WIDTH_SE, _GRID_POINTS)
    grid = np.sort(np.append(grid, 0.0))
    acc = p_of(grid) >= alpha
    if not acc.any():
        return None
    # Start from the accepted point nearest β̂ (β̂ itself is accepted except in degenerate designs).
    i0 = int(np.argmin(np.where(acc, np.abs(grid - beta), np.inf)))
    lo_i = i0
    while lo_i > 0 and acc[lo_i - 1]:
        lo_i -= 1
    hi_i = i0
    while hi_i < grid.size - 1 and acc[hi_i + 1]:
        hi_i += 1

    def edge(inside: float, outside: float) -> float:
        for _ in range(_BISECT_STEPS):
            mid = 0.5 * (inside + outside)
            if p_of(np.array([mid]))[0] >= alpha:
                inside = mid
            else:
                outside = mid
        return inside

    lo = edge(grid[lo_i], grid[lo_i - 1]) if lo_i > 0 else -math.inf
    hi = edge(grid[hi_i], grid[hi_i + 1]) if hi_i < grid.size - 1 else math.inf
    # Keep the agreement exact at 0 whatever the bisection did.
    if p0 >= alpha:
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    elif lo <= 0.0 <= hi:
        lo, hi = (1e-12, hi) if beta > 0 else (lo, -1e-12)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return None
    return (float(lo), float(hi))
