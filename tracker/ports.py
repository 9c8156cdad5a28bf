"""Interfaces the core defines and the outer layers implement (plugged in by the composition root).

`CollectorPort` is implemented by device/ (Bluetooth); `JobPort` by the APScheduler wiring in tracker/cli.
The web layer reaches devices only through these, never by importing device/.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class ScanResult:
    address: str
    name: str | None
    rssi: int | None
    family: str | None  # "hrs" | "colmi" | "huami" | None (not a supported device)
    services: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"address": self.address, "name": self.name, "rssi": self.rssi, "family": self.family}


@dataclass(frozen=True, slots=True)
class CaptureOutcome:
    """What a live capture got: status is a model.CaptureStatus value."""

    capture_id: int
    status: str
    beats: int = 0
    heart_rate: int = 0
    artifact_pct: float | None = None
    missing_s: float | None = None
    malformed: int = 0
    message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "capture_id": self.capture_id, "status": self.status, "beats": self.beats,
            "heart_rate": self.heart_rate, "artifact_pct": self.artifact_pct, "missing_s": self.missing_s,
            "malformed": self.malformed, "message": self.message,
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class SyncOutcome:
    run_id: int
    device_id: int
    status: str  # model.RunStatus value
    heart_rate: int = 0
    rr: int = 0
    sleep: int = 0
    malformed: int = 0
    unavailable: tuple[str, ...] = field(default=())
    error: str | None = None
    device_hrv: int = 0  # HRV values the device computed itself (device_metric), never mixed with RR-derived HRV

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id, "device_id": self.device_id, "status": self.status,
            "heart_rate": self.heart_rate, "rr": self.rr, "sleep": self.sleep, "malformed": self.malformed,
            "unavailable": list(self.unavailable), "error": self.error, "device_hrv": self.device_hrv,
        }  # fmt: skip


class CollectorPort(Protocol):
    """Bluetooth work, callable from any thread; each call blocks until done or its timeout."""

    def scan(self, seconds: float) -> list[ScanResult]: ...

    def pair(self, address: str, person_id: int, auth_key: bytes | None = None) -> int:
        """Connect, read device information and battery, store the device; return its id. `auth_key`: a
        band's 16-byte key (Huami), checked with the band and stored for later syncs."""
        ...

    def capture(self, device_id: int, seconds: float, capture_id: int) -> CaptureOutcome: ...

    def sync(self, device_id: int) -> SyncOutcome: ...


@dataclass(frozen=True, slots=True)
class JobInfo:
    id: str
    what: str
    next_run_ms: int | None
    session_id: int | None = None
    device_id: int | None = None


class JobPort(Protocol):
    """Schedules the plain job functions of tracker.jobs; implemented over APScheduler by the CLI."""

    def at(self, job_id: str, run_at_ms: int, func: str, **kwargs: Any) -> None:
        """Run `tracker.jobs.<func>(**kwargs)` once at `run_at_ms` (replacing a job with the same id)."""
        ...

    def every(self, job_id: str, interval_s: float, jitter_s: float, func: str, **kwargs: Any) -> None: ...

    def daily(self, job_id: str, hhmm: str, func: str, **kwargs: Any) -> None:
        """Run every day at local time `hhmm` of the server."""
        ...

    def remove(self, job_id: str) -> None: ...

    def jobs(self) -> list[JobInfo]: ...
