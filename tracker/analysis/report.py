"""The whole evidence report from plain inputs: sessions, capture-window summaries and nights (pure).

`build_report(ReportInputs, ...)` runs every analysis of this package and returns a frozen `Report`;
`Report.to_dict()` is its JSON form (no NaN: missing numbers are None). No database, no clock, no
logging: the service layer loads the data, closes its database scope and calls this.

Conventions
- Calendar: the report covers the local nights `period_start` … `period_end` (inclusive, labelled by
  the morning they end, see `sleep`), widened to cover every session day:
  a strap-only person (no nights) is still analysed within sessions, and sessions before the first or
  after the last recorded night are counted (`sessions_without_nights`), never dropped silently.
  Night metrics arrive as a `NightSeries`; missing nights are NaN.
- Session day: the local date of a session's end, where ends before 04:00 count for the previous
  day (a session that ran past midnight is still followed by that night). The first night after a
  session on day d is the night labelled d + 1 (lag 1), then d + 2, d + 3.
- Acute (per session, post − pre; `acute`): hr_bpm and ln_rmssd use the pre/post capture-window
  summaries and count only when both windows passed the quality gate; pain, stress and mood use the
  before/after self-reports; sbp_mmhg/dbp_mmhg appear only when a cuff supplied them. Rows for "rest"
  and "massage_minus_rest" appear only when rest sessions exist; statements about massage/rest rows
  are descriptive ("during your sessions").
- Claims use within-session evidence only through massage minus rest, and only with ≥ 4 rest sessions
  comparable in time of day and duration (`acute.compare_rest`); otherwise such a metric reads
  "cannot tell massage from lying still". A row carries a claim only when it survives Holm at
  family-wise 5 % over all rows that can support a claim (`familywise`; the primary row weighted half).
- Nights after (`nights`, `adjusted`): only massage sessions define lag nights; each lag effect is
  adjusted for day of week, the night before the session and a slow trend, and tested by permutations
  that keep weekdays. BH q across metrics × lags; the primary endpoint (default lag-1 nightly lnRMSSD)
  is judged on its own p (see `verdicts`).
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

from tracker.analysis.acute import AcuteRow, RestComparison, acute_rows, compare_rest
from tracker.analysis.adjusted import weekday_permutations
from tracker.analysis.claims import ACUTE, NIGHTS, ClaimAssessment, assess_claims
from tracker.analysis.effects import Baseline, rolling_baseline, spearman_permutation
from tracker.analysis.nights import NightRow
from tracker.analysis.nights import night_rows as night_rows_of
from tracker.analysis.sleep import NIGHT_METRICS, NightSeries
from tracker.analysis.verdicts import Verdict
from tracker.model import SessionKind

ACUTE_METRICS: tuple[str, ...] = ("hr_bpm", "ln_rmssd", "pain", "stress", "mood")
BP_METRICS: tuple[str, ...] = ("sbp_mmhg", "dbp_mmhg")
NIGHT_LAGS: tuple[int, ...] = (1, 2, 3)
DOSE_RESPONSE_MIN_SESSIONS = 10
DOSE_RESPONSE_PERMUTATIONS = 2_000  # exploratory: p to about ±0.01 is plenty
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
    rest: RestComparison | None = None
    sessions_without_nights: int = 0

    def to_dict(self) -> dict[str, object]:
        primary = next((r for r in self.nights_after if r.primary), None)
        out: dict[str, object] = {
            "person": self.person,
            "timezone": self.timezone,
            "period": {"start": self.period_start.isoformat(), "end": self.period_end.isoformat()},
            "sessions": {"massage": self.n_massage, "rest": self.n_rest},
            "nights": self.n_nights,
            "design": "observational",
            "sessions_without_nights": self.sessions_without_nights,
            "rest_comparison": None
            if self.rest is None
            else {
                "comparable": self.rest.comparable,
                "usable": self.rest.usable,
                "start_diff_h": self.rest.start_diff_h,
                "duration_ratio": self.rest.duration_ratio,
                "rest_needed": self.rest.rest_needed,
                "reason": self.rest.reason,
            },
            "primary_endpoint": {
                "metric": self.primary_metric,
                "lag": self.primary_lag,
                "p_unadjusted": primary.p if primary else None,
                "verdict": str(primary.verdict) if primary else None,
                "estimate": primary.adjusted_difference if primary else None,
                "ci95": primary.ci95 if primary else None,
                "mde": primary.mde if primary else None,
                "sessions_needed": primary.sessions_needed if primary else None,
                "reason": primary.reason if primary else "No nights recorded.",
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
                    "mde": r.mde,
                    "sessions_needed": r.sessions_needed,
                    "more_massage_needed": r.more_massage_needed,
                    "more_rest_needed": r.more_rest_needed,
                    "comparable": r.comparable,
                    "reason": r.reason,
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
                    "adjusted_difference": r.adjusted_difference,
                    "weekday_information": r.weekday_information,
                    "reason": r.reason,
                    "statement": r.statement,
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
    days = [session_day(s.end_ms, zone) for s in inputs.sessions]
    # The period covers every session day as well as the nights (a strap-only person has sessions and
    # no nights; sessions before the first or after the last night are analysed, never dropped).
    if days:
        if len(inputs.nights.labels):
            start, end = min(start, min(days)), max(end, max(days))
        else:
            start, end = min(days), max(days)
    n_days = max(0, (end - start).days + 1)
    in_period = [(s, d) for s, d in zip(inputs.sessions, days, strict=True) if start <= d <= end]
    sessions = [s for s, _ in in_period]
    n_massage = sum(s.kind == SessionKind.MASSAGE for s in sessions)
    n_rest = sum(s.kind == SessionKind.REST for s in sessions)

    rest = _rest_comparison(sessions, zone)
    acute = _acute(sessions, rest, seed)

    # Nights after: the weekday-keeping permutations are drawn once and shared by all metrics and lags.
    y = _night_matrix(inputs.nights, start, n_days)
    n_nights = int(np.isfinite(y).any(axis=0).sum()) if n_days else 0
    massage_day = np.zeros(n_days, dtype=bool)
    for s, d in in_period:
        if s.kind == SessionKind.MASSAGE:
            massage_day[(d - start).days] = True
    night_rows: list[NightRow] = []
    baselines: dict[str, Baseline] = {}
    if n_days > 0 and n_nights > 0:
        bl = rolling_baseline(y)
        for m, name in enumerate(NIGHT_METRICS):
            baselines[name] = Baseline(bl.median[m], bl.scale[m], bl.deviation[m], bl.z[m], bl.n_past[m])
        perms = weekday_permutations(massage_day, start.weekday(), seed=_seed(seed, 3))
        night_rows = night_rows_of(y, NIGHT_METRICS, baselines, perms, lags=NIGHT_LAGS,
                                   primary_metric=primary_metric, primary_lag=primary_lag)  # fmt: skip
    sessions_without_nights = 0
    for s, d in in_period:
        if s.kind == SessionKind.MASSAGE:
            i = (d - start).days
            if not np.isfinite(y[:, i + 1 : i + 1 + len(NIGHT_LAGS)]).any():
                sessions_without_nights += 1

    # Claims: within-session evidence speaks for massage only through massage minus rest, with
    # enough comparable rest sessions; otherwise "cannot tell massage from lying still".
    # Each row's p goes along so that a claim is called only when its row survives Holm over every row
    # that can support a claim (family-wise 5 % per page, `familywise`).
    verdicts: dict[tuple[str, str], Verdict] = {}
    p_values: dict[tuple[str, str], float | None] = {}
    for r in acute:
        if rest.usable and r.kind == "massage_minus_rest":
            verdicts[(ACUTE, r.metric)] = r.verdict
            p_values[(ACUTE, r.metric)] = r.p
        elif not rest.usable and r.kind == "massage":
            verdicts[(ACUTE, r.metric)] = Verdict.NOT_MEASURED if r.verdict is Verdict.NOT_MEASURED else Verdict.NEEDS_REST
    for r in night_rows:
        if r.lag == primary_lag:
            verdicts[(NIGHTS, r.metric)] = r.verdict
            p_values[(NIGHTS, r.metric)] = r.p
    claims = assess_claims(verdicts, rest=rest, night_lag=primary_lag, p_values=p_values,
                           primary=(NIGHTS, primary_metric))  # fmt: skip

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
        rest=rest,
        sessions_without_nights=sessions_without_nights,
    )


def _local_start_h(s: SessionInput, zone: ZoneInfo) -> float:
    local = datetime.fromtimestamp(s.start_ms / 1000, tz=zone)
    return local.hour + local.minute / 60.0


def _rest_comparison(sessions: Sequence[SessionInput], zone: ZoneInfo) -> RestComparison:
    ms = [s for s in sessions if s.kind == SessionKind.MASSAGE]
    rs = [s for s in sessions if s.kind == SessionKind.REST]
    return compare_rest([_local_start_h(s, zone) for s in ms], [s.duration_min for s in ms],
                        [_local_start_h(s, zone) for s in rs], [s.duration_min for s in rs])  # fmt: skip


def _acute(sessions: Sequence[SessionInput], rest: RestComparison, seed: int) -> list[AcuteRow]:
    metrics = list(ACUTE_METRICS)
    for bp in BP_METRICS:
        if any(w is not None and getattr(w, bp) is not None for s in sessions for w in (s.pre, s.post)):
            metrics.append(bp)
    deltas: dict[str, dict[str, np.ndarray]] = {}
    available: dict[str, dict[str, int]] = {}
    for metric in metrics:
        vals = [(_acute_values(s, metric), str(s.kind)) for s in sessions]
        deltas[metric] = {k: np.array([d for (d, _), kk in vals if kk == k]) for k in ("massage", "rest")}
        available[metric] = {k: sum(a for (_, a), kk in vals if kk == k) for k in ("massage", "rest")}
    return acute_rows(deltas, available, rest, lambda mi, ki: _seed(seed, 1, mi, ki))


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
        rc = spearman_permutation(x, outcome, seed=_seed(seed, 5, k), n_perm=DOSE_RESPONSE_PERMUTATIONS)
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
