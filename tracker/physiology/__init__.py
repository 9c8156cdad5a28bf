"""A pure, seeded physiology model of one person (or many) over weeks.

Feeds the emulated wearables (a chest strap streaming RR intervals, a ring serving a 5-min HR log and
sleep history), the analysis validation tests (plant an effect, check it is found; plant none, check
false verdicts stay rare) and `tracker demo`. numpy and the standard library only: no clock, no I/O,
no logging; the same seed gives the same output.

Layers, each reusing the one below:
  * nightly  — the latent per-night state (AR(1) + weekly rhythm + lag-1 massage effects), schedule and
               stage minutes; `simulate_nights()` draws it for hundreds of people at once.
  * hypnogram — a 30-s-epoch night that realises those stage minutes exactly.
  * beats    — 1-s HR / lnRMSSD targets and RR intervals that realise the nightly values.
  * simulation — `simulate()` → `Simulation`, the per-person façade with lazy, cached beats.
  * scenarios — many people in the situations users are really in (trend, missing and artefact nights,
               sessions on one weekday or after bad nights, rest sessions at another time of day), as
               report inputs, for the calibration tests and benchmarks/calibration.py.

Conventions: UTC epoch ms everywhere; nights labelled by the local date of the morning they end; local
days in `spec.tz` (DST-correct); RR in 1/1024-s ticks with rr_ms = ticks·1000/1024.
"""

from tracker.physiology.nightly import NightlyPanel, Nights, simulate_nights
from tracker.physiology.simulation import Simulation, TargetCurves, simulate
from tracker.physiology.spec import Effects, PersonSpec, PlannedSession, SelfReport

__all__ = [
    "Effects",
    "NightlyPanel",
    "Nights",
    "PersonSpec",
    "PlannedSession",
    "SelfReport",
    "Simulation",
    "TargetCurves",
    "simulate",
    "simulate_nights",
]
