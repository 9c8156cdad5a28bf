"""Rows of "nights after a massage": adjusted effects, verdicts and associational wording (pure).

For every night metric × lag 1–3 a row carries two estimates:

* `difference` (descriptive): mean deviation from the person's past-28-night median on lag nights minus
  that on control nights (no massage in the 3 days before), as in science.md §6B; no test attached.
* `adjusted_difference` with `ci95`, `p`, `mde`: the lag effect adjusted for day of week, the night
  before the session and a slow trend, tested by weekday-keeping permutations and with the CI from
  inverting that test (`adjusted`). Verdicts use only these.

Multiplicity: BH q across all rows; secondary rows are called at q < 0.10, the primary endpoint on its
own p < 0.05 (both with the CI excluding 0, which for this CI is the same as p < 0.05). A secondary
row's call is exploratory and says so in its `reason`; claims use a row only when it also survives Holm
across all outcomes behind the claims (`familywise`). MDEs are sized
at α = 0.05 for the primary row and at 0.10/m (BH's worst case) for the others.

Wording is associational ("was higher on nights after massage days"): an observational schedule cannot
show that massage caused it. Causal wording belongs to a randomised trial only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tracker.analysis.adjusted import AdjustedEffect, Permutations, adjusted_effects
from tracker.analysis.effects import Baseline, benjamini_hochberg, control_mask, hedges_g, lag_masks
from tracker.analysis.verdicts import NIGHTS_Q_MAX, PRIMARY_P_MAX, Verdict, night_verdict

LABELS = {
    "ln_rmssd_night": ("night HRV (lnRMSSD)", "ln(ms)"),
    "resting_hr_bpm": ("resting heart rate at night", "bpm"),
    "tst_min": ("total sleep", "min"),
    "sleep_efficiency_pct": ("sleep efficiency", "%"),
    "waso_min": ("time awake after falling asleep", "min"),
    "deep_min": ("deep sleep (device estimate)", "min"),
    "rem_min": ("REM sleep (device estimate)", "min"),
}
_ORDINAL = {1: "first", 2: "second", 3: "third"}


@dataclass(frozen=True, slots=True)
class NightRow:
    metric: str
    lag: int
    primary: bool
    n_massage: int
    n_control: int
    n_scored: int
    difference: float | None  # descriptive, unadjusted (see module docstring)
    difference_z: float | None
    hedges_g: float | None
    ci95: tuple[float, float] | None  # of adjusted_difference (test inversion)
    p: float | None  # adjusted, weekday-keeping permutation test
    q: float | None
    mde: float | None
    mde_sd: float | None
    sessions_needed: int | None  # to reach an MDE of 0.5 SD (smallest worthwhile change)
    sessions_needed_observed: int | None  # to reach an MDE equal to the observed |adjusted difference|
    verdict: Verdict
    adjusted_difference: float | None = None
    weekday_information: float | None = None
    reason: str = ""
    statement: str = ""


def _plain(dev: np.ndarray, z: np.ndarray, md: np.ndarray, lag: int) -> tuple[float | None, float | None, float | None, int]:
    lm = lag_masks(md, [lag])[0] & np.isfinite(dev)
    cm = control_mask(md) & np.isfinite(dev)
    if not lm.any() or not cm.any():
        return None, None, None, int(cm.sum())
    d = float(dev[lm].mean() - dev[cm].mean())
    dz = float(z[lm].mean() - z[cm].mean())
    return d, dz, hedges_g(dev[lm], dev[cm]), int(cm.sum())


def night_rows(
    y: np.ndarray,
    names: Sequence[str],
    baselines: dict[str, Baseline],
    perms: Permutations,
    *,
    lags: Sequence[int],
    primary_metric: str,
    primary_lag: int,
) -> list[NightRow]:
    """Rows for each metric (rows of `y`, metrics × days) and lag; BH across all rows."""
    m_rows = len(names) * len(lags)
    alpha_secondary = NIGHTS_Q_MAX / max(m_rows, 1)
    effects: list[tuple[str, int, AdjustedEffect, tuple]] = []  # type: ignore[type-arg]
    for m, name in enumerate(names):
        n_values = int(np.isfinite(y[m]).sum())
        alphas = [PRIMARY_P_MAX if (name == primary_metric and lag == primary_lag) else alpha_secondary for lag in lags]
        adj = adjusted_effects(y[m], perms, lags=lags, alphas=alphas)
        bl = baselines[name]
        for e in adj:
            effects.append((name, n_values, e, _plain(bl.deviation, bl.z, perms.massage_day, e.lag)))
    q = _bh([e.p for _, _, e, _ in effects])
    rows = []
    for (name, n_values, e, (d, dz, g, n_ctl)), qi in zip(effects, q, strict=True):
        primary = name == primary_metric and e.lag == primary_lag
        n_scored = int(np.isfinite(baselines[name].deviation).sum())
        verdict = night_verdict(
            name, n_values=n_values, n_scored=e.n_rows, n_lag=e.n_lag, n_control=e.n_other, ci95=e.ci95, p=e.p,
            q=qi, primary=primary, separable=e.separable, reachable=e.reachable,
        )  # fmt: skip
        rows.append(
            NightRow(
                metric=name, lag=e.lag, primary=primary, n_massage=e.n_lag, n_control=e.n_other, n_scored=n_scored,
                difference=d, difference_z=dz, hedges_g=g, ci95=e.ci95, p=e.p, q=qi, mde=e.mde, mde_sd=e.mde_sd,
                sessions_needed=e.sessions_needed, sessions_needed_observed=e.sessions_needed_observed,
                verdict=verdict, adjusted_difference=e.estimate, weekday_information=e.weekday_information,
                reason=_reason(verdict, e, primary, qi), statement=_statement(name, e, verdict),
            )  # fmt: skip
        )
    return rows


def _bh(p: Sequence[float | None]) -> list[float | None]:
    q = benjamini_hochberg([math.nan if v is None else v for v in p])
    return [None if math.isnan(v) else float(v) for v in q]


def _reason(verdict: Verdict, e: AdjustedEffect, primary: bool, q: float | None) -> str:
    if verdict is Verdict.NOT_MEASURED:
        return "No nights with this measure."
    if verdict is Verdict.NOT_ENOUGH_DATA:
        return (f"{e.n_lag} nights after a massage and {e.n_other} control nights among {e.n_rows} recorded nights; "
                "at least 4, 4 and 14 are needed.")  # fmt: skip
    if verdict is Verdict.CANNOT_SEPARATE_WEEKDAY:
        return ("Your sessions fall on the same weekdays, so nights after them cannot be compared with nights on the "
                f"same weekdays without a massage (weekday-matched information {e.weekday_information:.1f}, at least "
                "2 needed). Vary the day of your sessions.")  # fmt: skip
    rule = "p < 0.05 (primary endpoint, declared in advance)" if primary else f"BH q < {NIGHTS_Q_MAX} across all night rows"
    if verdict in (Verdict.IMPROVED, Verdict.WORSENED):
        if primary:
            return f"Adjusted 95 % CI excludes 0 and {rule}."
        # A secondary row is one of many looked at: a lead to follow, not a finding. Claims use it only
        # when it also survives Holm across every outcome behind the claims (`familywise`).
        return (f"Exploratory (one of many night rows): adjusted 95 % CI excludes 0 and {rule}. A claim uses it "
                "only if it also survives the correction for all outcomes behind the claims.")  # fmt: skip
    return f"Not called: needs the adjusted CI to exclude 0 and {rule}; this is not evidence of no change."


def _statement(metric: str, e: AdjustedEffect, verdict: Verdict) -> str:
    label, unit = LABELS.get(metric, (metric, ""))
    nth = _ORDINAL.get(e.lag, f"lag-{e.lag}")
    if e.estimate is None or verdict in (Verdict.NOT_MEASURED, Verdict.NOT_ENOUGH_DATA):
        return f"Not enough nights yet to compare your {label} on the {nth} night after massage days."
    if verdict is Verdict.CANNOT_SEPARATE_WEEKDAY:
        return f"Your {label} after massage days cannot be told apart from your usual rhythm of the week."
    way = "higher" if e.estimate > 0 else "lower"
    return (f"Your {label} was {abs(e.estimate):.2f} {unit} {way} on the {nth} night after massage days than on "
            "comparable nights (same weekday, same state the night before, allowing for slow trends). This is an "
            "association in your own data, not proof that massage caused it.")  # fmt: skip
