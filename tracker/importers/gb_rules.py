"""Gadgetbridge's read-time rules, one family at a time, as pure generators over database rows.

Gadgetbridge stores what a device sent and normalises only when it reads (each family's
`*SampleProvider.java`); the rules below restate those providers (facts, not code, from the public
Freeyourgadget/Gadgetbridge repository at a0948ee). Input rows come ordered by time; output rows are what
tracker.ingest writes: heart rate `(t_ms, bpm)`, RR `(t_ms, rr_ms)`, sleep `(start_ms, end_ms, stage)`.
Every generator streams: memory does not grow with the history's length.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from tracker.model import BPM_MAX, BPM_MIN, RR_MS_MAX, RR_MS_MIN, Stage

MINUTE_MS = 60_000
# HeartRateUtils: a sample's heart rate counts only when 10-250 bpm (255/0/-1 mean "not measured"); we also keep
# to the range every other import of this program accepts.
HR_MIN_BPM, HR_MAX_BPM = max(10, BPM_MIN), min(250, BPM_MAX)


def valid_bpm(bpm: int | None) -> bool:
    return bpm is not None and HR_MIN_BPM <= bpm <= HR_MAX_BPM


# -- heart rate ---------------------------------------------------------------------------------------


def heart_rate(rows: Iterable[tuple[int, int | None]], t_scale_ms: int) -> Iterator[tuple[int, int]]:
    """(timestamp, bpm) rows → valid readings; `t_scale_ms` is 1000 for tables in seconds, 1 for milliseconds."""
    for t, bpm in rows:
        if valid_bpm(bpm):
            yield t * t_scale_ms, int(bpm)  # type: ignore[arg-type]


# Raw kinds that mean "not on the wrist": heart rate there is noise (the providers' charts drop it).
HUAMI_NOT_WORN = frozenset({3, 6})  # HuamiConst TYPE_NONWEAR, TYPE_CHARGING (after & 0x0F)
MIBAND1_NOT_WORN = frozenset({3, 6})  # MiBandSampleProvider TYPE_NONWEAR, TYPE_CHARGING
ZEPP_NOT_WORN = frozenset({115, 118})  # HuamiExtendedSampleProvider TYPE_NOT_WORN, TYPE_CHARGING


def worn_heart_rate(rows: Iterable[tuple[int, int, int | None]], not_worn: frozenset[int]) -> Iterator[tuple[int, int]]:
    """(timestamp s, kind as read, bpm) → valid readings taken while worn."""
    for t, kind, bpm in rows:
        if valid_bpm(bpm) and kind not in not_worn:
            yield t * 1000, int(bpm)  # type: ignore[arg-type]


# -- sleep from per-minute activity samples -----------------------------------------------------------


def minute_spans(stages: Iterable[tuple[int, Stage | None]]) -> Iterator[tuple[int, int, str]]:
    """(t_ms, stage or None) per one-minute sample → contiguous spans of one stage.

    A sample covers [t, t + 1 min). A gap in the samples or a non-sleep minute ends a span: nothing is
    filled in where the device recorded nothing.
    """
    start = end = -1
    current: Stage | None = None
    for t_ms, stage in stages:
        if current is not None and (stage != current or t_ms != end):
            yield start, end, str(current)
            current = None
        if stage is not None:
            if current is None:
                start, current = t_ms, stage
            end = t_ms + MINUTE_MS
    if current is not None:
        yield start, end, str(current)


# Huami classic (MiBand2SampleProvider + HuamiConst): raw kind & 0x0F; 0 "no change" and 10 "ignore" repeat
# the previous valid kind; 9 light, 11 deep. No REM and no awake stage on these bands.
HUAMI_NO_CHANGE, HUAMI_IGNORE, HUAMI_UNSET = 0, 10, -1
HUAMI_STAGES = {9: Stage.LIGHT, 11: Stage.DEEP}
# Mi Band 1 (MiBandSampleProvider): the same table, another map and no masking.
MIBAND1_STAGES = {5: Stage.LIGHT, 4: Stage.DEEP}


def huami_classic_kinds(rows: Iterable[tuple[int, int, int]]) -> Iterator[tuple[int, int, int]]:
    """(timestamp s, raw kind, bpm) → the same with the kind masked and forward-filled, as Gadgetbridge reads it."""
    last_valid = HUAMI_UNSET
    for t, raw, bpm in rows:
        kind = raw & 0x0F if raw != HUAMI_UNSET else raw
        if kind in (HUAMI_NO_CHANGE, HUAMI_IGNORE):
            if last_valid != HUAMI_UNSET:
                kind = last_valid
        else:
            last_valid = kind
        yield t, kind, bpm


def huami_classic_stages(rows: Iterable[tuple[int, int]]) -> Iterator[tuple[int, Stage | None]]:
    """(timestamp s, raw kind) → (t_ms, stage) with the mask and the forward fill applied."""
    for t, kind, _ in huami_classic_kinds((t, raw, 0) for t, raw in rows):
        yield t * 1000, HUAMI_STAGES.get(kind)


def miband1_stages(rows: Iterable[tuple[int, int]]) -> Iterator[tuple[int, Stage | None]]:
    for t, raw in rows:
        yield t * 1000, MIBAND1_STAGES.get(raw)


# Zepp OS / Mi Band 7 (HuamiExtendedSampleProvider): raw kind 120 is "sleep, any stage"; the stage comes from
# the DEEP_SLEEP and REM_SLEEP bytes (masked with 0x7F): REM if > 55, else deep if > 42, else light.
ZEPP_SLEEP = 120
ZEPP_REM_ABOVE, ZEPP_DEEP_ABOVE = 55, 42


def zepp_stage(raw_kind: int, deep: int | None, rem: int | None) -> Stage | None:
    if raw_kind != ZEPP_SLEEP:
        return None
    if (rem or 0) & 0x7F > ZEPP_REM_ABOVE:
        return Stage.REM
    if (deep or 0) & 0x7F > ZEPP_DEEP_ABOVE:
        return Stage.DEEP
    return Stage.LIGHT


def zepp_stages(rows: Iterable[tuple[int, int, int | None, int | None]]) -> Iterator[tuple[int, Stage | None]]:
    for t, kind, deep, rem in rows:
        yield t * 1000, zepp_stage(kind, deep, rem)


# -- sleep from stage tables -------------------------------------------------------------------------

# Xiaomi (XiaomiSampleProvider, SleepDetailsParser): STAGE as stored: 2 deep, 3 light, 4 REM, 5 awake; 0 "not
# sleeping" and 1 "n/a". A stage sample marks where a stage begins; it lasts until the next one, and the night
# ends at the sleep-time sample's WAKEUP_TIME (both in ms).
XIAOMI_STAGES = {2: Stage.DEEP, 3: Stage.LIGHT, 4: Stage.REM, 5: Stage.AWAKE}


def xiaomi_sleep(
    nights: Iterable[tuple[int, int | None]], stages: Iterable[tuple[int, int | None]]
) -> Iterator[tuple[int, int, str]]:
    """nights: (bed ms, wake-up ms) in time order; stages: (t ms, stage) in time order. A night with no stage
    samples is stored as one span of unspecified sleep (Gadgetbridge draws it as light sleep; we do not guess)."""
    stage_iter = iter(stages)
    pending = next(stage_iter, None)
    for bed_ms, wake_ms in nights:
        if wake_ms is None or wake_ms <= bed_ms:
            continue
        while pending is not None and pending[0] < bed_ms:  # stages outside any night: not sleep
            pending = next(stage_iter, None)
        inside: list[tuple[int, int | None]] = []  # one night's stage changes: tens of rows
        while pending is not None and pending[0] < wake_ms:
            inside.append(pending)
            pending = next(stage_iter, None)
        if not inside:
            yield bed_ms, wake_ms, str(Stage.ASLEEP)
            continue
        for i, (t_ms, code) in enumerate(inside):
            end_ms = inside[i + 1][0] if i + 1 < len(inside) else wake_ms
            stage = XIAOMI_STAGES.get(code)  # type: ignore[arg-type]
            if stage is not None and end_ms > t_ms:
                yield t_ms, end_ms, str(stage)


# Colmi rings (ColmiActivitySampleProvider, ColmiR0xConstants): each stage row has its start (TIMESTAMP, ms)
# and its DURATION in minutes; STAGE 2 light, 3 deep, 4 REM, 5 awake.
COLMI_STAGES = {2: Stage.LIGHT, 3: Stage.DEEP, 4: Stage.REM, 5: Stage.AWAKE}


def colmi_sleep(rows: Iterable[tuple[int, int, int]]) -> Iterator[tuple[int, int, str]]:
    for t_ms, duration_min, code in rows:
        stage = COLMI_STAGES.get(code)
        if stage is not None and duration_min > 0:
            yield t_ms, t_ms + duration_min * MINUTE_MS, str(stage)


# Garmin (GarminActivitySampleProvider, FieldDefinitionSleepStage): a stage row's TIMESTAMP (ms) is the END of
# the stage (an upper bound); the stage began at the previous stage row or at the sleep-start event (GARMIN_EVENT_
# SAMPLE, EVENT 74, EVENT_TYPE 0), whichever is later. STAGE 0 unmeasurable, 1 awake, 2 light, 3 deep, 4 REM.
GARMIN_STAGES = {1: Stage.AWAKE, 2: Stage.LIGHT, 3: Stage.DEEP, 4: Stage.REM}
GARMIN_SLEEP_EVENT, GARMIN_EVENT_START = 74, 0


def garmin_sleep(
    starts_ms: Iterable[int], stages: Iterable[tuple[int, int]]
) -> Iterator[tuple[int, int, str]]:
    """starts_ms: sleep-start event times in order; stages: (end ms, stage) in order. A stage with neither a
    previous stage nor a sleep start before it has no known beginning and is left out."""
    start_iter = iter(starts_ms)
    next_start = next(start_iter, None)
    last_start: int | None = None
    previous_end: int | None = None
    for end_ms, code in stages:
        while next_start is not None and next_start < end_ms:
            last_start = next_start
            next_start = next(start_iter, None)
        known = [x for x in (previous_end, last_start) if x is not None]
        begins = max(known) if known else None
        previous_end = end_ms
        stage = GARMIN_STAGES.get(code)
        if begins is None or stage is None or end_ms <= begins:
            continue
        yield begins, end_ms, str(stage)


# -- beat to beat -------------------------------------------------------------------------------------

# Xiaomi HEART_PULSE_SAMPLE: one row per heart beat (ms, 10-ms steps from the band's RR deltas). An interval is
# the time between two consecutive beats; a gap the band re-synchronised over (> 30 s) is not an interval.


def pulses_to_rr(beats_ms: Iterable[int]) -> Iterator[tuple[int, float]]:
    previous: int | None = None
    for t_ms in beats_ms:
        if previous is not None and RR_MS_MIN <= t_ms - previous <= RR_MS_MAX:
            yield t_ms, float(t_ms - previous)
        previous = t_ms
