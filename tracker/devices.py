"""Paired devices, the runs (syncs, captures, imports) that wrote data, and capture windows' results.

The collector (device/) records everything through this service; the web and CLI read it. Calls that
need the radio (scan, pair, capture, sync) go through `tracker.ports.CollectorPort`, plugged in by the
composition root, so the web never imports device/.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from tracker.clock import Clock
from tracker.errors import Conflict, NotFound, UserError
from tracker.model import CaptureStatus, RunKind, RunStatus
from tracker.ports import CollectorPort
from tracker.storage.models import Capture, Device, MassageSession, Person, Run
from tracker.timefmt import format_local

# Column widths of the device strings a radio reports (tracker.storage.models.Device). A device may
# advertise anything: longer text is cut to fit rather than failing the pairing on PostgreSQL.
DEVICE_TEXT_LIMITS = {"name": 120, "family": 32, "manufacturer": 120, "model": 120, "serial": 120, "firmware": 120}

MAX_ADDRESS = 64


def check_address(address: str) -> str:
    """A Bluetooth address (or a platform's device UUID) as typed: non-empty, at most 64 characters."""
    address = address.strip()
    if not address or len(address) > MAX_ADDRESS or not address.isprintable():
        raise UserError(f"a device address is 1-{MAX_ADDRESS} printable characters (from a scan)")
    return address


def clip_text(value: Any, limit: int) -> Any:
    """`value` cut to `limit` characters (an ellipsis marks the cut); non-strings unchanged."""
    if not isinstance(value, str):
        return value
    value = value.replace("\x00", "")  # PostgreSQL text cannot hold NUL
    return value if len(value) <= limit else value[: limit - 1] + "…"


AUTH_KEY_BYTES = 16


def parse_auth_key(text: str | None) -> bytes | None:
    """A band's 16-byte auth key from 32 hex digits (optionally `0x`-prefixed, as Gadgetbridge shows it);
    None for an empty field. The message never repeats what was typed: it is a secret."""
    if text is None or not text.strip():
        return None
    digits = text.strip().lower().removeprefix("0x")
    try:
        key = bytes.fromhex(digits)
    except ValueError:
        raise UserError("the auth key must be 32 hexadecimal digits") from None
    if len(key) != AUTH_KEY_BYTES:
        raise UserError(f"the auth key must be 32 hexadecimal digits (got {len(digits)})")
    return key


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    id: int
    person_id: int | None
    person_name: str | None
    address: str
    name: str
    family: str
    manufacturer: str | None
    model: str | None
    serial: str | None
    firmware: str | None
    battery_pct: int | None
    battery_ms: int | None
    paired: bool
    last_sync_ms: int | None
    last_sync_status: str | None
    sync_interval_min: int | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "person": self.person_name, "address": self.address, "name": self.name,
            "family": self.family, "manufacturer": self.manufacturer, "model": self.model,
            "serial": self.serial, "firmware": self.firmware, "battery_pct": self.battery_pct,
            "paired": self.paired,
            "last_sync": None if self.last_sync_ms is None else format_local(self.last_sync_ms, "UTC"),
            "last_sync_status": self.last_sync_status, "sync_interval_min": self.sync_interval_min,
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class RunInfo:
    id: int
    kind: str
    device_id: int | None
    device_name: str | None
    started_ms: int
    ended_ms: int | None
    status: str
    heart_rate: int
    rr: int
    sleep: int
    sessions: int
    malformed: int
    detail: str | None
    error: str | None
    origin: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "kind": self.kind, "device": self.device_name,
            "started": format_local(self.started_ms, "UTC"),
            "ended": None if self.ended_ms is None else format_local(self.ended_ms, "UTC"),
            "status": self.status, "heart_rate": self.heart_rate, "rr": self.rr, "sleep": self.sleep,
            "sessions": self.sessions, "malformed": self.malformed, "detail": self.detail,
            "error": self.error, "origin": self.origin,
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class CaptureInfo:
    id: int
    person_id: int
    device_id: int | None
    session_id: int | None
    phase: str
    planned_start_ms: int
    planned_end_ms: int
    started_ms: int | None
    ended_ms: int | None
    status: str
    message: str | None
    beats: int | None
    artifact_pct: float | None
    missing_s: float | None

    def to_dict(self, tz: str = "UTC") -> dict[str, Any]:
        return {
            "id": self.id, "session_id": self.session_id, "phase": self.phase, "status": self.status,
            "planned_start": format_local(self.planned_start_ms, tz),
            "planned_end": format_local(self.planned_end_ms, tz), "message": self.message,
            "beats": self.beats, "artifact_pct": self.artifact_pct, "missing_s": self.missing_s,
        }  # fmt: skip


def _device_info(d: Device, person: Person | None) -> DeviceInfo:
    return DeviceInfo(
        d.id, d.person_id, person.name if person else None, d.address, d.name, d.family, d.manufacturer,
        d.model, d.serial, d.firmware, d.battery_pct, d.battery_ms, d.unpaired_ms is None, d.last_sync_ms,
        d.last_sync_status, d.sync_interval_min,
    )  # fmt: skip


def _capture_info(c: Capture) -> CaptureInfo:
    return CaptureInfo(
        c.id, c.person_id, c.device_id, c.session_id, c.phase, c.planned_start_ms, c.planned_end_ms,
        c.started_ms, c.ended_ms, c.status, c.message, c.beats, c.artifact_pct, c.missing_s,
    )  # fmt: skip


class Devices:
    """Device registry, runs and captures; also the doorway to the collector for the web and CLI."""

    def __init__(self, sessionmaker: so.sessionmaker[so.Session], clock: Clock) -> None:
        self._db = sessionmaker
        self._clock = clock
        self.collector: CollectorPort | None = None  # plugged in by the composition root
        self.listeners: list[Callable[[DeviceInfo, str], None]] = []  # (device, "paired" | "unpaired")

    def _notify(self, info: DeviceInfo, what: str) -> None:
        for listener in self.listeners:
            listener(info, what)

    def require_collector(self) -> CollectorPort:
        if self.collector is None:
            raise UserError("Bluetooth is not available in this process (start `tracker run`)")
        return self.collector

    # -- devices --------------------------------------------------------------------------------

    @staticmethod
    def _by_address(db: so.Session, address: str) -> Device | None:
        # Addresses are compared case-blind: "c4:7c:..." typed by hand is the same radio as "C4:7C:...".
        return db.scalar(sa.select(Device).where(sa.func.upper(Device.address) == address.strip().upper()))

    @staticmethod
    def _refuse_other_account(db: so.Session, dev: Device | None, person_id: int) -> None:
        """Conflict when `dev` is paired to a person of another account than `person_id`'s.

        The address is a global key: without this check, anyone who can pair could take over a device
        paired in another account, and its next sync would store that wearer's data in their account.
        A device its owner unpaired may be paired elsewhere (it was sold or lent); the sync cursors stay,
        so history already synced for the previous wearer is not pulled again into the new account.
        """
        if dev is None or dev.unpaired_ms is not None or dev.person_id is None:
            return
        holder = db.get(Person, dev.person_id)
        wanted = db.get(Person, person_id)
        if wanted is None:
            raise NotFound(f"no person {person_id}")
        if holder is not None and holder.user_id != wanted.user_id:
            raise Conflict(
                f"{dev.address} is paired in another account; its owner must unpair it before it can be paired here"
            )

    def check_pairable(self, address: str, person_id: int) -> None:
        """Raise Conflict before any radio work when `address` is paired in another account."""
        with self._db() as db:
            self._refuse_other_account(db, self._by_address(db, check_address(address)), person_id)

    def upsert(self, address: str, person_id: int, **fields: Any) -> DeviceInfo:
        """Store a newly paired device, or re-pair a known address (keeps its id and its history).

        Refused (Conflict) when the address is paired to a person of another account.
        """
        address = check_address(address)
        now_ms = self._clock.now_ms()
        fields = {k: clip_text(v, DEVICE_TEXT_LIMITS[k]) if k in DEVICE_TEXT_LIMITS else v for k, v in fields.items()}
        with self._db.begin() as db:
            dev = self._by_address(db, address)
            self._refuse_other_account(db, dev, person_id)
            if dev is None:
                dev = Device(address=address, paired_ms=now_ms, person_id=person_id, name=fields.pop("name", address),
                             family=fields.pop("family", "hrs"))  # fmt: skip
                db.add(dev)
            dev.person_id = person_id
            dev.unpaired_ms = None
            dev.paired_ms = now_ms
            for key, value in fields.items():
                setattr(dev, key, value)
            db.flush()
            info = _device_info(dev, db.get(Person, person_id))
        self._notify(info, "paired")
        return info

    def list(self, user_id: int | None = None, *, include_unpaired: bool = False) -> list[DeviceInfo]:
        with self._db() as db:
            stmt = sa.select(Device, Person).outerjoin(Person, Device.person_id == Person.id).order_by(Device.id)
            if user_id is not None:
                stmt = stmt.where(Person.user_id == user_id)
            if not include_unpaired:
                stmt = stmt.where(Device.unpaired_ms.is_(None))
            return [_device_info(d, p) for d, p in db.execute(stmt)]

    def get(self, ref: str | int, user_id: int | None = None) -> DeviceInfo:
        """A device by id, name or address (as the CLI's DEVICE argument)."""
        with self._db() as db:
            stmt = sa.select(Device, Person).outerjoin(Person, Device.person_id == Person.id)
            text = str(ref)
            cond = [Device.name == text, Device.address == text.upper(), Device.address == text]
            if text.isdigit():
                cond.append(Device.id == int(text))
            rows = db.execute(stmt.where(sa.or_(*cond)).order_by(Device.unpaired_ms.is_not(None), Device.id)).all()
            rows = [r for r in rows if user_id is None or (r[1] is not None and r[1].user_id == user_id)]
            if not rows:
                raise NotFound(f"no device {text!r}")
            return _device_info(*rows[0])

    def unpair(self, ref: str | int, user_id: int | None = None) -> DeviceInfo:
        info = self.get(ref, user_id)
        with self._db.begin() as db:
            dev = db.get(Device, info.id)
            assert dev is not None
            dev.unpaired_ms = self._clock.now_ms()
        info = self.get(info.id)
        self._notify(info, "unpaired")
        return info

    def auth_key(self, device_id: int) -> bytes | None:
        """A band's stored auth key, for the collector only (never shown, exported or sent by the API)."""
        with self._db() as db:
            dev = db.get(Device, device_id)
            return None if dev is None or not dev.auth_key else bytes.fromhex(dev.auth_key)

    def set_battery(self, device_id: int, battery_pct: int) -> None:
        with self._db.begin() as db:
            dev = db.get(Device, device_id)
            if dev is not None:
                dev.battery_pct, dev.battery_ms = battery_pct, self._clock.now_ms()

    # -- runs -----------------------------------------------------------------------------------

    def start_run(self, kind: RunKind, device_id: int | None, person_id: int | None, origin: str | None = None) -> int:
        with self._db.begin() as db:
            run = Run(kind=str(kind), device_id=device_id, person_id=person_id, started_ms=self._clock.now_ms(),
                      status=str(RunStatus.RUNNING), origin=origin)  # fmt: skip
            db.add(run)
            db.flush()
            return run.id

    def finish_run(self, run_id: int, status: RunStatus, **fields: Any) -> None:
        """Close a run with its counts (heart_rate_count, rr_count, ..., detail, error)."""
        now_ms = self._clock.now_ms()
        with self._db.begin() as db:
            run = db.get(Run, run_id)
            assert run is not None
            run.status, run.ended_ms = str(status), now_ms
            for key, value in fields.items():
                setattr(run, key, value)
            if run.kind == RunKind.SYNC and run.device_id is not None:
                dev = db.get(Device, run.device_id)
                if dev is not None:
                    dev.last_sync_ms, dev.last_sync_status = now_ms, str(status)

    def last_errors(self, device_ids: list[int]) -> dict[int, tuple[int, str]]:
        """Per device: (started_ms, error) of its most recent failed run; devices that never failed are absent."""
        if not device_ids:
            return {}
        with self._db() as db:
            stmt = (
                sa.select(Run.device_id, Run.started_ms, Run.error)
                .where(Run.device_id.in_(device_ids), Run.status == str(RunStatus.FAILED))
                .order_by(Run.device_id, Run.started_ms.desc(), Run.id.desc())
            )
            out: dict[int, tuple[int, str]] = {}
            for device_id, started_ms, error in db.execute(stmt):
                out.setdefault(device_id, (started_ms, error or "failed (no message)"))
            return out

    def bluetooth_problem(self) -> str | None:
        """Why Bluetooth is not working in this process (runtime down or reopening a lost transport), or None.

        None also when this process has no collector (the web then says Bluetooth runs in `tracker run`)."""
        problem = getattr(self.collector, "problem", None)
        return problem() if callable(problem) else None

    def runs(self, limit: int = 20, user_id: int | None = None, device_id: int | None = None) -> list[RunInfo]:
        with self._db() as db:
            stmt = sa.select(Run, Device.name).outerjoin(Device, Run.device_id == Device.id)
            if user_id is not None:
                stmt = stmt.join(Person, Run.person_id == Person.id).where(Person.user_id == user_id)
            if device_id is not None:
                stmt = stmt.where(Run.device_id == device_id)
            stmt = stmt.order_by(Run.started_ms.desc(), Run.id.desc()).limit(limit)
            return [
                RunInfo(r.id, r.kind, r.device_id, name, r.started_ms, r.ended_ms, r.status, r.heart_rate_count,
                        r.rr_count, r.sleep_count, r.session_count, r.malformed_count, r.detail, r.error, r.origin)  # fmt: skip
                for r, name in db.execute(stmt)
            ]

    # -- captures -------------------------------------------------------------------------------

    def new_capture(self, person_id: int, device_id: int, start_ms: int, end_ms: int,
                    session_id: int | None = None, phase: str = "adhoc") -> int:  # fmt: skip
        """An ad-hoc capture row (session captures are created by the planner)."""
        if session_id is not None:
            with self._db() as db:
                s = db.get(MassageSession, session_id)
                if s is None or s.person_id != person_id:
                    raise NotFound(f"no session {session_id} for this device's person")
        with self._db.begin() as db:
            row = Capture(person_id=person_id, device_id=device_id, session_id=session_id, phase=phase,
                          planned_start_ms=start_ms, planned_end_ms=end_ms, status=str(CaptureStatus.PLANNED))  # fmt: skip
            db.add(row)
            db.flush()
            return row.id

    def capture(self, capture_id: int) -> CaptureInfo:
        with self._db() as db:
            row = db.get(Capture, capture_id)
            if row is None:
                raise NotFound(f"no capture {capture_id}")
            return _capture_info(row)

    def update_capture(self, capture_id: int, **fields: Any) -> CaptureInfo:
        with self._db.begin() as db:
            row = db.get(Capture, capture_id)
            if row is None:
                raise NotFound(f"no capture {capture_id}")
            for key, value in fields.items():
                setattr(row, key, value)
            return _capture_info(row)

    def captures(self, *, session_id: int | None = None, person_id: int | None = None) -> list[CaptureInfo]:
        with self._db() as db:
            stmt = sa.select(Capture).order_by(Capture.planned_start_ms, Capture.id)
            if session_id is not None:
                stmt = stmt.where(Capture.session_id == session_id)
            if person_id is not None:
                stmt = stmt.where(Capture.person_id == person_id)
            return [_capture_info(c) for c in db.scalars(stmt)]
