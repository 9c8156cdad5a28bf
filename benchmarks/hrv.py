"""Benchmark: HRV of synthetic RR series, ours against neurokit2, in three comparisons.

Run: ``python benchmarks/hrv.py`` (from the repository root, or with PYTHONPATH pointing at it).

Sizes: 300 and 500 beats (a 5-minute window, what the product computes most), 5 000 and 100 000 beats
(a 25-hour night); seeded numpy series. Every figure is the median of repeated runs, as CPU time
(``time.process_time``: what counts on a shared machine) and wall time; ratios are neurokit2's median over
ours, measured in the same run.

(a) **full analysis vs neurokit2 time + frequency** — ours: `tracker.analysis.hrv.analyze_rr` (artefact
    gate + time + frequency + nonlinear: DFA α1, Poincaré, stress index); neurokit2:
    ``nk.hrv_time({"RRI": rr})`` + ``nk.hrv_frequency({"RRI": rr})``, once at its default 100-Hz
    interpolation (25x more samples than our 4 Hz, so most of that ratio is the interpolation rate, not
    the code) and once at ``interpolation_rate=4``. Ours does more work than theirs here.
(b) **like for like** — ours: `time_domain` + `frequency_domain` on every beat (no gate, no nonlinear);
    neurokit2: the same ``hrv_time`` + ``hrv_frequency(interpolation_rate=4)`` as in (a). neurokit2's two
    calls still compute more indices than ours (percentiles, TINN, ULF/VHF bands, ...).
(c) **DFA α1 alone** — ours: `dfa_alpha1` (box sizes 4–16, non-overlapping boxes from both ends);
    neurokit2: ``nk.fractal_dfa(rr, scale=range(4, 17), overlap=False)`` (from the start only).

It also times `windowed_ln_rmssd` over a 30 000-beat night. neurokit2 pins pandas<3 and is not a project
dependency; use a separate env:

    python -m venv /tmp/nkenv && /tmp/nkenv/bin/pip install neurokit2 'pandas<3'
    /tmp/nkenv/bin/python benchmarks/hrv.py

Targets: 100 000 beats in at most 0.3 s (wall), and in (a) at 300 and 500 beats at least 10x faster than
neurokit2 at 4 Hz (CPU-time ratio). (b), (c) and the other sizes are reported, not targets.
"""

from __future__ import annotations

import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere without installing

from tracker.analysis.hrv import (  # noqa: E402
    analyze_rr,
    dfa_alpha1,
    frequency_domain,
    time_domain,
    windowed_ln_rmssd,
)

SIZES = (300, 500, 5_000, 100_000)
RUNS = {300: 101, 500: 101, 5_000: 21, 100_000: 7}
NK_RUNS = {300: 31, 500: 31, 5_000: 7, 100_000: 3}
TARGET_100K_S = 0.3
TARGET_RATIO = 10.0
TARGET_SIZES = (300, 500)
NIGHT_BEATS = 30_000  # one night for the windowed lnRMSSD timing


class Timing:
    """Medians of one function's repeated runs: CPU seconds (process_time) and wall seconds."""

    def __init__(self, fn: Callable[[], object], runs: int) -> None:
        fn()  # warm-up (imports, caches)
        cpu, wall = [], []
        for _ in range(runs):
            c0, w0 = time.process_time(), time.perf_counter()
            fn()
            cpu.append(time.process_time() - c0)
            wall.append(time.perf_counter() - w0)
        self.cpu_s = statistics.median(cpu)
        self.wall_s = statistics.median(wall)

    def cell(self) -> str:
        return f"{self.cpu_s * 1e3:>9.2f} {self.wall_s * 1e3:>9.2f}"

    def ratio_to(self, ours: Timing) -> str:
        return f"{self.cpu_s / ours.cpu_s:>6.1f}x {self.wall_s / ours.wall_s:>6.1f}x"


def synthetic_rr_ms(n_beats: int, seed: int = 20240501) -> np.ndarray:
    """RR (ms): 0.25-Hz RSA + 0.1-Hz Mayer wave + slow drift + noise, with 0.3 % injected artefacts."""
    rng = np.random.default_rng(seed)
    base = 900.0 + 40.0 * np.sin(2 * np.pi * np.arange(n_beats) / 3000.0)
    t_s = np.cumsum(base) / 1000.0  # approximate beat times for the modulations
    rr = (
        base
        + 30.0 * np.sin(2 * np.pi * 0.25 * t_s)
        + 20.0 * np.sin(2 * np.pi * 0.10 * t_s + 1.0)
        + rng.normal(0.0, 12.0, n_beats)
    )
    bad = rng.choice(n_beats, max(1, n_beats * 3 // 1000), replace=False)
    rr[bad] *= rng.choice([0.5, 1.6], bad.size)  # extra / missed beats
    return rr


def header(title: str, columns: str) -> None:
    print(f"\n{title}\n{'beats':>7} {columns}")


def main() -> int:
    try:
        import neurokit2 as nk
    except ImportError:
        nk = None

    print(f"python {sys.version.split()[0]}, numpy {np.__version__}", end="")
    print(f", neurokit2 {nk.__version__}" if nk is not None else "")
    print("times in ms: CPU (process_time) then wall, medians; ratios = neurokit2 / ours, CPU then wall")
    if nk is None:
        print(
            "neurokit2 is not installed here: comparisons skipped. To compare, install it into a separate env:\n"
            "  python -m venv /tmp/nkenv && /tmp/nkenv/bin/pip install neurokit2 'pandas<3'\n"
            "  /tmp/nkenv/bin/python benchmarks/hrv.py"
        )

    def nk_time_freq(rr: np.ndarray, **freq: Any) -> Callable[[], None]:
        def run() -> None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                nk.hrv_time({"RRI": rr})
                nk.hrv_frequency({"RRI": rr}, **freq)

        return run

    ok = True
    full: dict[int, Timing] = {}
    nk100: dict[int, Timing] = {}
    nk4: dict[int, Timing] = {}
    series = {n: synthetic_rr_ms(n) for n in SIZES}

    cols = f"{'ours: cpu':>9} {'wall':>9} {'runs':>4}"
    if nk is not None:
        cols += f" | {'nk 100 Hz':>9} {'wall':>9} {'ratio':>15}"
        cols += f" | {'nk 4 Hz':>9} {'wall':>9} {'ratio':>15} {'runs':>4}"
    header("(a) full analysis (gate + time + frequency + nonlinear) vs nk.hrv_time + nk.hrv_frequency", cols)
    for n, rr in series.items():
        full[n] = Timing(lambda rr=rr: analyze_rr(rr), RUNS[n])
        line = f"{n:>7} {full[n].cell()} {RUNS[n]:>4}"
        if n == 100_000 and full[n].wall_s > TARGET_100K_S:
            ok = False
        if nk is not None:
            nk100[n] = Timing(nk_time_freq(rr), NK_RUNS[n])
            nk4[n] = Timing(nk_time_freq(rr, interpolation_rate=4), NK_RUNS[n])
            line += f" | {nk100[n].cell()} {nk100[n].ratio_to(full[n])}"
            line += f" | {nk4[n].cell()} {nk4[n].ratio_to(full[n])} {NK_RUNS[n]:>4}"
            if n in TARGET_SIZES and nk4[n].cpu_s / full[n].cpu_s < TARGET_RATIO:
                ok = False
        print(line, flush=True)

    cols = f"{'ours: cpu':>9} {'wall':>9} {'runs':>4}"
    if nk is not None:
        cols += f" | {'nk 4 Hz':>9} {'wall':>9} {'ratio':>15}"
    header("(b) like for like: our time_domain + frequency_domain (no gate) vs the same nk pair at 4 Hz", cols)
    for n, rr in series.items():
        ours = Timing(lambda rr=rr: (time_domain(rr), frequency_domain(rr)), RUNS[n])
        line = f"{n:>7} {ours.cell()} {RUNS[n]:>4}"
        if nk is not None:
            line += f" | {nk4[n].cell()} {nk4[n].ratio_to(ours)}  (nk timed in (a))"
        print(line, flush=True)

    cols = f"{'ours: cpu':>9} {'wall':>9} {'runs':>4}"
    if nk is not None:
        cols += f" | {'nk dfa':>9} {'wall':>9} {'ratio':>15} {'runs':>4}"
    header("(c) DFA alpha1 alone: dfa_alpha1 vs nk.fractal_dfa(scale=4..16, overlap=False)", cols)
    for n, rr in series.items():
        ours = Timing(lambda rr=rr: dfa_alpha1(rr), RUNS[n])
        line = f"{n:>7} {ours.cell()} {RUNS[n]:>4}"
        if nk is not None:
            scale = np.arange(4, 17)
            theirs = Timing(lambda rr=rr: nk.fractal_dfa(rr, scale=scale, overlap=False), NK_RUNS[n])
            line += f" | {theirs.cell()} {theirs.ratio_to(ours)} {NK_RUNS[n]:>4}"
        print(line, flush=True)

    night_rr = synthetic_rr_ms(NIGHT_BEATS)
    night_t_ms = 1_730_000_000_000 + np.cumsum(night_rr)
    night = Timing(lambda: windowed_ln_rmssd(night_t_ms, night_rr, 300_000), RUNS[5_000])
    print(f"\nwindowed_ln_rmssd, {NIGHT_BEATS} beats in 5-min windows: {night.cell()} (cpu, wall ms)")

    print()
    targets = f"targets: 100k beats <= {TARGET_100K_S} s wall"
    if nk is not None:
        targets += f"; (a) at {' and '.join(map(str, TARGET_SIZES))} beats >= {TARGET_RATIO:.0f}x nk at 4 Hz (CPU)"
    print(targets)
    print("all targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
