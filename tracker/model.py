"""Value types shared across layers: enums and frozen records with units in their names.

Times are UTC integer epoch milliseconds everywhere (`t_ms`, `start_ms`, `end_ms`); conversion to a
person's local time happens only at the edges (CSV, CLI, web) and in the "night" arithmetic.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Source(enum.StrEnum):
    """Where a stored sample came from."""

    LIVE = "live"  # streamed while connected (a capture window)
    HISTORY = "history"  # pulled from the device's own memory during a sync
    IMPORT = "import"  # read from a file (CSV)


class Stage(enum.StrEnum):
    """Sleep stage as reported by a device or a file; ASLEEP when the device gives no stages."""

    AWAKE = "awake"
    LIGHT = "light"
    DEEP = "deep"
    REM = "rem"
    ASLEEP = "asleep"


class SessionKind(enum.StrEnum):
    MASSAGE = "massage"
    REST = "rest"  # a rest control: same posture and length, no massage


class SessionStatus(enum.StrEnum):
    PLANNED = "planned"
    DONE = "done"
    CANCELLED = "cancelled"


class Phase(enum.StrEnum):
    """Which part of a session a capture window belongs to."""

    PRE = "pre"
    DURING = "during"
    POST = "post"
    ADHOC = "adhoc"  # a capture not tied to a session


class RunKind(enum.StrEnum):
    SYNC = "sync"
    CAPTURE = "capture"
    IMPORT = "import"


class RunStatus(enum.StrEnum):
    RUNNING = "running"
    OK = "ok"
    PARTIAL = "partial"  # finished, but some part was unavailable (e.g. no sleep service)
    FAILED = "failed"
    INTERRUPTED = "interrupted"  # its process died mid-run; what it stored is kept and counted


class CaptureStatus(enum.StrEnum):
    PLANNED = "planned"
    OK = "ok"
    NOT_IN_RANGE = "not_in_range"
    INSUFFICIENT_QUALITY = "insufficient_quality"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class HeartRate:
    """One heart-rate reading at `t_ms`."""

    t_ms: int
    bpm: int


@dataclass(frozen=True, slots=True)
class RRInterval:
    """One beat-to-beat interval; `t_ms` is the time of the beat that ends it."""

    t_ms: int
    rr_ms: float


@dataclass(frozen=True, slots=True)
class SleepSpan:
    """A run of one sleep stage from `start_ms` (inclusive) to `end_ms` (exclusive)."""

    start_ms: int
    end_ms: int
    stage: Stage


# The largest id a table can hold: primary keys are INTEGER, 32-bit on PostgreSQL (which refuses a larger
# parameter cast to it: "integer out of range"). A larger number is no id and must not reach the driver.
# Shared by the web's parsing and the CLI's look-ups.
MAX_ID = 2**31 - 1

# Plausibility ranges shared by the importers and the API (bpm and ms).
BPM_MIN, BPM_MAX = 20, 250
RR_MS_MIN, RR_MS_MAX = 200.0, 3000.0


class MetricKind(enum.StrEnum):
    """What a device-computed value in `device_metric` is; the unit is in the name."""

    SDNN_MS = "sdnn_ms"  # the device's own SDNN (Apple Health "HRV")
    RMSSD_MS = "rmssd_ms"  # the device's own RMSSD estimate (Garmin's overnight HRV)
    RESTING_HR_BPM = "resting_hr_bpm"  # the device's own resting heart rate
    # The device's own "HRV" number in ms when its method is not published (the Colmi ring's 30-minute
    # values; Gadgetbridge calls them only "HRV value, in milliseconds"): not claimed to be an RMSSD.
    DEVICE_HRV_MS = "device_hrv_ms"

