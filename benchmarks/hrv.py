"""Benchmark: full HRV analysis (gate + time + frequency + nonlinear) of synthetic RR series.

Run: ``python benchmarks/hrv.py`` (from the repository root, or with PYTHONPATH pointing at it).

For each size (300, 5 000 and 100 000 beats; seeded numpy) it prints the median wall time of several
runs of `tracker.analysis.hrv.analyze_rr`, then times `windowed_ln_rmssd` over a 30 000-beat night.
When neurokit2 is importable it also times ``nk.hrv_time({"RRI": rr})`` + ``nk.hrv_frequency({"RRI": rr})``
on the same series in the same run, twice, and prints both ratios:
- "nk defaults": neurokit2 as shipped, which interpolates the tachogram at 100 Hz (25x more samples
  than we use, so most of that ratio is the interpolation rate, not the code);
- "nk 4 Hz": ``interpolation_rate=4``, the same 4-Hz resampling as ours: the like-for-like comparison.
Sizes include 300 and 500 beats, a 5-minute window, which is what the product computes most. neurokit2 pins pandas<3 and is not a project dependency; use a separate env:

    python -m venv /tmp/nkenv && /tmp/nkenv/bin/pip install neurokit2 'pandas<3'
    PYTHONPATH=/work/main /tmp/nkenv/bin/python benchmarks/hrv.py

Targets: 100 000 beats in at most 0.3 s, and at least 10x faster than neurokit2 at equal settings (4 Hz).
"""

from __future__ import annotations

import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere without installing

from tracker.analysis.hrv import analyze_rr, windowed_ln_rmssd  # noqa: E402

SIZES = (300, 500, 5_000, 100_000)
RUNS = {300: 51, 500: 51, 5_000: 21, 100_000: 7}
NK_RUNS = {300: 11, 500: 11, 5_000: 5, 100_000: 3}
TARGET_100K_S = 0.3
TARGET_RATIO = 10.0
NIGHT_BEATS = 30_000  # one night for the windowed lnRMSSD timing


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


def median_time_s(fn: Callable[[], object], runs: int) -> float:
    fn()  # warm-up (imports, caches)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> int:
    try:
        import neurokit2 as nk
    except ImportError:
        nk = None

    print(f"python {sys.version.split()[0]}, numpy {np.__version__}")
    if nk is None:
        print(
            "neurokit2 is not installed here: comparison skipped. To compare, install it into a separate env:\n"
            "  python -m venv /tmp/nkenv && /tmp/nkenv/bin/pip install neurokit2 'pandas<3'\n"
            "  PYTHONPATH=/work/main /tmp/nkenv/bin/python benchmarks/hrv.py"
        )
    else:
        print(f"neurokit2 {nk.__version__}: nk.hrv_time + nk.hrv_frequency on {{'RRI': rr}} (defaults)")
    print()
    header = f"{'beats':>8} {'ours median s':>14} {'runs':>5}"
    if nk is not None:
        header += f" {'nk defaults s':>14} {'ratio':>7} {'nk 4 Hz s':>10} {'ratio':>7} {'runs':>5}"
    print(header)

    ok = True
    for n in SIZES:
        rr = synthetic_rr_ms(n)
        ours_s = median_time_s(lambda rr=rr: analyze_rr(rr), RUNS[n])
        line = f"{n:>8} {ours_s:>14.4f} {RUNS[n]:>5}"
        if n == 100_000 and ours_s > TARGET_100K_S:
            ok = False
        if nk is not None:

            def run_nk(rr: np.ndarray = rr, **freq: float) -> None:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    nk.hrv_time({"RRI": rr})
                    nk.hrv_frequency({"RRI": rr}, **freq)

            nk_s = median_time_s(run_nk, NK_RUNS[n])
            nk4_s = median_time_s(lambda: run_nk(interpolation_rate=4), NK_RUNS[n])
            line += f" {nk_s:>14.4f} {nk_s / ours_s:>6.1f}x {nk4_s:>10.4f} {nk4_s / ours_s:>6.1f}x {NK_RUNS[n]:>5}"
            if nk4_s / ours_s < TARGET_RATIO:
                ok = False
        print(line, flush=True)

    night_rr = synthetic_rr_ms(NIGHT_BEATS)
    night_t_ms = 1_730_000_000_000 + np.cumsum(night_rr)
    night_s = median_time_s(lambda: windowed_ln_rmssd(night_t_ms, night_rr, 300_000), RUNS[5_000])
    print(f"\nwindowed_ln_rmssd, {NIGHT_BEATS} beats in 5-min windows: median {night_s:.4f} s")

    print()
    print(f"targets: 100k beats <= {TARGET_100K_S} s" + (f", >= {TARGET_RATIO:.0f}x neurokit2 at 4 Hz" if nk else ""))
    print("all targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
