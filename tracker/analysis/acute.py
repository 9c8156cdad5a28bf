"""Within-session changes (post − pre) and massage minus rest, with honest power figures (pure).

Rows per metric: "massage" and "rest" (mean change within those sessions: descriptive, worded as
"during your sessions"), and "massage_minus_rest" when rest sessions exist (the only comparison that
can speak for massage rather than lying still). Tests and intervals: `effects.paired_change`
(t interval, exact sign-flip p) and `effects.group_difference` (Welch interval, label-permutation p);
BH q across all acute rows of the report.

MDE (`power`): at α/m (m = acute rows with a p-value: the worst case of BH), in the metric's units
(SD of the changes for paired rows, pooled SD for massage minus rest); `null` when the exact test
cannot reach that level with the sessions there are. A row whose test cannot reach p < 0.05 at all
(sign flip with n ≤ 5; 3 vs 3 relabelled) reads "not enough data". Sessions needed: to bring the MDE
to 0.5 SD of the changes; for massage minus rest, how many more massage and rest sessions.

Rest sessions are comparable when, on average, they start within 2 h of the massage sessions' time of
day (circular mean of local start hours) and last within ±25 % of their mean duration; otherwise the
reason says which way they differ.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tracker.analysis.effects import benjamini_hochberg, group_difference, paired_change
from tracker.analysis.power import (
    paired_mde_sd,
    paired_sessions_needed,
    relabel_min_p,
    sign_flip_min_p,
    two_sample_mde_sd,
    two_sample_more_needed,
)
from tracker.analysis.verdicts import ACUTE_Q_MAX, Verdict, acute_verdict

SMALLEST_WORTHWHILE_CHANGE_SD = 0.5
MAX_START_DIFF_H = 2.0
MAX_DURATION_RATIO_DIFF = 0.25
MIN_REST_SESSIONS = 4
LABELS = {
    "hr_bpm": ("heart rate", "bpm"),
    "ln_rmssd": ("HRV (lnRMSSD)", "ln(ms)"),
    "pain": ("pain rating", "points"),
    "stress": ("stress rating", "points"),
    "mood": ("mood rating", "points"),
    "sbp_mmhg": ("systolic blood pressure", "mmHg"),
    "dbp_mmhg": ("diastolic blood pressure", "mmHg"),
}


@dataclass(frozen=True, slots=True)
class RestComparison:
    n_massage: int
    n_rest: int
    start_diff_h: float | None  # rest − massage, circular mean of local start hours, hours
    duration_ratio: float | None  # mean rest duration / mean massage duration
    comparable: bool
    reason: str

    @property
    def usable(self) -> bool:
        """Enough comparable rest sessions for massage minus rest to speak for massage."""
        return self.comparable and self.n_rest >= MIN_REST_SESSIONS

    @property
    def rest_needed(self) -> int:
        """Comparable rest sessions still to log before claims may use massage minus rest."""
        return max(0, MIN_REST_SESSIONS - (self.n_rest if self.comparable else 0))


def _circular_mean_h(hours: Sequence[float]) -> float:
    ang = np.asarray(hours, dtype=np.float64) * (2 * math.pi / 24.0)
    return float(math.atan2(np.sin(ang).mean(), np.cos(ang).mean()) * 24.0 / (2 * math.pi)) % 24.0


def _hhmm(h: float) -> str:
    m = int(round(h * 60)) % (24 * 60)
    return f"{m // 60:02d}:{m % 60:02d}"


def compare_rest(
    massage_start_h: Sequence[float], massage_min: Sequence[float], rest_start_h: Sequence[float], rest_min: Sequence[float]
) -> RestComparison:
    """Are the rest sessions comparable with the massage sessions (time of day, duration)?"""
    nm, nr = len(massage_start_h), len(rest_start_h)
    if nr == 0 or nm == 0:
        why = "no rest sessions logged" if nr == 0 else "no massage sessions to compare with"
        return RestComparison(nm, nr, None, None, False, why)
    m_h, r_h = _circular_mean_h(massage_start_h), _circular_mean_h(rest_start_h)
    diff = (r_h - m_h + 12.0) % 24.0 - 12.0
    ratio = float(np.mean(rest_min)) / float(np.mean(massage_min)) if np.mean(massage_min) > 0 else math.inf
    problems = []
    if abs(diff) > MAX_START_DIFF_H:
        way = "later" if diff > 0 else "earlier"
        problems.append(f"rest sessions start on average {abs(diff):.1f} h {way} than massages "
                        f"({_hhmm(r_h)} vs {_hhmm(m_h)})")  # fmt: skip
    if abs(ratio - 1.0) > MAX_DURATION_RATIO_DIFF:
        way = "longer" if ratio > 1 else "shorter"
        problems.append(f"rest sessions are on average {abs(ratio - 1) * 100:.0f} % {way} than massages "
                        f"({np.mean(rest_min):.0f} vs {np.mean(massage_min):.0f} min)")  # fmt: skip
    if problems:
        reason = "Rest sessions are not comparable: " + "; ".join(problems) + "."
    elif nr < MIN_REST_SESSIONS:
        reason = f"Only {nr} rest session{'s' if nr != 1 else ''}; at least {MIN_REST_SESSIONS} are needed."
    else:
        reason = (f"{nr} rest sessions comparable with the massages (start within {MAX_START_DIFF_H:.0f} h, "
                  f"duration within ±{MAX_DURATION_RATIO_DIFF:.0%}).")  # fmt: skip
    return RestComparison(nm, nr, diff, ratio, not problems, reason)


@dataclass(frozen=True, slots=True)
class AcuteRow:
    metric: str
    kind: str  # "massage" | "rest" | "massage_minus_rest"
    n: int
    n_available: int
    mean_change: float | None
    ci95: tuple[float, float] | None
    p: float | None
    q: float | None
    verdict: Verdict
    statement: str
    mde: float | None = None
    sessions_needed: int | None = None
    more_massage_needed: int | None = None
    more_rest_needed: int | None = None
    reason: str = ""
    comparable: bool | None = None


def _fmt_ci(ci: tuple[float, float] | None) -> str:
    return "no interval" if ci is None else f"95% CI {ci[0]:+.2f} to {ci[1]:+.2f}"


def _moved(mean: float) -> str:
    return "rose" if mean > 0 else "fell" if mean < 0 else "did not change"


def _statement(metric: str, kind: str, n: int, mean: float | None, ci: tuple[float, float] | None,
               rest: RestComparison) -> str:  # fmt: skip
    label, unit = LABELS.get(metric, (metric, ""))
    if n == 0 or mean is None:
        return f"No usable sessions for {label}."
    if kind == "massage_minus_rest":
        text = (f"Your {label} changed by {mean:+.2f} {unit} more during massage than during rest sessions "
                f"(massage minus rest; {_fmt_ci(ci)}).")  # fmt: skip
        return text if rest.comparable else text + " " + rest.reason
    text = (f"During your {kind} sessions your {label} {_moved(mean)} by {abs(mean):.2f} {unit} on average "
            f"({_fmt_ci(ci)}; {n} sessions).")  # fmt: skip
    if kind == "massage" and not rest.usable:
        text += " This includes lying still, the time of day and expectation: it is not a massage effect."
    return text


def acute_rows(
    deltas: dict[str, dict[str, np.ndarray]],
    available: dict[str, dict[str, int]],
    rest: RestComparison,
    seed_of,  # type: ignore[no-untyped-def]  # (metric index, kind index) -> int seed
) -> list[AcuteRow]:
    """Rows for `deltas[metric][kind]` (post − pre per session, NaN = unusable) and BH across them."""
    has_rest = rest.n_rest > 0
    raw = []
    for mi, (metric, by_kind) in enumerate(deltas.items()):
        kinds = ("massage", "rest") if has_rest else ("massage",)
        for ki, kind in enumerate(kinds):
            pc = paired_change(by_kind[kind], seed=seed_of(mi, ki))
            raw.append((metric, kind, pc.n, available[metric][kind], pc.mean_change, pc.ci95, pc.p, pc.sd_change,
                        None))  # fmt: skip
        if has_rest:
            a, b = by_kind["massage"], by_kind["rest"]
            gd = group_difference(a, b, seed=seed_of(mi, 9))
            fa, fb = a[np.isfinite(a)], b[np.isfinite(b)]
            sp = None
            if fa.size >= 2 and fb.size >= 2:
                sp = math.sqrt(((fa.size - 1) * fa.var(ddof=1) + (fb.size - 1) * fb.var(ddof=1)) / (fa.size + fb.size - 2))
            raw.append((metric, "massage_minus_rest", min(gd.n_a, gd.n_b),
                        min(available[metric]["massage"], available[metric]["rest"]), gd.difference, gd.ci95, gd.p,
                        sp, (gd.n_a, gd.n_b)))  # fmt: skip
    q = benjamini_hochberg([math.nan if r[6] is None else r[6] for r in raw])
    m = max(1, int(np.isfinite(q).sum()))
    alpha_m = ACUTE_Q_MAX / m
    rows = []
    for (metric, kind, n, n_av, mean, ci, p, sd, groups), qi in zip(raw, q, strict=True):
        qv = None if math.isnan(qi) else float(qi)
        mde = needed = more_m = more_r = None
        if groups is None:
            reachable = sign_flip_min_p(n) <= ACUTE_Q_MAX
            m_sd = paired_mde_sd(n, alpha_m)
            if m_sd is not None and sd:
                mde = m_sd * sd
            needed = paired_sessions_needed(n, alpha_m, SMALLEST_WORTHWHILE_CHANGE_SD)
            test = f"exact sign-flip test over {n} sessions"
            floor = sign_flip_min_p(n)
        else:
            na, nb = groups
            reachable = relabel_min_p(na, nb) <= ACUTE_Q_MAX
            m_sd = two_sample_mde_sd(na, nb, alpha_m)
            if m_sd is not None and sd:
                mde = m_sd * sd
            more = two_sample_more_needed(na, nb, alpha_m, SMALLEST_WORTHWHILE_CHANGE_SD)
            if more is not None:
                more_m, more_r = more
                needed = more_m + more_r
            test = f"label-permutation test of {na} massage vs {nb} rest sessions"
            floor = relabel_min_p(na, nb)
        verdict = acute_verdict(metric, n=n, n_available=n_av, ci95=ci, q=qv, reachable=reachable)
        rows.append(
            AcuteRow(
                metric=metric, kind=kind, n=n, n_available=n_av, mean_change=mean, ci95=ci, p=p, q=qv,
                verdict=verdict, statement=_statement(metric, kind, n, mean, ci, rest), mde=mde,
                sessions_needed=needed, more_massage_needed=more_m, more_rest_needed=more_r,
                reason=_reason(verdict, kind, test, floor, qv, mde, m, rest),
                comparable=rest.comparable if kind == "massage_minus_rest" else None,
            )  # fmt: skip
        )
    return rows


def _reason(verdict: Verdict, kind: str, test: str, floor: float, q: float | None, mde: float | None, m: int,
            rest: RestComparison) -> str:  # fmt: skip
    if verdict is Verdict.NOT_MEASURED:
        return "No values for this measure."
    if verdict is Verdict.NOT_ENOUGH_DATA:
        if floor > ACUTE_Q_MAX:
            return f"The {test} cannot reach p < {ACUTE_Q_MAX} (its smallest p is {floor:.3g})."
        return "Too few sessions with usable values."
    tail = "" if mde is not None else f" No detectable effect can be given yet at the level α/{m} that {m} rows need."
    if verdict in (Verdict.IMPROVED, Verdict.WORSENED):
        base = f"95 % CI excludes 0 and BH q = {q:.3g} < {ACUTE_Q_MAX} ({test})."
        if kind == "massage" and not rest.usable:
            base += " Describes the sessions, not massage: " + rest.reason
        return base + tail
    return f"The CI includes 0 or q ≥ {ACUTE_Q_MAX} ({test}); no change was detected, which is not 'no change'." + tail
