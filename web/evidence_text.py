"""The Evidence page in plain language: sentences, natural units and the forest plot's rows (pure).

Everything here reads the report as JSON (`Report.to_dict()`, the body of GET /api/v1/report), so every
number the page shows is one the JSON has, and keys added to the report later (`mde` on acute rows,
`reason`, `adjusted`) are used when present and skipped when absent.

Natural units: HRV rows are differences of ln(RMSSD), shown as the percentage change of RMSSD,
100·(e^d − 1) (a difference of logs is a ratio); heart rate in bpm, sleep in minutes, sleep efficiency in
percentage points, ratings in points on the 0–10 scale. No internal key (`acute.ln_rmssd`) is ever
returned as text: unknown metrics fall back to words made from the name.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# metric → (what it is in a sentence, table label, natural unit, decimals)
MEASURES: dict[str, tuple[str, str, str, int]] = {
    "hr_bpm": ("heart rate", "Heart rate", "bpm", 1),
    "ln_rmssd": ("HRV (RMSSD)", "HRV (RMSSD)", "%", 0),
    "pain": ("pain rating", "Pain rating (0–10)", "points", 1),
    "stress": ("stress rating", "Stress rating (0–10)", "points", 1),
    "mood": ("mood rating", "Mood rating (0–10)", "points", 1),
    "sbp_mmhg": ("systolic blood pressure", "Systolic blood pressure", "mmHg", 0),
    "dbp_mmhg": ("diastolic blood pressure", "Diastolic blood pressure", "mmHg", 0),
    "ln_rmssd_night": ("night HRV (RMSSD)", "Night HRV (RMSSD)", "%", 0),
    "resting_hr_bpm": ("resting heart rate at night", "Resting heart rate at night", "bpm", 1),
    "tst_min": ("total sleep", "Total sleep", "min", 0),
    "sleep_efficiency_pct": ("sleep efficiency", "Sleep efficiency", "points", 1),
    "waso_min": ("time awake after falling asleep", "Awake after falling asleep", "min", 0),
    "deep_min": ("deep sleep (device estimate)", "Deep sleep (device estimate)", "min", 0),
    "rem_min": ("REM sleep (device estimate)", "REM sleep (device estimate)", "min", 0),
}
LOG_METRICS = frozenset({"ln_rmssd", "ln_rmssd_night"})
UNIT_WORDS = {"%": "%", "bpm": " bpm", "min": " min", "points": " points", "mmHg": " mmHg"}
ORDINAL = {1: "first", 2: "second", 3: "third"}
KIND_WORDS = {"massage": "during massage sessions", "rest": "during rest sessions",
              "massage_minus_rest": "massage compared with rest"}  # fmt: skip
CALLS = ("improved", "worsened")


def measure(metric: str) -> tuple[str, str, str, int]:
    words = metric.removesuffix("_bpm").removesuffix("_min").removesuffix("_pct").replace("_", " ")
    return MEASURES.get(metric, (words, words.capitalize(), "", 1))


def natural(metric: str, value: float | None) -> float | None:
    """A report value (metric units) in the unit people read: % change of RMSSD for ln(RMSSD) rows."""
    if value is None or not math.isfinite(value):
        return None
    return 100.0 * math.expm1(value) if metric in LOG_METRICS else float(value)


def fmt(metric: str, value: float | None, signed: bool = True) -> str:
    """A value in natural units with its unit: "+12 %", "−3.4 bpm", "25 min"."""
    shown = natural(metric, value)
    if shown is None:
        return "—"
    digits = measure(metric)[3]
    text = f"{abs(shown):.{digits}f}"
    if float(text) == 0:
        sign = ""
    else:
        sign = ("+" if shown > 0 else "−") if signed else ("−" if shown < 0 else "")
    return f"{sign}{text}{UNIT_WORDS.get(measure(metric)[2], '')}"


def size(metric: str, value: float) -> str:
    """A magnitude (no sign): "12 %", "3.4 bpm"."""
    return fmt(metric, abs(value), signed=False)


def _moved(metric: str, value: float) -> str:
    """"12 % higher" / "3.4 bpm lower" / "about the same"."""
    shown = natural(metric, value)
    if shown is None or fmt(metric, value) in ("—",) or float(f"{abs(shown):.{measure(metric)[3]}f}") == 0:
        return "about the same"
    return f"{size(metric, natural_back(metric, abs(shown)))} {'higher' if value > 0 else 'lower'}"


def natural_back(metric: str, shown: float) -> float:
    """Inverse of `natural` (so `size` can format a magnitude given in natural units)."""
    return math.log1p(shown / 100.0) if metric in LOG_METRICS else shown


def range_text(metric: str, ci: Sequence[float] | None) -> str:
    """The 95 % interval in words: "from 3 % lower to 28 % higher"."""
    if not ci or ci[0] is None or ci[1] is None:
        return ""
    lo, hi = float(ci[0]), float(ci[1])
    return f"from {_moved(metric, lo)} to {_moved(metric, hi)}"


def mde_band(metric: str, mde: float | None) -> tuple[float, float] | None:
    """The region too small to detect, in natural units (asymmetric for % changes)."""
    if mde is None or not math.isfinite(mde) or mde <= 0:
        return None
    lo, hi = natural(metric, -mde), natural(metric, mde)
    assert lo is not None and hi is not None
    return lo, hi


REF = re.compile(r"\b(acute|nights)\.([a-z_]+)\b")


def readable(text: object) -> str:
    """Text from the analysis with any internal metric key ("acute.ln_rmssd") replaced by its name."""
    if not text:
        return ""
    return REF.sub(lambda m: measure(m.group(2))[0] + (" within sessions" if m.group(1) == "acute" else ""), str(text))


# -- how sure, and what would make it surer --------------------------------------------------------


def sureness(row: Mapping[str, Any], estimate_key: str) -> str:
    """How sure the data are, in words tied to the 95 % interval (a likely range)."""
    metric = str(row.get("metric", ""))
    verdict = str(row.get("verdict") or "")
    ci = row.get("ci95")
    est = row.get(estimate_key)
    if verdict == "not measured":
        return "This is not measured yet."
    if verdict == "not enough data" or est is None or not ci:
        return "There is too little data to say anything yet."
    if verdict.startswith("cannot"):
        return f"This cannot be told apart from other causes yet ({verdict})."
    lo, hi = float(ci[0]), float(ci[1])
    likely = f"The likely range (95 % interval) runs {range_text(metric, ci)}"
    band = mde_band(metric, row.get("mde"))
    if verdict in CALLS:
        return f"{likely}: all of it lies on one side of no change, so the data point fairly clearly one way."
    if lo <= 0 <= hi:
        text = f"{likely}, which includes no change at all: not sure either way."
    else:
        text = f"{likely}, but with the many comparisons made this is not yet clear enough to call."
    if band and band[0] <= natural(metric, lo) and natural(metric, hi) <= band[1]:  # type: ignore[operator]
        text += f" Any real change is probably smaller than {size(metric, row['mde'])}."
    return text


def surer(row: Mapping[str, Any], report: Mapping[str, Any]) -> str:
    """What would make the answer surer: the row's own reason when the report gives one, else its power."""
    sessions = report.get("sessions") or {}
    bits: list[str] = []
    verdict = str(row.get("verdict") or "")
    if "day of week" in verdict:
        bits.append("Vary the weekday of your sessions so weekday and massage can be told apart.")
    needed = row.get("sessions_needed")
    mde = row.get("mde")
    metric = str(row.get("metric", ""))
    more_massage, more_rest = row.get("more_massage_needed"), row.get("more_rest_needed")
    if isinstance(more_massage, int) or isinstance(more_rest, int):
        bits.append(f"About {more_massage or 0} more massage and {more_rest or 0} more rest sessions would make it surer.")
    if isinstance(needed, int) and needed > 0:
        now = f" (now only a change of at least {size(metric, mde)} would reliably show)" if mde else ""
        bits.append(f"About {needed} more massage sessions with the nights after them recorded would let a change of "
                    f"half your usual night-to-night variation show reliably{now}.")  # fmt: skip
    elif mde and verdict not in CALLS:
        bits.append(f"With the data so far only a change of at least {size(metric, mde)} would reliably show.")
    if not sessions.get("rest"):
        bits.append("Logging rest sessions (lying still as long as a massage, without one) lets the report tell "
                    "massage from resting.")  # fmt: skip
    if verdict == "not enough data" and not needed:
        bits.append("Keep logging sessions and wearing the devices at night.")
    return " ".join(dict.fromkeys(bits))


def _sentence(text: str) -> str:
    text = text.strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")


# -- the headline -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Headline:
    question: str
    answer: str
    sure: str
    next_step: str
    verdict: str


def primary_row(report: Mapping[str, Any]) -> Mapping[str, Any] | None:
    rows = report.get("nights_after") or []
    found = next((r for r in rows if r.get("primary")), None)
    if found is None:
        pe = report.get("primary_endpoint") or {}
        found = next((r for r in rows if r.get("metric") == pe.get("metric") and r.get("lag") == pe.get("lag")), None)
    return found


def headline(report: Mapping[str, Any]) -> Headline:
    pe = report.get("primary_endpoint") or {}
    metric = str(pe.get("metric") or "ln_rmssd_night")
    lag = int(pe.get("lag") or 1)
    what = measure(metric)[0]
    night = ORDINAL.get(lag, f"{lag}th")
    question = f"Does massage change your {what} on the {night} night after it?"
    row = primary_row(report)
    if row is None:
        return Headline(question, "No answer yet: there are no nights to compare.", "",
                        "Wear the ring or watch at night and log your massage sessions.", "not enough data")  # fmt: skip
    verdict = str(row.get("verdict") or "")
    estimate = _estimate(row)
    if estimate is None or verdict in ("not enough data", "not measured"):
        n = row.get("n_massage")
        have = f" (so far {n} nights after a massage)" if isinstance(n, int) else ""
        answer = f"Not enough data to answer yet{have}."
    else:
        moved = _moved(metric, estimate)
        if moved == "about the same":
            answer = f"On the {night} night after a massage your {what} was about the same as on other nights."
        else:
            answer = f"On the {night} night after a massage your {what} was {moved} on average than on other nights."
        if verdict in CALLS:
            answer += f" Verdict: {verdict}."
        elif verdict.startswith("cannot"):
            answer += f" But this {verdict}."
        else:
            answer += " Verdict: no clear change yet."
    sure = sureness({**row, "_est": estimate}, "_est")
    if row.get("reason"):
        sure += " " + _sentence(readable(row["reason"]))
    return Headline(question, answer, sure, surer(row, report), verdict)


def _estimate(row: Mapping[str, Any]) -> float | None:
    """A row's effect: the adjusted estimate when the report has one, else the plain difference/change."""
    # night rows' ci95/p/verdict refer to the adjusted model when the report has one (REPORT_SHAPE: stats branch)
    for key in ("adjusted_difference", "estimate", "difference", "mean_change"):
        if row.get(key) is not None:
            return float(row[key])
    return None


# -- claims and the forest plot -------------------------------------------------------------------


def _refs(claim: Mapping[str, Any]) -> list[tuple[str, str]]:
    out = []
    for ref in claim.get("metrics") or []:
        if isinstance(ref, Mapping):
            out.append((str(ref.get("family")), str(ref.get("metric"))))
        elif isinstance(ref, str) and "." in ref:
            family, metric = ref.split(".", 1)
            out.append((family, metric))
    return out


def claim_rows(claim: Mapping[str, Any], report: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The report rows a claim is judged on: acute rows (massage − rest when there are rest sessions,
    else massage) and night rows at the primary lag."""
    lag = (report.get("primary_endpoint") or {}).get("lag") or 1
    acute = report.get("acute") or []
    rest = report.get("rest_comparison")
    if isinstance(rest, Mapping) and "usable" in rest:  # stats branch: claims use massage − rest only when usable
        has_rest = bool(rest["usable"])
    else:
        has_rest = bool((report.get("sessions") or {}).get("rest"))
    kinds = ("massage_minus_rest", "massage") if has_rest else ("massage", "massage_minus_rest")
    rows: list[Mapping[str, Any]] = []
    for family, metric in _refs(claim):
        if family == "acute":
            found = [r for r in acute if r.get("metric") == metric]
            found.sort(key=lambda r: kinds.index(r["kind"]) if r.get("kind") in kinds else 9)
            if found:
                rows.append(found[0])
        else:
            hit = next((r for r in report.get("nights_after") or [] if r.get("metric") == metric and r.get("lag") == lag), None)
            if hit is not None:
                rows.append(hit)
    return rows


def row_label(row: Mapping[str, Any]) -> str:
    label = measure(str(row.get("metric", "")))[1]
    if "lag" in row and row.get("kind") is None:
        return f"{label}, {ORDINAL.get(int(row['lag']), str(row['lag']))} night after"
    return f"{label}, {KIND_WORDS.get(str(row.get('kind')), 'within sessions')}"


def row_sentence(row: Mapping[str, Any]) -> str:
    """One row in words: "during massage sessions heart rate fell by 4.1 bpm (likely from … to …)"."""
    metric = str(row.get("metric", ""))
    what = measure(metric)[0]
    est = _estimate(row)
    verdict = str(row.get("verdict") or "")
    if verdict == "not measured":
        return f"{what}: not measured yet"
    if est is None:
        return f"{what}: not enough data yet"
    moved = _moved(metric, est)
    rng = range_text(metric, row.get("ci95"))
    rng = f" (likely {rng})" if rng else ""
    if "lag" in row and row.get("kind") is None:
        night = ORDINAL.get(int(row["lag"]), str(row["lag"]))
        return f"{what} on the {night} night after a massage was {moved} than on other nights{rng}"
    if row.get("kind") == "massage_minus_rest":
        return f"the change in {what} over a massage was {moved} than over a rest session{rng}"
    went = "did not change" if moved == "about the same" else ("rose" if est > 0 else "fell")
    amount = "" if moved == "about the same" else f" by {size(metric, est)}"
    return f"during your sessions {what} {went}{amount}{rng}"


def claim_sentence(claim: Mapping[str, Any], report: Mapping[str, Any]) -> str:
    """A claim in one sentence with its verdict and the row that says most about it."""
    verdict = str(claim.get("verdict") or "not measured")
    rows = claim_rows(claim, report)
    with_data = [r for r in rows if _estimate(r) is not None]
    lead = {"improved": "Your data support this", "worsened": "Your data point the other way",
            "no clear change": "No clear change so far", "not enough data": "Not enough data yet",
            "not measured": "Not measured by this app's devices",
            "cannot tell massage from lying still": "Cannot tell massage from lying still yet",
            "cannot separate from day of week": "Cannot separate massage from the day of the week"}.get(verdict, _sentence(verdict).rstrip("."))  # fmt: skip
    reason = claim.get("reason")
    if with_data:
        # A claim's call rests on night rows or massage minus rest, never on the change during massage sessions
        # alone (that measures lying down too): lead with a row that can carry the call.
        can_support = [r for r in with_data if r.get("kind") != "massage"]
        best = next((r for r in can_support if r.get("verdict") in CALLS),
                    next((r for r in with_data if r.get("verdict") in CALLS), with_data[0]))
        text = f"{lead}: {row_sentence(best)}."
    else:
        text = f"{lead}."
    if claim.get("tested_as"):
        text += f" Tested as: {readable(claim['tested_as'])}."
    if reason:
        text += " " + _sentence(readable(reason))
    needed = claim.get("rest_sessions_needed")
    if isinstance(needed, int) and needed > 0:
        text += f" Log {needed} rest sessions (lying still, no massage) so massage can be told from resting."
    return text
