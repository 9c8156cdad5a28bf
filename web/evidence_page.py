"""The Evidence page's content: the forest plot's rows and everything the template shows (pure).

Built from the report JSON (`Report.to_dict()`) with the sentences of `web.evidence_text`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from web.evidence_text import (
    KIND_WORDS,
    ORDINAL,
    _estimate,
    _refs,
    claim_rows,
    claim_sentence,
    fmt,
    headline,
    mde_band,
    measure,
    natural,
    range_text,
    readable,
    row_label,
    size,
)


@dataclass(frozen=True, slots=True)
class ForestRow:
    group: str  # the claim
    label: str
    metric: str
    family: str  # "acute" | "nights"
    kind: str | None
    lag: int | None
    unit: str
    estimate: float  # natural units
    lo: float
    hi: float
    mde_lo: float | None
    mde_hi: float | None
    verdict: str

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}  # type: ignore[attr-defined]


def forest_rows(report: Mapping[str, Any]) -> list[ForestRow]:
    """Each measured effect with a 95 % interval, grouped by claim (a row may appear under two claims)."""
    out = []
    for claim in report.get("claims") or []:
        for row in claim_rows(claim, report):
            est, ci = _estimate(row), row.get("ci95")
            if est is None or not ci or ci[0] is None or ci[1] is None:
                continue
            metric = str(row["metric"])
            band = mde_band(metric, row.get("mde"))
            nights = "lag" in row and row.get("kind") is None
            out.append(ForestRow(
                group=str(claim.get("claim")), label=row_label(row), metric=metric,
                family="nights" if nights else "acute", kind=None if nights else row.get("kind"),
                lag=int(row["lag"]) if nights else None, unit=measure(metric)[2],
                estimate=natural(metric, est), lo=natural(metric, ci[0]), hi=natural(metric, ci[1]),  # type: ignore[arg-type]
                mde_lo=band[0] if band else None, mde_hi=band[1] if band else None, verdict=str(row.get("verdict")),
            ))  # fmt: skip
    return out




def _table_row(row: Mapping[str, Any]) -> dict[str, Any]:
    metric = str(row.get("metric", ""))
    est = _estimate(row)
    needed = row.get("sessions_needed")
    out = {
        "metric": metric, "label": measure(metric)[1], "unit": measure(metric)[2] or "—", "n": row.get("n", "—"),
        "effect": fmt(metric, est), "range": range_text(metric, row.get("ci95")),
        "mde": size(metric, row["mde"]) if row.get("mde") else "—",
        "p": row.get("p"), "q": row.get("q"), "verdict": str(row.get("verdict") or "—"),
        "sessions_needed": needed if needed is not None else "—",
    }  # fmt: skip
    if "lag" in row and row.get("kind") is None:
        lag = int(row["lag"])
        out.update(lag=lag, night=ORDINAL.get(lag, str(lag)), primary=bool(row.get("primary")),
                   n_massage=row.get("n_massage", "—"), n_control=row.get("n_control", "—"))  # fmt: skip
    else:
        out.update(kind=row.get("kind"), compared=KIND_WORDS.get(str(row.get("kind")), "within sessions"))
    return out


def page(report: Mapping[str, Any], reasons: Mapping[str, str] | None = None,
         keys: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Everything the Evidence template shows, as text and numbers (`reasons`: claim text → why a claim
    cannot be measured, when the JSON does not say; `keys`: claim text → its stable key, for anchors)."""
    reasons, keys = reasons or {}, keys or {}
    claims, unmeasured = [], []
    for claim in report.get("claims") or []:
        text = str(claim.get("claim"))
        if not _refs(claim):
            reason = claim.get("reason") or reasons.get(text)
            unmeasured.append({"claim": text, "key": keys.get(text, ""), "reason": readable(reason) or None})
            continue
        claims.append({"claim": text, "key": keys.get(text, ""), "verdict": str(claim.get("verdict")), "sentence": claim_sentence(claim, report),
                       "explanation": readable(claim.get("explanation"))})  # fmt: skip
    period = report.get("period") or {}
    sessions = report.get("sessions") or {}
    return {
        "headline": headline(report),
        "claims": claims,
        "unmeasured": unmeasured,
        "forest": [r.to_dict() for r in forest_rows(report)],
        "acute": [_table_row(r) for r in report.get("acute") or []],
        "nights": [_table_row(r) for r in report.get("nights_after") or []],
        "period": f"{period.get('start', '?')} to {period.get('end', '?')}",
        "has_data": bool(sessions.get("massage") or sessions.get("rest") or report.get("nights")),
        "n_massage": sessions.get("massage", 0), "n_rest": sessions.get("rest", 0), "n_nights": report.get("nights", 0),
    }  # fmt: skip
