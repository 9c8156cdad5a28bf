"""The n-of-1 trial: its allocation and its own randomisation test (pure: numpy only, no clock, no database).

Design (CENT 2015; Kravitz & Duan 2014): each week has two fixed slots; a fair coin, drawn from a recorded
seed before the first session, decides which slot is the massage and which the rest control. The trial is
analysed by the test its design implies (Edgington & Onghena 2007, *Randomization Tests*):

- Per complete week w (both sessions done, outcome measured after both): d_w = y(massage) − y(rest),
  labelled as allocated (intention to treat: a swapped session keeps its allocated label, so the
  comparison stays the randomised one; deviations are listed beside the result).
- Estimate: the mean of d_w over complete weeks, in the outcome's own unit.
- p: under the sharp null (massage changes nothing, so each week's two outcomes would have been the same
  whichever slot the coin had picked), every other allocation the coin could have produced flips the sign
  of some d_w. The exact two-sided p is the share of all 2^n allocations whose |mean| is at least the
  observed one. For n ≤ `EXACT_MAX_WEEKS` they are enumerated; beyond, `MC_DRAWS` random allocations plus
  the observed one, p = (1 + #{|T*| ≥ |T|}) / (1 + draws) (Phipson & Smyth 2010), so p is never 0.
- 95 % CI: the shifts δ not rejected when the massage outcomes are moved by δ (d_w − δ), i.e. the test
  inverted (Garthwaite 1996), so "CI excludes 0" and "p ≤ 0.05" agree. Monte Carlo inversion reuses one
  set of draws for every δ, so the interval is a fixed function of the data and the seed.
- With n complete weeks the smallest possible exact p is 2/2^n: below `MIN_WEEKS_FOR_ALPHA` (6) weeks no
  result at 5 % is possible, and the verdict says so instead of showing an interval.

Only these results may be worded causally ("in this randomised test massage lowered …"): the allocation,
not the person, chose which day got the massage.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

ALPHA = 0.05
EXACT_MAX_WEEKS = 12  # 2^12 = 4096 allocations: enumerated exactly
MC_DRAWS = 9_999  # random allocations beyond that (+1: the observed one)
_GRID = 241  # δ grid for inverting the test, refined by bisection at the edges
_BISECT_STEPS = 40
_TIE_RTOL = 1e-9  # |T*| ≥ |T| up to floating-point noise (symmetric data make exact ties common)


def min_weeks_for(alpha: float = ALPHA) -> int:
    """Fewest complete weeks whose smallest attainable two-sided p (2/2^n) is ≤ alpha."""
    n = 1
    while 2.0 / 2**n > alpha:
        n += 1
    return n


MIN_WEEKS_FOR_ALPHA = min_weeks_for()


def allocate(seed: int, weeks: int) -> tuple[int, ...]:
    """Which slot (0 or 1) is the massage in each week: a fair coin per week from `seed` (reproducible)."""
    if weeks < 1:
        raise ValueError("weeks must be ≥ 1")
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    return tuple(int(x) for x in rng.integers(0, 2, size=weeks))


@dataclass(frozen=True, slots=True)
class TrialTest:
    """The randomisation test of one outcome."""

    n_weeks: int  # complete weeks used
    estimate: float | None  # mean massage − rest, outcome units
    ci95: tuple[float, float] | None  # None: not attainable with these weeks
    p: float | None
    method: str  # "exact" | "monte_carlo"
    n_allocations: int  # enumerated allocations, or draws + 1
    min_p: float | None  # smallest p this many weeks can give

    def significant(self, alpha: float = ALPHA) -> bool:
        return self.p is not None and self.p <= alpha


def _sign_matrix(n: int, seed: int, draws: int, exact_max: int) -> tuple[np.ndarray, str]:
    """Rows of ±1: every allocation relative to the observed one (exact), or random ones (Monte Carlo)."""
    if n <= exact_max:
        codes = np.arange(2**n, dtype=np.int64)[:, None]
        bits = (codes >> np.arange(n, dtype=np.int64)) & 1
        return (1 - 2 * bits).astype(np.float64), "exact"
    rng = np.random.default_rng(np.random.SeedSequence([seed, n]))
    return rng.choice(np.array([-1.0, 1.0]), size=(draws, n)), "monte_carlo"


class _Inverter:
    """p(δ) for the sign-flip test of d − δ, vectorised over δ (T*(δ) = S·d/n − δ·S·1/n)."""

    def __init__(self, d: np.ndarray, seed: int, draws: int, exact_max: int) -> None:
        self.n = len(d)
        signs, self.method = _sign_matrix(self.n, seed, draws, exact_max)
        self.a = signs @ d / self.n
        self.b = signs.sum(axis=1) / self.n
        self.mean = float(d.mean())
        self.count = len(signs)

    def p(self, deltas: np.ndarray) -> np.ndarray:
        deltas = np.atleast_1d(np.asarray(deltas, dtype=np.float64))
        observed = np.abs(self.mean - deltas)
        out = np.empty(len(deltas))
        for i in range(0, len(deltas), 64):  # chunks keep the (allocations × δ) block small
            dl = deltas[i : i + 64]
            stat = np.abs(self.a[:, None] - self.b[:, None] * dl[None, :])
            obs = observed[i : i + 64]
            hits = (stat >= obs[None, :] - _TIE_RTOL * np.maximum(obs, 1e-300)[None, :]).sum(axis=0)
            if self.method == "exact":
                out[i : i + 64] = hits / self.count
            else:
                out[i : i + 64] = (1 + hits) / (1 + self.count)
        return out


def _edge(inv: _Inverter, inside: float, outside: float, alpha: float) -> float:
    """Bisect between an accepted δ (p > alpha) and a rejected one."""
    for _ in range(_BISECT_STEPS):
        mid = (inside + outside) / 2
        if inv.p(np.array([mid]))[0] > alpha:
            inside = mid
        else:
            outside = mid
    return inside


def randomization_test(
    massage: Sequence[float],
    rest: Sequence[float],
    *,
    seed: int = 0,
    alpha: float = ALPHA,
    draws: int = MC_DRAWS,
    exact_max_weeks: int = EXACT_MAX_WEEKS,
) -> TrialTest:
    """Test and interval from per-week outcomes (same order, NaN = not measured: that week is left out)."""
    m = np.asarray(massage, dtype=np.float64)
    r = np.asarray(rest, dtype=np.float64)
    if m.shape != r.shape:
        raise ValueError("massage and rest need one value per week each")
    d = (m - r)[np.isfinite(m) & np.isfinite(r)]
    n = len(d)
    if n == 0:
        return TrialTest(0, None, None, None, "exact", 0, None)
    inv = _Inverter(d, seed, draws, exact_max_weeks)
    p = float(inv.p(np.array([0.0]))[0])
    min_p = 2.0 / 2**n if inv.method == "exact" else 1.0 / (1 + inv.count)
    estimate = float(d.mean())
    if min_p > alpha:  # every δ is accepted: the interval is the whole line
        return TrialTest(n, estimate, None, p, inv.method, inv.count, min_p)
    # Beyond [min d, max d] every d − δ has one sign: only the observed allocation (and its mirror) reach
    # the observed statistic, so p = min_p ≤ alpha there; the accepted set lies inside.
    spread = float(d.max() - d.min())
    pad = max(spread, abs(estimate), 1e-9) * 1e-6
    lo_out, hi_out = float(d.min()) - pad, float(d.max()) + pad
    grid = np.linspace(lo_out, hi_out, _GRID)
    accepted = np.flatnonzero(inv.p(grid) > alpha)
    if len(accepted) == 0:  # the grid stepped over a narrow accepted set around the estimate
        accepted_lo = accepted_hi = estimate
        lo_next, hi_next = lo_out, hi_out
    else:
        accepted_lo, accepted_hi = float(grid[accepted[0]]), float(grid[accepted[-1]])
        lo_next = float(grid[accepted[0] - 1]) if accepted[0] > 0 else lo_out
        hi_next = float(grid[accepted[-1] + 1]) if accepted[-1] < _GRID - 1 else hi_out
    ci = (_edge(inv, accepted_lo, lo_next, alpha), _edge(inv, accepted_hi, hi_next, alpha))
    return TrialTest(n, estimate, ci, p, inv.method, inv.count, min_p)


# -- the whole trial ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OutcomeSpec:
    name: str  # e.g. "resting_hr_bpm"
    label: str  # e.g. "resting heart rate"
    unit: str
    when: str  # e.g. "the night after" / "from before to after the session"


@dataclass(frozen=True, slots=True)
class OutcomeResult:
    spec: OutcomeSpec
    primary: bool
    test: TrialTest
    q: float | None  # BH across the secondary outcomes (None for the primary)
    verdict: str  # "lowered" | "raised" | "cannot tell" | "not enough weeks" | "no data"
    statement: str

    def to_dict(self) -> dict[str, object]:
        t = self.test
        return {
            "outcome": self.spec.name, "label": self.spec.label, "unit": self.spec.unit, "when": self.spec.when,
            "primary": self.primary, "n_weeks": t.n_weeks, "estimate": _num(t.estimate),
            "ci95": None if t.ci95 is None else [_num(t.ci95[0]), _num(t.ci95[1])], "p": _num(t.p), "q": _num(self.q),
            "method": t.method, "n_allocations": t.n_allocations, "min_p": _num(t.min_p),
            "verdict": self.verdict, "statement": self.statement,
        }  # fmt: skip


def _num(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def _bh(p: Sequence[float]) -> list[float]:
    """Benjamini–Hochberg adjusted p-values (q)."""
    m = len(p)
    order = np.argsort(p)
    q = np.empty(m)
    running = 1.0
    for rank in range(m, 0, -1):
        i = order[rank - 1]
        running = min(running, p[i] * m / rank)
        q[i] = running
    return [float(x) for x in q]


def _fmt(x: float) -> str:
    return f"{x:.3g}"


def _word(spec: OutcomeSpec, test: TrialTest, decide: bool, primary: bool) -> tuple[str, str]:
    if test.n_weeks == 0 or test.estimate is None:
        return "no data", f"No complete week has {spec.label} measured {spec.when} both sessions yet."
    if test.ci95 is None:
        more = MIN_WEEKS_FOR_ALPHA - test.n_weeks
        return "not enough weeks", (
            f"With {test.n_weeks} complete week{'s' if test.n_weeks != 1 else ''} the smallest possible p is "
            f"{_fmt(test.min_p or 1)}: no result at 5 % is possible yet ({more} more complete week"
            f"{'s' if more != 1 else ''} needed)."
        )
    lo, hi = test.ci95
    if decide:
        verb = "lowered" if test.estimate < 0 else "raised"
        # The size of the change, so the interval is of sizes too: "lowered … by 6.9 (95 % CI 5.1 to 8.2)".
        size_lo, size_hi = (-hi, -lo) if verb == "lowered" else (lo, hi)
        span = (f"{_fmt(abs(test.estimate))} {spec.unit} (95 % CI {_fmt(size_lo)} to {_fmt(size_hi)}; "
                f"p = {_fmt(test.p or 1)})")  # fmt: skip
        tag = "" if primary else " (exploratory, one of several outcomes)"
        return verb, f"In this randomised test massage {verb} {spec.label} {spec.when} by {span}{tag}."
    return "cannot tell", (
        f"This trial cannot tell yet whether massage changes {spec.label} {spec.when}: "
        f"massage minus rest {test.estimate:+.3g} {spec.unit} (95 % CI {_fmt(lo)} to {_fmt(hi)}; p = {_fmt(test.p or 1)})."
    )


def analyse_trial(
    outcomes: Mapping[str, tuple[OutcomeSpec, Sequence[float], Sequence[float]]],
    primary: str,
    *,
    seed: int = 0,
    alpha: float = ALPHA,
    q_max: float = 0.10,
) -> tuple[OutcomeResult, ...]:
    """Every outcome's randomisation test; the primary at `alpha`, the others exploratory with BH q < q_max."""
    tests = {name: randomization_test(m, r, seed=seed, alpha=alpha) for name, (_s, m, r) in outcomes.items()}
    secondary = [k for k in outcomes if k != primary and tests[k].p is not None]
    # `or 1.0` only narrows the type: a randomisation p is never 0 (the observed allocation always counts).
    qs = dict(zip(secondary, _bh([tests[k].p or 1.0 for k in secondary]), strict=True)) if secondary else {}
    results = []
    for name, (spec, _m, _r) in outcomes.items():
        test = tests[name]
        is_primary = name == primary
        q = None if is_primary else qs.get(name)
        decide = test.significant(alpha) if is_primary else (q is not None and q < q_max and test.significant(alpha))
        verdict, statement = _word(spec, test, decide, is_primary)
        results.append(OutcomeResult(spec, is_primary, test, q, verdict, statement))
    results.sort(key=lambda r: not r.primary)
    return tuple(results)
