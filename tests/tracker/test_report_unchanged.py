"""The evidence report is the same as before the report was made fast, on two fixed data sets.

tests/data/reports/*.json were written by the code before this change (commit 2dee37f: per-window RR
queries, nights as objects, one (K × T) array per lag, one (10,000 × n) relabelling draw): a simulated
person with two years of nights and 190 sessions (the analysis alone), and the seeded test person read
from the database (the service's loading path as well). Numbers may differ only in the last bits, as
they do between BLAS thread counts; every verdict, count, p-value and sentence must be the same.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from tests.web.seed import seed_person
from tracker.analysis.effects import N_RANDOM
from tracker.analysis.report import build_report
from tracker.bootstrap import Tracker
from tracker.physiology.scenarios import Timing, scenario_panel

EXPECTED = Path(__file__).resolve().parents[1] / "data" / "reports"


def _monte_carlo_paths(report: dict[str, Any]) -> set[str]:
    """The p and q of the massage-minus-rest rows (the label-permutation test's random relabellings)."""
    return {f".acute[{i}].{k}" for i, row in enumerate(report.get("acute", ()))
            if row.get("kind") == "massage_minus_rest" for k in ("p", "q")}  # fmt: skip


def _same(got: Any, want: Any, path: str = "", monte_carlo: frozenset[str] = frozenset()) -> None:
    if not path and isinstance(want, dict):
        monte_carlo = frozenset(_monte_carlo_paths(want))
    if isinstance(want, dict):
        assert isinstance(got, dict) and got.keys() == want.keys(), path
        for k in want:
            _same(got[k], want[k], f"{path}.{k}", monte_carlo)
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), path
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            _same(g, w, f"{path}[{i}]", monte_carlo)
    elif isinstance(want, float) and not isinstance(got, bool) and path in monte_carlo:
        se = math.sqrt(max(want * (1 - want), 1e-4) / N_RANDOM)
        assert isinstance(got, float) and abs(got - want) < 5 * se, (path, got, want)
    elif isinstance(want, float) and not isinstance(got, bool):
        assert isinstance(got, (int, float)) and math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12), (path, got, want)
    else:
        assert got == want, (path, got, want)


def test_the_analysis_of_two_simulated_years_is_unchanged() -> None:
    panel = scenario_panel(1, 730, timing=Timing(sessions=150, rest_sessions=40), seed=3)
    got = build_report(panel.inputs(0), seed=0).to_dict()
    want = json.loads((EXPECTED / "scenario_730_nights.json").read_text())
    assert want["sessions"] == {"massage": 150, "rest": 40} and len(want["nights_after"]) == 21
    _same(got, want)


def test_the_report_of_the_seeded_person_is_unchanged(tracker: Tracker) -> None:
    person = tracker.people.add("Ana", "Europe/Berlin")
    seed_person(tracker, person, nights=35, seed=7)
    want = json.loads((EXPECTED / "seeded_person.json").read_text())
    _same(tracker.reports.evidence(person.id).report.to_dict(), want)
