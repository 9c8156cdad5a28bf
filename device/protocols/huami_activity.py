"""Huami per-minute activity samples: the data stream, the sample layouts, and reading heart rate and sleep
from them the way Gadgetbridge does for Mi Band 4/5/6 and Amazfit Band 5 (research/ble.md §4.3, §4.4, §4.8).

Pure: bytes in, values out. The stream on the activity-data characteristic is a rolling packet counter
(byte 0, restarting at 0 each round) followed by payload; the payload is a run of samples, one per minute
from the round's start date, 4 bytes (kind, intensity, steps, heart rate) or 8 bytes (plus four bytes these
bands' readers ignore: Gadgetbridge parses but does not store them for these models).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from device.protocols.errors import DecodeError

MINUTE_MS = 60_000
SAMPLE_SIZES = (4, 8)

# Kind & 0x0F (MiBand2SampleProvider / HuamiConst).
KIND_NO_CHANGE = 0
KIND_NOT_WORN = 3
KIND_CHARGING = 6
KIND_LIGHT_SLEEP = 9
KIND_IGNORE = 10
KIND_DEEP_SLEEP = 11
_FILLED = (KIND_NO_CHANGE, KIND_IGNORE)  # replaced by the previous valid kind
HR_NOT_MEASURED = 0xFF
HR_VALID_MIN, HR_VALID_MAX = 10, 250  # Gadgetbridge HeartRateUtils.isValidHeartRateValue
AWAKE_GAP_MAX_MIN = 60  # a non-sleep stretch between sleep minutes up to this long is awake in the night


@dataclass(frozen=True, slots=True)
class Sample:
    t_ms: int
    kind: int  # raw kind byte as received
    intensity: int
    steps: int
    hr: int  # raw; see `valid_heart_rate`


class ActivityStream:
    """Reassembles one round's activity-data notifications; a counter out of sequence raises DecodeError."""

    def __init__(self) -> None:
        self._next = 0
        self.buffer = bytearray()
        self.packets = 0

    def feed(self, packet: bytes) -> None:
        if not packet:
            raise DecodeError("huami activity: empty packet")
        if packet[0] != self._next:
            raise DecodeError(f"huami activity: packet {packet[0]} where {self._next} was due")
        self._next = (self._next + 1) & 0xFF
        self.packets += 1
        self.buffer += packet[1:]


def encode_stream(payload: bytes, packet_payload: int) -> list[bytes]:
    """Split `payload` into activity-data notifications of at most `packet_payload` + 1 bytes."""
    if packet_payload < 1:
        raise ValueError("packet_payload must be at least 1")
    return [bytes([i & 0xFF]) + payload[o : o + packet_payload]
            for i, o in enumerate(range(0, len(payload), packet_payload))]  # fmt: skip


def decode_samples(payload: bytes, sample_size: int, start_ms: int) -> list[Sample]:
    """One sample per minute from `start_ms`; a trailing partial sample is an error (the round is bad)."""
    if sample_size not in SAMPLE_SIZES:
        raise ValueError(f"sample size must be one of {SAMPLE_SIZES}")
    if len(payload) % sample_size:
        raise DecodeError(f"huami activity: {len(payload)} bytes is not a whole number of {sample_size}-byte samples")
    return [
        Sample(start_ms + i * MINUTE_MS, payload[o], payload[o + 1], payload[o + 2], payload[o + 3])
        for i, o in enumerate(range(0, len(payload), sample_size))
    ]


def encode_samples(samples: Sequence[tuple[int, int, int, int]], sample_size: int) -> bytes:
    """(kind, intensity, steps, hr) per minute, padded with zeros to `sample_size` (the emulator's side)."""
    pad = bytes(sample_size - 4)
    return b"".join(bytes(s) + pad for s in samples)


def valid_heart_rate(hr: int) -> bool:
    return HR_VALID_MIN <= hr <= HR_VALID_MAX


def heart_rate_rows(samples: Sequence[Sample]) -> list[tuple[int, int]]:
    """(t_ms, bpm) of the minutes where the band measured heart rate."""
    return [(s.t_ms, s.hr) for s in samples if valid_heart_rate(s.hr)]


def fill_kinds(samples: Sequence[Sample], previous: int | None = None) -> list[int]:
    """Kind & 0x0F per minute, with 0 (no change) and 10 (ignore) replaced by the previous valid kind."""
    out: list[int] = []
    last = previous
    for s in samples:
        kind = s.kind & 0x0F
        if kind in _FILLED:
            kind = last if last is not None else kind
        else:
            last = kind
        out.append(kind)
    return out


def sleep_rows(samples: Sequence[Sample], previous_kind: int | None = None) -> list[tuple[int, int, str]]:
    """(start_ms, end_ms, stage) runs: light (9) and deep (11); a stretch of other minutes of at most
    `AWAKE_GAP_MAX_MIN` between sleep minutes is `awake` (woken in the night). Samples must be consecutive
    minutes. No REM: these bands do not report it."""
    kinds = fill_kinds(samples, previous_kind)
    stages: list[str | None] = []
    for k in kinds:
        stages.append("light" if k == KIND_LIGHT_SLEEP else "deep" if k == KIND_DEEP_SLEEP else None)
    asleep = [i for i, st in enumerate(stages) if st is not None]
    for a, b in zip(asleep, asleep[1:], strict=False):
        if 1 < b - a <= AWAKE_GAP_MAX_MIN + 1:
            for i in range(a + 1, b):
                stages[i] = "awake"
    rows: list[tuple[int, int, str]] = []
    run_start = 0
    for i in range(1, len(stages) + 1):
        if i == len(stages) or stages[i] != stages[run_start]:
            if stages[run_start] is not None:
                rows.append((samples[run_start].t_ms, samples[i - 1].t_ms + MINUTE_MS, str(stages[run_start])))
            run_start = i
    return rows
