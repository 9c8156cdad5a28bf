"""The whole evidence report from plain inputs: sessions, capture-window summaries and nights (pure).

`build_report(ReportInputs, ...)` runs every analysis of this package and returns a frozen `Report`;
`Report.to_dict()` is its JSON form (no NaN: missing numbers are None). No database, no clock, no
logging: the service layer loads the data, closes its database scope and calls this.

Conventions
- Calendar: the report covers the local nights `period_start` … `period_end` (inclusive, labelled by
  the morning they end, see `sleep`). Night metrics arrive as a `NightSeries`; labels outside the
  period are ignored and missing nights are NaN.
- Session day: the local date of a session's end, where ends before 04:00 count for the previous
  day (a session that ran past midnight is still followed by that night). The first night after a
  session on day d is the night labelled d + 1 (lag 1), then d + 2, d + 3. Only sessions whose day
  falls inside the period are analysed.
- Acute (per session, post − pre): hr_bpm and ln_rmssd use the pre/post capture-window summaries and
  count only when both windows passed the quality gate; pain, stress and mood use the before/after
  self-reports and count only when both were given; sbp_mmhg/dbp_mmhg appear only when a cuff supplied
  them. Rows for "rest" and "massage_minus_rest" appear only when rest sessions exist. BH q across all
  acute rows. Without rest sessions every statement says the change happened "during your sessions".
- Nights after: only massage sessions define lag nights and "no session in the 3 days before" control
  nights (rest sessions are the acute control and are not used here). BH q across metrics × lags; the
  primary endpoint (default lag-1 nightly lnRMSSD) is judged on its unadjusted p (see `verdicts`).
- Dose-response (exploratory, ≥ 10 massage sessions): the primary metric's deviation on the
  primary-lag night after each massage vs duration (min) and pressure (1–3), Spearman ρ with
  permutation p; and mean deviation by technique.
- Randomness: every permutation/bootstrap draws from generators seeded from `seed`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from tracker.analysis.claims import ACUTE, NIGHTS, ClaimAssessment, assess_claims
from tracker.analysis.effects import (
    Baseline,
    benjamini_hochberg,
    block_bootstrap_weights,
    group_difference,
    night_effects,
    paired_change,
    rolling_baseline,
    spearman_permutation,
)
from tracker.analysis.sleep import NIGHT_METRICS, NightSeries
from tracker.analysis.verdicts import Verdict, acute_verdict, night_verdict
from tracker.model import SessionKind

ACUTE_METRICS: tuple[str, ...] = ("hr_bpm", "ln_rmssd", "pain", "stress", "mood")
BP_METRICS: tuple[str, ...] = ("sbp_mmhg", "dbp_mmhg")
NIGHT_LAGS: tuple[int, ...] = (1, 2, 3)
DOSE_RESPONSE_MIN_SESSIONS = 10
SESSION_DAY_ROLLOVER_H = 4
_SELF_REPORTS = ("pain", "stress", "mood")
_UNITS = {
    "hr_bpm": "bpm",
    "ln_rmssd": "ln(ms)",
    "pain": "points",
    "stress": "points",
    "mood": "points",
    "sbp_mmhg": "mmHg",
    "dbp_mmhg": "mmHg",
}


@dataclass(frozen=True, slots=True)
class WindowSummary:
    """A pre- or post-session capture window, summarised by the service from RR data."""

    hr_bpm: float | None = None
    ln_rmssd: float | None = None
    quality_ok: bool = False
    sbp_mmhg: float | None = None
    dbp_mmhg: float | None = None


@dataclass(frozen=True, slots=True)
class SessionInput:
    start_ms: int
    end_ms: int
    kind: SessionKind
    technique: str | None = None
    pressure: int | None = None  # 1 light, 2 moderate, 3 firm
    pain_before: float | None = None  # self-reports, 0–10
    pain_after: float | None = None
    stress_before: float | None = None
    stress_after: float | None = None
    mood_before: float | None = None
    mood_after: float | None = None
    pre: WindowSummary | None = None
    post: WindowSummary | None = None

    @property
    def duration_min(self) -> float:
        return (self.end_ms - self.start_ms) / 60_000


@dataclass(frozen=True, slots=True, eq=False)
class ReportInputs:
    """Everything the report needs, already loaded: no database handles, only plain values."""

    person: str
    timezone: str  # IANA zone
    period_start: date  # first night label (inclusive)
    period_end: date  # last night label (inclusive)
    sessions: tuple[SessionInput, ...] = ()
    nights: NightSeries = field(default_factory=lambda: NightSeries(labels=()))


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


@dataclass(frozen=True, slots=True)
class NightRow:
    metric: str
    lag: int
    primary: bool
    n_massage: int
    n_control: int
    n_scored: int
    difference: float | None
    difference_z: float | None
    hedges_g: float | None
    ci95: tuple[float, float] | None
    p: float | None
    q: float | None
    mde: float | None
    mde_sd: float | None
    sessions_needed: int | None  # to reach an MDE of 0.5 SD (smallest worthwhile change)
    sessions_needed_observed: int | None  # to reach an MDE equal to the observed |difference|
    verdict: Verdict


@dataclass(frozen=True, slots=True)
class Correlation:
    predictor: str
    n: int
    rho: float | None
    p: float | None


@dataclass(frozen=True, slots=True)
class DoseResponse:
    outcome: str  # e.g. "ln_rmssd_night deviation, night 1"
    n_sessions: int
    correlations: tuple[Correlation, ...]
    by_technique: tuple[tuple[str, int, float | None], ...]  # (technique, n, mean deviation)


@dataclass(frozen=True, slots=True)
class Report:
    person: str
    timezone: str
    period_start: date
    period_end: date
    n_massage: int
    n_rest: int
    n_nights: int
    primary_metric: str
    primary_lag: int
    acute: tuple[AcuteRow, ...]
    nights_after: tuple[NightRow, ...]
    claims: tuple[ClaimAssessment, ...]
    dose_response: DoseResponse | None

    def to_dict(self) -> dict[str, object]:
        primary = next((r for r in self.nights_after if r.primary), None)
        out: dict[str, object] = {
            "person": self.person,
            "timezone": self.timezone,
            "period": {"start": self.period_start.isoformat(), "end": self.period_end.isoformat()},
            "sessions": {"massage": self.n_massage, "rest": self.n_rest},
            "nights": self.n_nights,
            "primary_endpoint": {
                "metric": self.primary_metric,
                "lag": self.primary_lag,
                "p_unadjusted": primary.p if primary else None,
                "verdict": str(primary.verdict) if primary else None,
            },
            "acute": [
                {
                    "metric": r.metric,
                    "kind": r.kind,
                    "n": r.n,
                    "mean_change": r.mean_change,
                    "ci95": r.ci95,
                    "p": r.p,
                    "verdict": str(r.verdict),
                    "q": r.q,
                    "n_available": r.n_available,
                    "statement": r.statement,
                }
                for r in self.acute
            ],
            "nights_after": [
                {
                    "metric": r.metric,
                    "lag": r.lag,
                    "n_massage": r.n_massage,
                    "n_control": r.n_control,
                    "difference": r.difference,
                    "hedges_g": r.hedges_g,
                    "ci95": r.ci95,
                    "p": r.p,
                    "q": r.q,
                    "mde": r.mde,
                    "sessions_needed": r.sessions_needed,
                    "verdict": str(r.verdict),
                    "primary": r.primary,
                    "n_scored": r.n_scored,
                    "difference_z": r.difference_z,
                    "mde_sd": r.mde_sd,
                    "sessions_needed_observed": r.sessions_needed_observed,
                }
                for r in self.nights_after
            ],
            "claims": [c.to_dict() for c in self.claims],
            "dose_response": None
            if self.dose_response is None
            else {
                "outcome": self.dose_response.outcome,
                "n_sessions": self.dose_response.n_sessions,
                "correlations": [
                    {"predictor": c.predictor, "n": c.n, "rho": c.rho, "p": c.p}
                    for c in self.dose_response.correlations
                ],
                "by_technique": [
                    {"technique": t, "n": n, "mean_deviation": m} for t, n, m in self.dose_response.by_technique
                ],
            },
        }
        return _json_clean(out)  # type: ignore[return-value]


def _json_clean(x: object) -> object:
    """Plain JSON types only; non-finite floats become None."""
    if isinstance(x, dict):
        return {k: _json_clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_json_clean(v) for v in x]
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        f = float(x)
        return f if math.isfinite(f) else None
    return x


def session_day(end_ms: int, tz: str | ZoneInfo) -> date:
    """Local day a session belongs to (ends before 04:00 count for the previous day)."""
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
    local = datetime.fromtimestamp(end_ms / 1000, tz=zone)
    return (local - timedelta(hours=SESSION_DAY_ROLLOVER_H)).date()


def _seed(seed: int, *path: int) -> int:
    """Independent, reproducible sub-seed for one computation."""
    return int(np.random.SeedSequence([seed, *path]).generate_state(1)[0])


def _f(x: float | None) -> float:
    return math.nan if x is None else float(x)


def _acute_values(s: SessionInput, metric: str) -> tuple[float, bool]:
    """(post − pre or NaN, whether the session has any value for the metric)."""
    if metric in _SELF_REPORTS:
        before, after = _f(getattr(s, f"{metric}_before")), _f(getattr(s, f"{metric}_after"))
        available = math.isfinite(before) or math.isfinite(after)
        return after - before, available
    pre = _f(getattr(s.pre, metric)) if s.pre else math.nan
    post = _f(getattr(s.post, metric)) if s.post else math.nan
    available = math.isfinite(pre) or math.isfinite(post)
    gated = s.pre is not None and s.post is not None and s.pre.quality_ok and s.post.quality_ok
    return (post - pre) if gated else math.nan, available


def _fmt_ci(ci: tuple[float, float] | None) -> str:
    return "no interval" if ci is None else f"95% CI {ci[0]:+.2f} to {ci[1]:+.2f}"


def _acute_statement(
    metric: str, kind: str, n: int, mean: float | None, ci: tuple[float, float] | None, has_rest: bool
) -> str:
    unit = _UNITS.get(metric, "")
    if n == 0 or mean is None:
        return f"No usable sessions for {metric}."
    if kind == "massage_minus_rest":
        return (
            f"Across massage vs rest sessions, the change in {metric} differed by {mean:+.2f} {unit} "
            f"(massage minus rest; {_fmt_ci(ci)})."
        )
    text = (
        f"During your {kind} sessions, {metric} changed by {mean:+.2f} {unit} on average "
        f"({_fmt_ci(ci)}; {n} sessions)."
    )
    if kind == "massage" and not has_rest:
        text += " Without rest sessions to compare, this cannot be attributed to massage rather than to resting."
    return text


def _acute_rows(sessions: Sequence[SessionInput], metrics: Sequence[str], has_rest: bool, seed: int) -> list[AcuteRow]:
    kinds = [s.kind for s in sessions]
    raw: list[tuple[str, str, int, int, float | None, tuple[float, float] | None, float | None]] = []
    for mi, metric in enumerate(metrics):
        vals = [_acute_values(s, metric) for s in sessions]
        delta = {k: np.array([d for (d, _), kk in zip(vals, kinds) if kk == k]) for k in SessionKind}
        avail = {k: sum(a for (_, a), kk in zip(vals, kinds) if kk == k) for k in SessionKind}
        for ki, kind in enumerate((SessionKind.MASSAGE, SessionKind.REST) if has_rest else (SessionKind.MASSAGE,)):
            pc = paired_change(delta[kind], seed=_seed(seed, 1, mi, ki))
            raw.append((metric, str(kind), pc.n, avail[kind], pc.mean_change, pc.ci95, pc.p))
        if has_rest:
            gd = group_difference(delta[SessionKind.MASSAGE], delta[SessionKind.REST], seed=_seed(seed, 2, mi))
            raw.append(
                (
                    metric,
                    "massage_minus_rest",
                    min(gd.n_a, gd.n_b),  # n of the smaller group: the one that limits the comparison
                    min(avail[SessionKind.MASSAGE], avail[SessionKind.REST]),
                    gd.difference,
                    gd.ci95,
                    gd.p,
                )
            )
    q = benjamini_hochberg([math.nan if r[6] is None else r[6] for r in raw])
    rows = []
    for (metric, kind, n, n_av, mean, ci, p), qi in zip(raw, q, strict=True):
        qv = None if math.isnan(qi) else float(qi)
        rows.append(
            AcuteRow(
                metric=metric,
                kind=kind,
                n=n,
                n_available=n_av,
                mean_change=mean,
                ci95=ci,
                p=p,
                q=qv,
                verdict=acute_verdict(metric, n=n, n_available=n_av, ci95=ci, q=qv),
                statement=_acute_statement(metric, kind, n, mean, ci, has_rest),
            )
        )
    return rows


def _night_matrix(nights: NightSeries, start: date, n_days: int) -> np.ndarray:
    y = np.full((len(NIGHT_METRICS), n_days), np.nan)
    idx = np.array([(d - start).days for d in nights.labels], dtype=np.int64)
    keep = (idx >= 0) & (idx < n_days)
    for m, name in enumerate(NIGHT_METRICS):
        vals = nights.metrics.get(name)
        if vals is None:
            continue
        v = np.asarray(vals, dtype=np.float64)
        y[m, idx[keep]] = v[keep]
    return y


def build_report(
    inputs: ReportInputs,
    *,
    primary_metric: str = "ln_rmssd_night",
    primary_lag: int = 1,
    seed: int = 0,
) -> Report:
    """Run every analysis over `inputs` (conventions: module docstring)."""
    if primary_metric not in NIGHT_METRICS:
        raise ValueError(f"primary_metric must be one of {NIGHT_METRICS}, not {primary_metric!r}")
    if primary_lag not in NIGHT_LAGS:
        raise ValueError(f"primary_lag must be one of {NIGHT_LAGS}, not {primary_lag!r}")
    zone = ZoneInfo(inputs.timezone)
    start, end = inputs.period_start, inputs.period_end
    n_days = max(0, (end - start).days + 1)

    days = [session_day(s.end_ms, zone) for s in inputs.sessions]
    in_period = [(s, d) for s, d in zip(inputs.sessions, days, strict=True) if start <= d <= end]
    sessions = [s for s, _ in in_period]
    n_massage = sum(s.kind == SessionKind.MASSAGE for s in sessions)
    n_rest = sum(s.kind == SessionKind.REST for s in sessions)
    has_rest = n_rest > 0

    # Acute rows.
    acute_metrics = list(ACUTE_METRICS)
    for bp in BP_METRICS:
        if any(
            w is not None and getattr(w, bp) is not None for s in sessions for w in (s.pre, s.post)
        ):
            acute_metrics.append(bp)
    acute = _acute_rows(sessions, acute_metrics, has_rest, seed)

    # Nights after: all metrics share the baseline computation and the bootstrap day indices.
    y = _night_matrix(inputs.nights, start, n_days)
    n_nights = int(np.isfinite(y).any(axis=0).sum()) if n_days else 0
    massage_day = np.zeros(n_days, dtype=bool)
    for s, d in in_period:
        if s.kind == SessionKind.MASSAGE:
            massage_day[(d - start).days] = True
    night_rows: list[NightRow] = []
    baselines: dict[str, Baseline] = {}
    if n_days > 0:
        bl = rolling_baseline(y)
        boot_w = block_bootstrap_weights(n_days, seed=_seed(seed, 3))
        effects = []
        for m, name in enumerate(NIGHT_METRICS):
            b = Baseline(bl.median[m], bl.scale[m], bl.deviation[m], bl.z[m], bl.n_past[m])
            baselines[name] = b
            for e in night_effects(
                y[m], massage_day, lags=NIGHT_LAGS, seed=_seed(seed, 4, m), baseline=b, boot_weights=boot_w
            ):
                effects.append((name, int(np.isfinite(y[m]).sum()), e))
        q = benjamini_hochberg([math.nan if e.p is None else e.p for _, _, e in effects])
        for (name, n_values, e), qi in zip(effects, q, strict=True):
            primary = name == primary_metric and e.lag == primary_lag
            qv = None if math.isnan(qi) else float(qi)
            night_rows.append(
                NightRow(
                    metric=name,
                    lag=e.lag,
                    primary=primary,
                    n_massage=e.n_lag,
                    n_control=e.n_control,
                    n_scored=e.n_scored,
                    difference=e.difference,
                    difference_z=e.difference_z,
                    hedges_g=e.hedges_g,
                    ci95=e.ci95,
                    p=e.p,
                    q=qv,
                    mde=e.mde,
                    mde_sd=e.mde_sd,
                    sessions_needed=e.sessions_needed,
                    sessions_needed_observed=e.sessions_needed_observed,
                    verdict=night_verdict(
                        name,
                        n_values=n_values,
                        n_scored=e.n_scored,
                        n_lag=e.n_lag,
                        n_control=e.n_control,
                        ci95=e.ci95,
                        p=e.p,
                        q=qv,
                        primary=primary,
                    ),
                )
            )

    # Claims: the acute row that can speak for massage, and nights at the primary lag.
    verdicts: dict[tuple[str, str], Verdict] = {}
    acute_kind = "massage_minus_rest" if has_rest else "massage"
    for r in acute:
        if r.kind == acute_kind:
            verdicts[(ACUTE, r.metric)] = r.verdict
    for r in night_rows:
        if r.lag == primary_lag:
            verdicts[(NIGHTS, r.metric)] = r.verdict
    claims = assess_claims(verdicts, has_rest_controls=has_rest, night_lag=primary_lag)

    dose = _dose_response(in_period, baselines.get(primary_metric), start, primary_metric, primary_lag, seed)

    return Report(
        person=inputs.person,
        timezone=inputs.timezone,
        period_start=start,
        period_end=end,
        n_massage=n_massage,
        n_rest=n_rest,
        n_nights=n_nights,
        primary_metric=primary_metric,
        primary_lag=primary_lag,
        acute=tuple(acute),
        nights_after=tuple(night_rows),
        claims=claims,
        dose_response=dose,
    )


def _dose_response(
    in_period: Sequence[tuple[SessionInput, date]],
    baseline: Baseline | None,
    start: date,
    metric: str,
    lag: int,
    seed: int,
) -> DoseResponse | None:
    massages = [(s, d) for s, d in in_period if s.kind == SessionKind.MASSAGE]
    if len(massages) < DOSE_RESPONSE_MIN_SESSIONS or baseline is None:
        return None
    dev = baseline.deviation
    outcome = np.full(len(massages), np.nan)
    for i, (_, d) in enumerate(massages):
        t = (d - start).days + lag
        if 0 <= t < dev.size:
            outcome[i] = dev[t]
    duration = np.array([s.duration_min for s, _ in massages])
    pressure = np.array([_f(s.pressure) for s, _ in massages])
    corr = []
    for k, (name, x) in enumerate((("duration_min", duration), ("pressure", pressure))):
        rc = spearman_permutation(x, outcome, seed=_seed(seed, 5, k))
        corr.append(Correlation(predictor=name, n=rc.n, rho=rc.rho, p=rc.p))
    groups: dict[str, list[float]] = {}
    for (s, _), o in zip(massages, outcome, strict=True):
        if math.isfinite(o):
            groups.setdefault(s.technique or "unspecified", []).append(float(o))
    by_tech = tuple((t, len(v), float(np.mean(v))) for t, v in sorted(groups.items()))
    return DoseResponse(
        outcome=f"{metric} deviation from baseline, night {lag} after the session",
        n_sessions=len(massages),
        correlations=tuple(corr),
        by_technique=by_tech,
    )


def night_series_from_mapping(labels: Sequence[date], metrics: Mapping[str, Sequence[float]]) -> NightSeries:
    """Convenience for services and tests: plain sequences → `NightSeries` (None → NaN)."""
    return NightSeries(
        labels=tuple(labels),
        metrics={k: np.array([math.nan if v is None else float(v) for v in vs]) for k, vs in metrics.items()},
    )
