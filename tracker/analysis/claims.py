"""The benefit claims made in the seed articles, mapped to the metrics that can test them (pure).

`CLAIMS` is data: one frozen `Claim` per distinct benefit claimed in shared/seeds/*.txt (deduplicated
across the four articles), with the seed file(s) it came from, the metrics that can speak to it, and a
plain-language summary of what the research literature says to expect (science.md §4). Claims that a
heart-rate/HRV/sleep wearable plus 0–10 self-reports cannot address keep an empty metric list and are
reported as "not measured" — never dropped.

Metric references are (family, metric): family "acute" = change within a session (post − pre) and
family "nights" = nights after a session vs control nights. `assess_claims` takes one verdict per
reference — the report supplies the massage-minus-rest acute row when rest sessions exist (else the
massage row) and the night rows at the primary lag — and combines them with
`verdicts.combine_verdicts` (conservative: conflicting metrics give "no clear change").

Family-wise control (`familywise`): when the caller passes the rows' p-values, a row's
"improved"/"worsened" carries a claim only if it survives Holm at family-wise α = 0.05 over all rows
that can support any claim of the report (the pre-declared primary row with half the weight); a row
that does not survive is named as a hint in the claim's `reason` and the claim reads "no clear
change". The primary endpoint keeps its pre-declared p < 0.05 for its own verdict.

No I/O: the seed files were read when this table was written; the file names are kept as provenance.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from tracker.analysis.acute import RestComparison
from tracker.analysis.familywise import FAMILYWISE_ALPHA, family_gate
from tracker.analysis.verdicts import Verdict, combine_verdicts

SEED_GENERAL = "000_d3fa59d844f73cb7.txt"  # general list of 24 benefits
SEED_MEDICAL = "001_f6b99eea8f674150.txt"  # medical massage
SEED_BACK = "002_be07fe1f9a697292.txt"  # back massage
SEED_JOINT = "003_d7f4a655edbb29f3.txt"  # joint pain

ACUTE = "acute"
NIGHTS = "nights"
_CALLS = (Verdict.IMPROVED, Verdict.WORSENED)


@dataclass(frozen=True, slots=True)
class MetricRef:
    family: str  # "acute" | "nights"
    metric: str

    def key(self) -> tuple[str, str]:
        return (self.family, self.metric)

    def label(self) -> str:
        return f"{self.family}.{self.metric}"


@dataclass(frozen=True, slots=True)
class Claim:
    key: str
    claim: str
    sources: tuple[str, ...]
    metrics: tuple[MetricRef, ...]
    evidence: str  # what research says to expect (science.md §4), plain language
    unmeasured_reason: str | None = None  # why the app's data cannot test it (when metrics is empty)
    tested_as: str | None = None  # the narrower construct the metrics actually measure


def _a(*names: str) -> tuple[MetricRef, ...]:
    return tuple(MetricRef(ACUTE, n) for n in names)


def _n(*names: str) -> tuple[MetricRef, ...]:
    return tuple(MetricRef(NIGHTS, n) for n in names)


_NO_EVIDENCE = (
    "The research brief behind this app found no controlled trial evidence to summarise for this claim."
)

CLAIMS: tuple[Claim, ...] = (
    Claim(
        key="stress",
        claim="Reduced stress levels, relaxation",
        sources=(SEED_GENERAL, SEED_MEDICAL, SEED_BACK, SEED_JOINT),
        metrics=_a("ln_rmssd", "hr_bpm", "stress") + _n("ln_rmssd_night"),
        tested_as="your 0–10 stress rating, heart rate and HRV (lnRMSSD) within sessions, and night HRV",
        evidence=(
            "Research: during and shortly after a session heart rate usually falls and vagal HRV (lnRMSSD) "
            "rises, but people who simply rest lying down show much of the same change, so most of it is the "
            "effect of lying still; the massage-specific part is small and fades within minutes to an hour "
            "(Meier et al. 2020; Sripongngam et al. 2015). There is essentially no evidence for a change in "
            "next-night HRV in healthy people. Self-rated stress and anxiety do improve over a course of "
            "sessions (Moyer et al. 2004)."
        ),
    ),
    Claim(
        key="anxiety",
        claim="Reduced anxiety",
        sources=(SEED_GENERAL, SEED_MEDICAL, SEED_BACK, SEED_JOINT),
        metrics=(),
        unmeasured_reason="the app has no anxiety questionnaire; a 0–10 stress rating and HRV are not anxiety measures",
        evidence=(
            "Research: state anxiety is lower after a single session and trait anxiety falls over weeks of "
            "regular sessions, with effects comparable to psychotherapy in meta-analyses (Moyer et al. 2004; "
            "Rapaport et al. 2016), though the trials are small, unblinded and self-reported. The app has no "
            "anxiety questionnaire: your stress rating and lnRMSSD are only proxies."
        ),
    ),
    Claim(
        key="depression",
        claim="Reduced depression, lessened risk of depression",
        sources=(SEED_GENERAL, SEED_MEDICAL, SEED_BACK, SEED_JOINT),
        metrics=(),
        unmeasured_reason="a 0–10 mood rating is not a measure of depression or of its risk",
        evidence=(
            "Research: depressive symptoms improve over courses of massage (Hou et al. 2010, 17 trials: "
            "standardised difference 0.73), from self-report in mostly unblinded trials; nothing supports a "
            "lower risk of developing depression. A 0–10 mood rating is not a depression measure, so treat "
            "this as a rough proxy."
        ),
    ),
    Claim(
        key="mood",
        claim="Improved mood and well-being",
        sources=(SEED_GENERAL, SEED_MEDICAL, SEED_JOINT),
        metrics=_a("mood"),
        tested_as="your 0–10 mood rating before and after sessions",
        evidence=(
            "Research: self-reported mood and well-being improve, mostly over weeks of regular sessions "
            "(Moyer et al. 2004); single-session changes are smaller, and self-reports after a pleasant "
            "session are easily biased by expectation."
        ),
    ),
    Claim(
        key="sleep",
        claim="Improved sleep, relief of sleep loss and insomnia, deeper sleep",
        sources=(SEED_GENERAL, SEED_MEDICAL, SEED_BACK, SEED_JOINT),
        metrics=_n("tst_min", "sleep_efficiency_pct", "waso_min", "deep_min", "rem_min"),
        tested_as="total sleep, sleep efficiency, time awake and the device's deep and REM estimates on nights after",
        evidence=(
            "Research: subjective sleep improves with courses of massage, but objective next-night changes "
            "are small and shown mainly in poor sleepers (Ntoumas et al. 2025: higher sleep efficiency after "
            "relaxation massage in people with insomnia symptoms; Oliveira et al. 2012: insomnia scores "
            "improved while polysomnography did not change). A wrist device estimates sleep with errors of "
            "tens of minutes per night and its stage minutes are device estimates, so a real effect (likely "
            "under 0.3 SD of your night-to-night variation) needs many sessions to show."
        ),
    ),
    Claim(
        key="pain",
        claim="Less pain (muscle, back, joint and chronic pain, muscle soreness)",
        sources=(SEED_GENERAL, SEED_MEDICAL, SEED_BACK, SEED_JOINT),
        metrics=_a("pain"),
        tested_as="your 0–10 pain rating before and after sessions (not a specific pain condition)",
        evidence=(
            "Research: pain ratings right after a single session change little, but pain falls over a course "
            "of treatment (Moyer et al. 2004); for low-back pain there is a short-term benefit on low-quality "
            "evidence (Furlan et al. 2015, Cochrane), and after exercise a small reduction in muscle "
            "soreness (Davis et al. 2020). Your pain rating is a self-report."
        ),
    ),
    Claim(
        key="heart",
        claim="Lower heart rate, better cardiovascular health",
        sources=(SEED_BACK,),
        metrics=_a("hr_bpm") + _n("resting_hr_bpm"),
        tested_as="heart rate within sessions and resting heart rate at night (lower heart rate only; cardiovascular health is not measured)",
        evidence=(
            "Research: heart rate falls by up to ~10 bpm from before to after a session in uncontrolled "
            "studies (Kaye et al. 2008), largely because of rest and posture; controlled differences are "
            "small. Resting heart rate during sleep is not reliably changed by massage in healthy people."
        ),
    ),
    Claim(
        key="blood_pressure",
        claim="Lower blood pressure",
        sources=(SEED_BACK,),
        metrics=_a("sbp_mmhg", "dbp_mmhg"),
        tested_as="cuff readings before and after sessions",
        evidence=(
            "Research: uncontrolled studies report falls of 0–10 mmHg after a session, mostly from resting, "
            "and painful techniques (trigger-point, sports massage) can raise it (Cambron et al. 2006). In "
            "people with hypertension, low-quality trials suggest about −7/−5 mmHg over weeks (Liao et al. "
            "2016), while a 2024 meta-analysis found no significant reduction. Without cuff readings "
            "around your sessions this cannot be checked."
        ),
    ),
    Claim(
        key="circulation",
        claim="Improved blood circulation, better delivery of oxygen and nutrients",
        sources=(SEED_GENERAL, SEED_MEDICAL, SEED_BACK, SEED_JOINT),
        metrics=(),
        evidence=_NO_EVIDENCE,
        unmeasured_reason="a heart-rate wearable does not measure blood flow or tissue oxygenation",
    ),
    Claim(
        key="immunity",
        claim="Strengthened immune system (white blood cells, natural killer cells)",
        sources=(SEED_GENERAL, SEED_MEDICAL, SEED_BACK, SEED_JOINT),
        metrics=(),
        evidence=_NO_EVIDENCE,
        unmeasured_reason="immune function needs blood tests",
    ),
    Claim(
        key="hormones",
        claim="Lower cortisol, more serotonin and oxytocin (hormonal balance)",
        sources=(SEED_MEDICAL, SEED_BACK, SEED_JOINT),
        metrics=(),
        evidence=(
            "Research: a meta-analysis found cortisol effects very small and not distinguishable from zero "
            "(Moyer et al. 2011), contradicting the often-quoted 31 % fall (Field et al. 2005)."
        ),
        unmeasured_reason="hormone levels need saliva or blood samples",
    ),
    Claim(
        key="energy",
        claim="Increased energy and alertness, less fatigue",
        sources=(SEED_GENERAL, SEED_JOINT),
        metrics=(),
        evidence=(
            "Research: in athletes, 29 trials found no effect of massage on fatigue (Davis et al. 2020)."
        ),
        unmeasured_reason="the app records no energy, alertness or fatigue rating",
    ),
    Claim(
        key="flexibility",
        claim="Improved flexibility, range of motion and joint mobility; less stiffness",
        sources=(SEED_GENERAL, SEED_MEDICAL, SEED_BACK, SEED_JOINT),
        metrics=(),
        evidence="Research: a small improvement in flexibility after massage in sport (Davis et al. 2020).",
        unmeasured_reason="range of motion is not measured by a wearable",
    ),
    Claim(
        key="performance",
        claim="Increased physical performance and athleticism",
        sources=(SEED_GENERAL, SEED_MEDICAL),
        metrics=(),
        evidence=(
            "Research: no effect on strength, jump, sprint or endurance performance across 29 trials "
            "(Davis et al. 2020)."
        ),
        unmeasured_reason="the app records no performance tests",
    ),
    Claim(
        key="headaches",
        claim="Fewer and milder headaches and migraines, fewer stress-related illnesses",
        sources=(SEED_GENERAL, SEED_MEDICAL, SEED_BACK),
        metrics=(),
        evidence=_NO_EVIDENCE,
        unmeasured_reason="the app keeps no headache diary (the general pain rating is not headache-specific)",
    ),
    Claim(
        key="posture",
        claim="Improved posture, less strain on joints",
        sources=(SEED_GENERAL, SEED_MEDICAL),
        metrics=(),
        evidence=_NO_EVIDENCE,
        unmeasured_reason="posture is not measured",
    ),
    Claim(
        key="healing",
        claim="Faster healing and injury rehabilitation, healing of soft tissue and scars",
        sources=(SEED_GENERAL, SEED_MEDICAL),
        metrics=(),
        evidence=_NO_EVIDENCE,
        unmeasured_reason="tissue healing is not measured",
    ),
    Claim(
        key="muscle_tension",
        claim="Less muscle tension and fewer muscle spasms",
        sources=(SEED_GENERAL, SEED_MEDICAL, SEED_BACK),
        metrics=(),
        evidence=_NO_EVIDENCE,
        unmeasured_reason="muscle tone and spasms are not measured",
    ),
    Claim(
        key="detox",
        claim="Removal of toxins and metabolic waste, more lymphatic flow, less inflammation",
        sources=(SEED_MEDICAL, SEED_JOINT),
        metrics=(),
        evidence=_NO_EVIDENCE,
        unmeasured_reason="lymph flow, waste products and inflammation need laboratory measurements",
    ),
    Claim(
        key="breathing",
        claim="Improved deep breathing",
        sources=(SEED_GENERAL,),
        metrics=(),
        evidence=_NO_EVIDENCE,
        unmeasured_reason="breathing is not recorded",
    ),
    Claim(
        key="pain_tolerance",
        claim="Higher pain tolerance through endorphin release",
        sources=(SEED_GENERAL,),
        metrics=(),
        evidence=_NO_EVIDENCE,
        unmeasured_reason="pain tolerance needs a pain-threshold test, not a pain rating",
    ),
    Claim(
        key="medication",
        claim="Lower dependence on medication",
        sources=(SEED_GENERAL,),
        metrics=(),
        evidence=_NO_EVIDENCE,
        unmeasured_reason="medication use is not recorded",
    ),
    Claim(
        key="childbirth",
        claim="Eases pain of childbirth",
        sources=(SEED_GENERAL,),
        metrics=(),
        evidence=_NO_EVIDENCE,
        unmeasured_reason="outside what this app records",
    ),
    Claim(
        key="medical_symptoms",
        claim="Relief of symptoms of medical conditions (nausea in cancer patients, diabetes)",
        sources=(SEED_BACK,),
        metrics=(),
        evidence=_NO_EVIDENCE,
        unmeasured_reason="disease symptoms are not recorded",
    ),
)


@dataclass(frozen=True, slots=True)
class ClaimAssessment:
    claim: str
    sources: tuple[str, ...]
    metrics: tuple[str, ...]  # "family.metric"
    verdict: Verdict
    explanation: str
    tested_as: str | None = None
    reason: str = ""
    rest_sessions_needed: int | None = None
    outcomes_tested: int | None = None  # rows in the family-wise correction (None: not applied)
    hints: tuple[str, ...] = field(default_factory=tuple)  # rows called at their own level, not surviving

    def to_dict(self) -> dict[str, object]:
        return {
            "claim": self.claim,
            "source": ", ".join(self.sources),
            "metrics": list(self.metrics),
            "verdict": str(self.verdict),
            "explanation": self.explanation,
            "tested_as": self.tested_as,
            "reason": self.reason,
            "rest_sessions_needed": self.rest_sessions_needed,
            "outcomes_tested": self.outcomes_tested,
            "exploratory_hints": list(self.hints),
        }



_ORDINAL = {1: "first", 2: "second", 3: "third"}


def _rest_advice(rest: RestComparison | None) -> str:
    n = rest.rest_needed if rest is not None else 4
    text = (f"Cannot tell massage from lying still yet: log {n} rest session{'s' if n != 1 else ''} (lie down "
            "without massage for as long as a massage, at the same time of day).")  # fmt: skip
    if rest is not None and rest.n_rest and not rest.comparable:
        text += " " + rest.reason
    return text


def _data_sentence(
    claim: Claim,
    per_metric: Sequence[tuple[MetricRef, Verdict]],
    verdict: Verdict,
    rest: RestComparison | None,
    lag: int,
    hints: Sequence[str] = (),
) -> str:
    if not claim.metrics:
        return (
            "This claim cannot be checked with the data the app collects (heart rate, HRV, sleep and your "
            f"0–10 ratings of pain, stress and mood): {claim.unmeasured_reason}."
        )
    names = ", ".join(r.label() for r in claim.metrics)
    if verdict is Verdict.NOT_MEASURED:
        return f"None of the measurements that could speak to this claim ({names}) has any data yet."
    parts = "; ".join(f"{r.label()}: {v}" + (" (an exploratory hint that did not survive the correction for "
                                              "testing several outcomes)" if _row_name(r) in hints else "")
                      for r, v in per_metric)  # fmt: skip
    text = f"Checked as {claim.tested_as}. Your data ({parts}) gives the combined verdict \"{verdict}\"."
    measured = {r.family for r, v in per_metric if v is not Verdict.NOT_MEASURED}
    if ACUTE in measured:
        if rest is not None and rest.usable:
            text += (
                " Changes within sessions are compared as massage minus your rest sessions (comparable in time "
                "of day and duration), so lying still, the time of day and the session itself are allowed for; "
                "the schedule was not randomised, so this is still an association."
            )
        else:
            text += " Changes within sessions happened during your sessions. " + _rest_advice(rest)
    if NIGHTS in measured:
        text += (
            f" Night measures compare the {_ORDINAL.get(lag, f'lag-{lag}')} night after a massage with comparable "
            "nights (same weekday, same state the night before, allowing for slow trends): an association in "
            "your data, not proof of cause."
        )
    if verdict is Verdict.NOT_ENOUGH_DATA:
        text += " There are too few sessions or nights to tell yet."
    elif verdict is Verdict.NO_CLEAR_CHANGE:
        text += " This means no change was detected, not that there is none; see the confidence intervals."
    elif verdict is Verdict.CANNOT_SEPARATE_WEEKDAY:
        text += " Your sessions always fall on the same weekdays; vary the day so nights can be compared."
    return text


_LABEL = {
    (ACUTE, "hr_bpm"): "heart rate within sessions (massage minus rest)",
    (ACUTE, "ln_rmssd"): "HRV within sessions (massage minus rest)",
    (ACUTE, "pain"): "pain rating (massage minus rest)",
    (ACUTE, "stress"): "stress rating (massage minus rest)",
    (ACUTE, "mood"): "mood rating (massage minus rest)",
    (ACUTE, "sbp_mmhg"): "systolic blood pressure (massage minus rest)",
    (ACUTE, "dbp_mmhg"): "diastolic blood pressure (massage minus rest)",
    (NIGHTS, "ln_rmssd_night"): "night HRV",
    (NIGHTS, "resting_hr_bpm"): "resting heart rate at night",
    (NIGHTS, "tst_min"): "total sleep",
    (NIGHTS, "sleep_efficiency_pct"): "sleep efficiency",
    (NIGHTS, "waso_min"): "time awake at night",
    (NIGHTS, "deep_min"): "deep sleep",
    (NIGHTS, "rem_min"): "REM sleep",
}


def _row_name(ref: MetricRef) -> str:
    return _LABEL.get(ref.key(), ref.label())


def _family_note(m: int) -> str:
    return f"the correction for testing {m} outcome{'s' if m != 1 else ''} behind the claims on this page"


def _claim_reason(
    verdict: Verdict, rest: RestComparison | None, claim: Claim, hints: Sequence[str] = (), m: int | None = None
) -> str:
    if not claim.metrics:
        return f"Not measured: {claim.unmeasured_reason}."
    if verdict in _CALLS and m is not None:
        return (f"{verdict}: at least one measure passed its test and {_family_note(m)} (Holm, family-wise "
                f"{FAMILYWISE_ALPHA:.0%}), and none went the other way (an association).")  # fmt: skip
    if verdict is Verdict.NO_CLEAR_CHANGE and hints and m is not None:
        what = " and ".join(hints)
        return (f"No clear change: a hint in {what} did not survive {_family_note(m)} (Holm, family-wise "
                f"{FAMILYWISE_ALPHA:.0%}), so it may well be chance; more sessions would tell.")  # fmt: skip
    return {
        Verdict.NOT_MEASURED: "No data yet for the measures that could speak to it.",
        Verdict.NOT_ENOUGH_DATA: "Too few sessions or nights to tell yet.",
        Verdict.NEEDS_REST: _rest_advice(rest),
        Verdict.CANNOT_SEPARATE_WEEKDAY: "Sessions always on the same weekdays: vary the day of your sessions.",
        Verdict.NO_CLEAR_CHANGE: "No change detected (not the same as no change): see the intervals and MDEs.",
    }.get(verdict, f"{verdict}: at least one measure passed its test and none went the other way (an association).")


def assess_claims(
    verdicts: Mapping[tuple[str, str], Verdict],
    *,
    rest: RestComparison | None = None,
    night_lag: int = 1,
    claims: Sequence[Claim] = CLAIMS,
    p_values: Mapping[tuple[str, str], float | None] | None = None,
    primary: tuple[str, str] | None = None,
) -> tuple[ClaimAssessment, ...]:
    """One assessment per claim. `verdicts[(family, metric)]` missing means "not measured".

    The caller passes, for acute metrics, the massage-minus-rest verdict when `rest.usable` and
    otherwise `Verdict.NEEDS_REST` (see `report.build_report`), and the rows' p-values in `p_values`:
    then a row's "improved"/"worsened" counts for a claim only if it survives Holm over all rows that
    can support a claim (module docstring). Without `p_values` the row verdicts are taken as final
    (for callers that have applied a family-wise rule themselves). `primary` is the pre-declared
    endpoint's row, which gets half the weight in the correction (`familywise`)."""
    keys = sorted({r.key() for c in claims for r in c.metrics})
    gate = family_gate(keys, verdicts, p_values, primary) if p_values is not None else None
    out = []
    for c in claims:
        raw = [(r, verdicts.get(r.key(), Verdict.NOT_MEASURED)) for r in c.metrics]
        hints = tuple(_row_name(r) for r, v in raw if v in _CALLS and gate is not None and not gate.survives(r.key()))
        per_metric = [(r, Verdict.NO_CLEAR_CHANGE if _row_name(r) in hints and v in _CALLS else v) for r, v in raw]
        verdict = combine_verdicts(v for _, v in per_metric)
        explanation = _data_sentence(c, per_metric, verdict, rest, night_lag, hints) + " " + c.evidence
        uses_acute = any(r.family == ACUTE and v is not Verdict.NOT_MEASURED for r, v in per_metric)
        out.append(
            ClaimAssessment(
                claim=c.claim,
                sources=c.sources,
                metrics=tuple(r.label() for r in c.metrics),
                verdict=verdict,
                explanation=explanation,
                tested_as=c.tested_as,
                reason=_claim_reason(verdict, rest, c, hints, gate.m if gate is not None else None),
                rest_sessions_needed=(rest.rest_needed if rest is not None else 4) if uses_acute else None,
                outcomes_tested=gate.m if gate is not None and c.metrics else None,
                hints=hints,
            )
        )
    return tuple(out)
