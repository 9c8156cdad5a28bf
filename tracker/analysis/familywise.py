"""Family-wise error control for the claims of one report: Holm over the rows that can carry a claim (pure).

Each claim on the evidence page is a statement to the person. Called at their own levels (acute BH
q < 0.05, exploratory night rows BH q < 0.10, the primary endpoint p < 0.05), the rows behind the
claims gave at least one false "improved"/"worsened" claim to 15–18 % of simulated people with no
massage effect (benchmarks/calibration.py). A row may therefore carry a claim only when it also survives
Holm's step-down correction at family-wise α = 0.05 over every row that could support any claim of the
report; Holm keeps the chance of any false call ≤ α under any dependence between the rows (Holm 1979),
which matters here: night metrics share nights and the acute rows share sessions.

The family is fixed by the design, never by the outcome: a row belongs to it when a claim refers to it,
its verdict is testable ("improved", "worsened" or "no clear change": measured, enough data, separable
from the weekday, a comparison valid for massage) and it has a p-value.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from tracker.analysis.verdicts import Verdict

FAMILYWISE_ALPHA = 0.05  # chance, under no effect at all, that any claim on the page is called
_TESTABLE = (Verdict.IMPROVED, Verdict.WORSENED, Verdict.NO_CLEAR_CHANGE)

Key = tuple[str, str]  # (family, metric), as in `claims.MetricRef.key`


def holm_adjust(p: Sequence[float]) -> list[float]:
    """Holm step-down adjusted p-values: p̃₍ᵢ₎ = max_{j ≤ i} min(1, (m − j + 1)·p₍ⱼ₎) over the sorted p.

    Rejecting p̃ < α is Holm's procedure. Hand-written (a few lines) because statsmodels, which has it,
    is not a dependency of the analysis package."""
    m = len(p)
    order = sorted(range(m), key=lambda i: p[i])
    out = [1.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        out[i] = running
    return out


@dataclass(frozen=True, slots=True)
class FamilyGate:
    """Which claim-supporting rows survive the family-wise correction."""

    m: int  # rows in the family
    p_holm: dict[Key, float]

    def survives(self, key: Key) -> bool:
        p = self.p_holm.get(key)
        return p is not None and p < FAMILYWISE_ALPHA


def family_gate(keys: Iterable[Key], verdicts: Mapping[Key, Verdict], p_values: Mapping[Key, float | None]) -> FamilyGate:
    """Holm over the rows `keys` (those some claim refers to) with a testable verdict and a finite p."""
    fam = [k for k in dict.fromkeys(keys) if verdicts.get(k) in _TESTABLE and _finite(p_values.get(k))]
    adj = holm_adjust([float(p_values[k]) for k in fam])  # type: ignore[arg-type]
    return FamilyGate(m=len(fam), p_holm=dict(zip(fam, adj, strict=True)))


def _finite(p: float | None) -> bool:
    return p is not None and math.isfinite(p)
