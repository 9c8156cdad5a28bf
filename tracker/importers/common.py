"""What every importer shares: the result of one file, the devices an import records, runs, device metrics.

An imported device is recorded as a device of the person (so every sample keeps its provenance) but is not
paired with this program: it is stored with `unpaired_ms` set, so no Bluetooth sync job is ever planned for
it. If the same address is already paired here (e.g. a Colmi ring also synced over Bluetooth), that device is
reused as it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import sqlalchemy as sa
import sqlalchemy.orm as so

from tracker.clock import Clock
from tracker.errors import UserError
from tracker.ingest import IngestCounts
from tracker.model import RunKind, RunStatus
from tracker.storage.models import Device, Run


@dataclass
class Outcome:
    """One imported file (or one device of a multi-device file): the Data page and the CLI print it."""

    path: str
    kind: str  # the recognised format, e.g. "gadgetbridge", "apple-health", "fit"
    rows: int = 0  # samples read that map to something we store
    inserted: int = 0  # of those, new in the database
    error: str | None = None
    notes: list[str] = field(default_factory=list)  # skipped tables, ignored records, counted and named
    run_id: int | None = None

    @property
    def detail(self) -> str:
        return "; ".join(self.notes)


class Counter:
    """Wraps a row iterator and counts what passed through (rows read before the database saw them)."""

    def __init__(self, rows: Iterable[tuple]) -> None:  # type: ignore[type-arg]
        self._rows = rows
        self.n = 0

    def __iter__(self) -> Iterator[tuple]:  # type: ignore[type-arg]
        for row in self._rows:
            self.n += 1
            yield row


@dataclass(frozen=True, slots=True)
class DeviceRecord:
    address: str  # unique per device: a MAC from Gadgetbridge, "apple-health:<source>" for Apple, "fit:<serial>"
    name: str
    family: str  # e.g. "gb-huami", "gb-zepp-os", "apple-watch", "garmin-fit"
    manufacturer: str | None = None
    model: str | None = None
    serial: str | None = None


def record_device(db_maker: so.sessionmaker[so.Session], clock: Clock, person_id: int, rec: DeviceRecord) -> int:
    """The id of the device at `rec.address`, creating it (unpaired, owned by the person) when new."""
    with db_maker.begin() as db:
        return record_device_in(db, clock, person_id, rec)


def record_device_in(db: so.Session, clock: Clock, person_id: int, rec: DeviceRecord) -> int:
    """`record_device` inside a transaction the caller owns (an all-or-nothing import)."""
    dev = db.scalar(sa.select(Device).where(Device.address == rec.address[:64]))
    if dev is None:
        now_ms = clock.now_ms()
        dev = Device(
            address=rec.address[:64], name=rec.name[:120], family=rec.family[:32], person_id=person_id,
            manufacturer=rec.manufacturer, model=rec.model, serial=rec.serial, paired_ms=now_ms,
            unpaired_ms=now_ms,  # known for provenance, never synced over Bluetooth
        )  # fmt: skip
        db.add(dev)
        db.flush()
    elif dev.person_id is None:
        dev.person_id = person_id
    elif dev.person_id != person_id:
        raise UserError(f"device {dev.name} ({rec.address}) belongs to another person")
    return dev.id


def start_run(db_maker: so.sessionmaker[so.Session], clock: Clock, person_id: int, device_id: int | None,
              origin: str) -> int:  # fmt: skip
    with db_maker.begin() as db:
        run = Run(kind=str(RunKind.IMPORT), person_id=person_id, device_id=device_id, started_ms=clock.now_ms(),
                  status=str(RunStatus.RUNNING), origin=origin[-255:])  # fmt: skip
        db.add(run)
        db.flush()
        return run.id


def finish_run(db_maker: so.sessionmaker[so.Session], clock: Clock, run_id: int, counts: IngestCounts,
               outcome: Outcome) -> None:  # fmt: skip
    with db_maker.begin() as db:
        run = db.get(Run, run_id)
        assert run is not None
        run.ended_ms = clock.now_ms()
        run.status = str(RunStatus.FAILED if outcome.error else RunStatus.OK)
        run.error = outcome.error
        run.heart_rate_count, run.rr_count, run.sleep_count = counts.heart_rate, counts.rr, counts.sleep
        run.detail = outcome.detail or None
