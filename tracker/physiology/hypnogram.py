"""One night's hypnogram (30-s epochs) that realises the nightly stage counts exactly.

Structure (AASM-typical adult night): sleep-onset latency awake, then ~90-min NREM–REM cycles. Each
cycle is light → deep → light → REM; deep sleep is concentrated in the first cycles (weights e^{−1.1·c})
and REM grows towards morning (weights ∝ c + ½). WASO is split into brief awakenings between cycles.
The night ends with a short final awakening before getting up. Counts per stage are apportioned with
the largest-remainder method, so the totals equal the nightly plan to the epoch.
"""

from __future__ import annotations

import numpy as np

from tracker.model import Stage

AWAKE, LIGHT, DEEP, REM = 0, 1, 2, 3  # int8 stage codes used in the hypnogram arrays
STAGE_OF_CODE: tuple[Stage, ...] = (Stage.AWAKE, Stage.LIGHT, Stage.DEEP, Stage.REM)
_CYCLE_EP = 180  # 90 min


def apportion(total: int, weights: np.ndarray) -> np.ndarray:
    """Split the integer `total` into len(weights) non-negative ints proportional to `weights`."""
    w = np.asarray(weights, dtype=float)
    if total <= 0 or w.sum() <= 0:
        return np.zeros(len(w), dtype=np.int64)
    exact = total * w / w.sum()
    parts = np.floor(exact).astype(np.int64)
    short = total - int(parts.sum())
    if short:
        parts[np.argsort(-(exact - parts), kind="stable")[:short]] += 1
    return parts


def build_hypnogram(
    rng: np.random.Generator,
    latency_ep: int,
    waso_ep: int,
    final_ep: int,
    deep_ep: int,
    rem_ep: int,
    light_ep: int,
) -> np.ndarray:
    """Stage code per 30-s epoch from bedtime to wake (int8 array of length the sum of the counts)."""
    sleep_ep = deep_ep + rem_ep + light_ep
    n_cycles = max(1, int(round(sleep_ep / _CYCLE_EP)))
    c = np.arange(n_cycles)
    jitter = np.exp(0.25 * rng.standard_normal((3, n_cycles)))
    deep_c = apportion(deep_ep, np.exp(-1.1 * c) * jitter[0])
    rem_c = apportion(rem_ep, (c + 0.5) * jitter[1])
    light_c = apportion(light_ep, np.ones(n_cycles) * jitter[2])
    n_gaps = max(n_cycles - 1, 1)
    waso_c = apportion(waso_ep, rng.dirichlet(np.ones(n_gaps)))

    codes: list[int] = [AWAKE]
    runs: list[int] = [latency_ep]
    for i in range(n_cycles):
        light_a = int(round(0.6 * light_c[i]))
        light_b = int(light_c[i]) - light_a
        if n_cycles == 1:  # a short night: its one awakening sits after the deep sleep
            codes += [LIGHT, DEEP, AWAKE, LIGHT, REM]
            runs += [light_a, int(deep_c[i]), int(waso_c[0]), light_b, int(rem_c[i])]
            continue
        codes += [LIGHT, DEEP, LIGHT, REM]
        runs += [light_a, int(deep_c[i]), light_b, int(rem_c[i])]
        if i < n_cycles - 1:
            codes.append(AWAKE)
            runs.append(int(waso_c[i]))
    codes.append(AWAKE)
    runs.append(final_ep)
    hyp = np.repeat(np.asarray(codes, dtype=np.int8), np.asarray(runs, dtype=np.int64))
    return hyp


def runs_of(hyp: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(start epoch, end epoch exclusive, code) of each run of equal codes."""
    if hyp.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    change = np.flatnonzero(np.diff(hyp)) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [hyp.size]])
    return starts, ends, hyp[starts].astype(np.int64)
