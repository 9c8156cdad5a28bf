"""Family-wise error control for the claims of one report: Holm over the rows that can carry a claim (pure).

Each claim on the evidence page is a statement to the person. Called at their own levels (acute BH
q < 0.05, exploratory night rows BH q < 0.10, the primary endpoint p < 0.05), the rows behind the
claims gave at least one false "improved"/"worsened" claim to 15–18 % of simulated people with no
massage effect (benchmarks/calibration.py). A row may therefore carry a claim only when it also survives
Holm's step-down correction at family-wise α = 0.05 over every row that could support any claim of the
report; Holm keeps the chance of any false call ≤ α under any dependence between the rows (Holm 1979),
which matters here: night metrics share nights and the acute rows share sessions.

The pre-declared primary endpoint keeps most of its strength inside the family: Holm is weighted
(Holm 1979, weighted form; a graphical procedure in the sense of Bretz et al. 2009): the primary row
gets weight 1/2 and the other rows share the other half, and every rejection passes its share on
to the rows left. So, as the first test, the primary row needs p < 0.025 to carry its claim (equal
weights would ask p < 0.05/m: with 7 rows the planted 0.5 SD / 30 sessions claim was found for 31 %
of people instead of 60 %), the others p < 0.025/(m − 1); once the primary is rejected the rest get
Holm at the full 5 %. Without a primary row in the family the weights are equal (plain Holm).

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


PRIMARY_WEIGHT = 0.5


def holm_adjust(p: Sequence[float], weights: Sequence[float] | None = None) -> list[float]:
    """(Weighted) Holm step-down adjusted p-values.

    Order the rows by p/w; at step j, with R_j the rows not yet rejected, p̃₍ⱼ₎ = max_{i ≤ j}
    min(1, p₍ᵢ₎/w₍ᵢ₎ · Σ_{k ∈ R_i} w_k). Equal weights give Holm's p̃₍ⱼ₎ = max_{i ≤ j} (m − i + 1)·p₍ᵢ₎.
    Rejecting p̃ < α keeps the chance of any false rejection ≤ α under any dependence (Holm 1979).
    Hand-written (a few lines) because statsmodels, which has the unweighted form, is not a
    dependency of the analysis package."""
    m = len(p)
    w = [1.0] * m if weights is None else [float(x) for x in weights]
    order = sorted(range(m), key=lambda i: p[i] / w[i])
    left = sum(w)
    out = [1.0] * m
    running = 0.0
    for i in order:
        running = max(running, min(1.0, p[i] / w[i] * left))
        out[i] = running
        left -= w[i]
    return out


@dataclass(frozen=True, slots=True)
class FamilyGate:
    """Which claim-supporting rows survive the family-wise correction."""

    m: int  # rows in the family
    p_holm: dict[Key, float]

    def survives(self, key: Key) -> bool:
        p = self.p_holm.get(key)
        return p is not None and p < FAMILYWISE_ALPHA


def family_gate(
    keys: Iterable[Key],
    verdicts: Mapping[Key, Verdict],
    p_values: Mapping[Key, float | None],
    primary: Key | None = None,
) -> FamilyGate:
    """Weighted Holm over the rows `keys` (those some claim refers to) with a testable verdict and a
    finite p; `primary` (the pre-declared endpoint's row) gets weight `PRIMARY_WEIGHT` when present."""
    fam = [k for k in dict.fromkeys(keys) if verdicts.get(k) in _TESTABLE and _finite(p_values.get(k))]
    if primary in fam and len(fam) > 1:
        others = (1.0 - PRIMARY_WEIGHT) / (len(fam) - 1)
        weights = [PRIMARY_WEIGHT if k == primary else others for k in fam]
    else:
        weights = [1.0] * len(fam)
    adj = holm_adjust([float(p_values[k]) for k in fam], weights)  # type: ignore[arg-type]
    return FamilyGate(m=len(fam), p_holm=dict(zip(fam, adj, strict=True)))


def _finite(p: float | None) -> bool:
    return p is not None and math.isfinite(p)
