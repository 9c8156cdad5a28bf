"""Plain-language verdicts that never overclaim (pure).

Five verdicts, decided from numbers already computed by `effects`:

- "not measured": no value at all for the metric (the device or the person never supplied it).
- "not enough data": some values exist, but fewer than 4 usable sessions (both capture windows passed
  the quality gate / both self-reports given) or, for nights, fewer than 4 lag nights, fewer than 4
  control nights or fewer than 14 scored nights (nights with ≥ 7 past nights for a baseline).
- "improved" / "worsened": the 95 % CI excludes zero AND the multiplicity-aware test passes:
    * acute rows: Benjamini–Hochberg q < 0.05 within the acute family (all acute rows of a report);
    * nights rows: BH q < 0.10 across metrics × lags; the single pre-declared primary endpoint is
      instead judged on its unadjusted p < 0.05 (a pre-registered confirmatory test needs no
      multiplicity penalty), still with the CI excluding zero.
  The direction comes from the metric: lower HR, resting HR, pain, stress, WASO and blood pressure are
  improvements; higher lnRMSSD, mood, total sleep, efficiency, deep and REM minutes are improvements.
- "no clear change": enough data, but the rules above are not met. This is not "no effect": the report
  shows the CI and the minimum detectable effect next to it.
- "cannot separate from day of week" (nights): the sessions' weekdays leave too few weekday-matched
  nights without a massage (see `adjusted`); the advice is to vary the day.
- "cannot tell massage from lying still" (claims): the only evidence is change within sessions and
  there are not enough rest sessions comparable in time of day and duration (see `report`).
Acute rows also need a test that can reach significance at all: an exact sign-flip test with n ≤ 5
cannot give p < 0.05 (smallest p = 2/2ⁿ), so such rows read "not enough data".

`combine_verdicts` merges the verdicts of several metrics into one claim verdict (rule in its docstring).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable


class Verdict(enum.StrEnum):
    IMPROVED = "improved"
    WORSENED = "worsened"
    NO_CLEAR_CHANGE = "no clear change"
    NOT_ENOUGH_DATA = "not enough data"
    NOT_MEASURED = "not measured"
    # Night rows: every session's weekday leaves too few same-weekday nights without a massage.
    CANNOT_SEPARATE_WEEKDAY = "cannot separate from day of week"
    # Claims resting on within-session change without enough comparable rest sessions.
    NEEDS_REST = "cannot tell massage from lying still"


# +1: higher is better; −1: lower is better.
METRIC_DIRECTION: dict[str, int] = {
    # acute (post − pre within a session)
    "hr_bpm": -1,
    "ln_rmssd": +1,
    "pain": -1,
    "stress": -1,
    "mood": +1,
    "sbp_mmhg": -1,
    "dbp_mmhg": -1,
    # nights
    "ln_rmssd_night": +1,
    "resting_hr_bpm": -1,
    "tst_min": +1,
    "sleep_efficiency_pct": +1,
    "waso_min": -1,
    "deep_min": +1,
    "rem_min": +1,
}

MIN_SESSIONS = 4
MIN_SCORED_NIGHTS = 14
ACUTE_Q_MAX = 0.05
NIGHTS_Q_MAX = 0.10
PRIMARY_P_MAX = 0.05


def _finite(x: float | None) -> bool:
    return x is not None and math.isfinite(x)


def _direction(metric: str, ci95: tuple[float, float]) -> Verdict:
    lo, hi = ci95
    sign = 1 if lo > 0 else -1  # caller guarantees the CI excludes zero
    better = sign * METRIC_DIRECTION[metric] > 0
    return Verdict.IMPROVED if better else Verdict.WORSENED


def _ci_excludes_zero(ci95: tuple[float, float] | None) -> bool:
    return ci95 is not None and _finite(ci95[0]) and _finite(ci95[1]) and (ci95[0] > 0 or ci95[1] < 0)


def acute_verdict(
    metric: str,
    *,
    n: int,
    n_available: int,
    ci95: tuple[float, float] | None,
    q: float | None,
    min_sessions: int = MIN_SESSIONS,
    q_max: float = ACUTE_Q_MAX,
    reachable: bool = True,
) -> Verdict:
    """Verdict of a mean within-session change (or a massage-minus-rest difference).

    `n` = sessions that passed the quality gate; `n_available` = sessions with any value for the metric;
    `reachable` = False when the exact test cannot give p < q_max with this n (e.g. sign flip, n ≤ 5).
    """
    if n_available == 0:
        return Verdict.NOT_MEASURED
    if n < min_sessions or not reachable:
        return Verdict.NOT_ENOUGH_DATA
    if _ci_excludes_zero(ci95) and _finite(q) and q < q_max:  # type: ignore[operator]
        return _direction(metric, ci95)  # type: ignore[arg-type]
    return Verdict.NO_CLEAR_CHANGE


def night_verdict(
    metric: str,
    *,
    n_values: int,
    n_scored: int,
    n_lag: int,
    n_control: int,
    ci95: tuple[float, float] | None,
    p: float | None,
    q: float | None,
    primary: bool,
    min_sessions: int = MIN_SESSIONS,
    min_scored_nights: int = MIN_SCORED_NIGHTS,
    q_max: float = NIGHTS_Q_MAX,
    primary_p_max: float = PRIMARY_P_MAX,
    separable: bool = True,
    reachable: bool = True,
) -> Verdict:
    """Verdict of an adjusted lag-ℓ effect. `n_values` = nights with any value for the metric;
    `separable` = False when the sessions' weekdays leave no weekday-matched comparison;
    `reachable` = False when the weekday-keeping permutations are too few for p < the limit."""
    if n_values == 0:
        return Verdict.NOT_MEASURED
    if n_lag < min_sessions or n_control < min_sessions or n_scored < min_scored_nights:
        return Verdict.NOT_ENOUGH_DATA
    if not separable or not reachable:
        return Verdict.CANNOT_SEPARATE_WEEKDAY
    test = p if primary else q
    limit = primary_p_max if primary else q_max
    if _ci_excludes_zero(ci95) and _finite(test) and test < limit:  # type: ignore[operator]
        return _direction(metric, ci95)  # type: ignore[arg-type]
    return Verdict.NO_CLEAR_CHANGE


def combine_verdicts(verdicts: Iterable[Verdict]) -> Verdict:
    """One verdict for a claim from the verdicts of the metrics that speak to it (conservative).

    - no metric, or every metric "not measured" → "not measured";
    - some metric "improved" and another "worsened" → "no clear change" (conflicting evidence);
    - otherwise any "improved" → "improved", any "worsened" → "worsened" (each such metric already
      passed its CI and multiplicity rule);
    - otherwise the first present of "no clear change", "cannot separate from day of week", "cannot
      tell massage from lying still", else "not enough data".
    """
    vs = set(verdicts)
    vs.discard(Verdict.NOT_MEASURED)
    if not vs:
        return Verdict.NOT_MEASURED
    if Verdict.IMPROVED in vs and Verdict.WORSENED in vs:
        return Verdict.NO_CLEAR_CHANGE
    for v in (Verdict.IMPROVED, Verdict.WORSENED, Verdict.NO_CLEAR_CHANGE, Verdict.CANNOT_SEPARATE_WEEKDAY,
              Verdict.NEEDS_REST):  # fmt: skip
        if v in vs:
            return v
    return Verdict.NOT_ENOUGH_DATA
