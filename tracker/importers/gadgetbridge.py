"""Gadgetbridge database import: every device in the file (or one, by name), each family by its own tables.

The file is the SQLite database Gadgetbridge writes with "Export database" or "Auto export"; it is opened
read-only and never changed. Tables and columns are greenDAO's (GBDaoGenerator.java: camelCase properties
become UPPER_SNAKE columns). Units differ per table and are applied here: activity samples are stamped in
Unix seconds, "time samples" in milliseconds. Read-time rules per family live in gb_rules. A sample table
we do not read, and a device with data only in such tables, is named in the result as skipped, never guessed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy.orm as so

from tracker.clock import Clock
from tracker.errors import UserError
from tracker.importers import gb_rules as rules
from tracker.importers.common import Counter, DeviceRecord, Outcome, finish_run, record_device, start_run
from tracker.ingest import Ingest, IngestCounts, Provenance, write_metrics
from tracker.model import MetricKind, Source

SQLITE_MAGIC = b"SQLite format 3\x00"
KIND = "gadgetbridge"


@dataclass(frozen=True, slots=True)
class GbDevice:
    id: int
    name: str
    manufacturer: str
    identifier: str  # the MAC address
    type_name: str  # Gadgetbridge's DeviceType, e.g. MIBAND5, COLMI_R02, GARMIN_VENU_3
    model: str | None
    alias: str | None

    @property
    def label(self) -> str:
        return self.alias or self.name


@dataclass(frozen=True, slots=True)
class Reader:
    """One stream from one table: `stream` is hr | rr | sleep | metric; `read` yields rows ready to store."""

    table: str
    family: str  # our name for the Gadgetbridge family this table belongs to
    stream: str
    read: Callable[[sqlite3.Connection, GbDevice], Iterator[tuple]]  # type: ignore[type-arg]
    also_reads: tuple[str, ...] = ()  # other tables the rule consults (optional ones included)


def _q(conn: sqlite3.Connection, sql: str, dev: GbDevice) -> sqlite3.Cursor:
    return conn.execute(sql, (dev.id,))  # a cursor iterates lazily: rows are never all in memory


def _is_miband1(dev: GbDevice) -> bool:
    return dev.type_name == "MIBAND"  # Mi Band 1 shares the table but not the kind map


def _huami_hr(conn: sqlite3.Connection, dev: GbDevice) -> Iterator[tuple[int, int]]:
    rows = _q(conn, "SELECT TIMESTAMP, RAW_KIND, HEART_RATE FROM MI_BAND_ACTIVITY_SAMPLE WHERE DEVICE_ID = ? "
                    "ORDER BY TIMESTAMP", dev)  # fmt: skip
    if _is_miband1(dev):
        return rules.worn_heart_rate(rows, rules.MIBAND1_NOT_WORN)
    return rules.worn_heart_rate(rules.huami_classic_kinds(rows), rules.HUAMI_NOT_WORN)


def _huami_sleep(conn: sqlite3.Connection, dev: GbDevice) -> Iterator[tuple[int, int, str]]:
    rows = _q(conn, "SELECT TIMESTAMP, RAW_KIND FROM MI_BAND_ACTIVITY_SAMPLE WHERE DEVICE_ID = ? ORDER BY TIMESTAMP", dev)
    stages = rules.miband1_stages(rows) if _is_miband1(dev) else rules.huami_classic_stages(rows)
    return rules.minute_spans(stages)


def _zepp_hr(conn: sqlite3.Connection, dev: GbDevice) -> Iterator[tuple[int, int]]:
    rows = _q(conn, "SELECT TIMESTAMP, RAW_KIND, HEART_RATE FROM HUAMI_EXTENDED_ACTIVITY_SAMPLE WHERE DEVICE_ID = ? "
                    "ORDER BY TIMESTAMP", dev)  # fmt: skip
    return rules.worn_heart_rate(rows, rules.ZEPP_NOT_WORN)


def _zepp_sleep(conn: sqlite3.Connection, dev: GbDevice) -> Iterator[tuple[int, int, str]]:
    rows = _q(conn, "SELECT TIMESTAMP, RAW_KIND, DEEP_SLEEP, REM_SLEEP FROM HUAMI_EXTENDED_ACTIVITY_SAMPLE "
                    "WHERE DEVICE_ID = ? ORDER BY TIMESTAMP", dev)  # fmt: skip
    return rules.minute_spans(rules.zepp_stages(rows))


def _plain_hr(table: str, seconds: bool, not_measured: tuple[int, ...] = ()) -> Callable[..., Iterator[tuple[int, int]]]:
    def read(conn: sqlite3.Connection, dev: GbDevice) -> Iterator[tuple[int, int]]:
        rows = _q(conn, f"SELECT TIMESTAMP, HEART_RATE FROM {table} WHERE DEVICE_ID = ? ORDER BY TIMESTAMP", dev)
        return rules.heart_rate(rows, 1000 if seconds else 1)

    return read


def _metric(table: str, column: str, kind: MetricKind) -> Callable[..., Iterator[tuple[int, str, float]]]:
    def read(conn: sqlite3.Connection, dev: GbDevice) -> Iterator[tuple[int, str, float]]:
        for t_ms, value in _q(conn, f"SELECT TIMESTAMP, {column} FROM {table} WHERE DEVICE_ID = ? ORDER BY TIMESTAMP", dev):
            if value is not None and value > 0 and (kind != MetricKind.RESTING_HR_BPM or rules.valid_bpm(value)):
                yield t_ms, str(kind), float(value)

    return read


def _xiaomi_sleep(conn: sqlite3.Connection, dev: GbDevice) -> Iterator[tuple[int, int, str]]:
    nights = _q(conn, "SELECT TIMESTAMP, WAKEUP_TIME FROM XIAOMI_SLEEP_TIME_SAMPLE WHERE DEVICE_ID = ? ORDER BY TIMESTAMP", dev)
    if _has_table(conn, "XIAOMI_SLEEP_STAGE_SAMPLE"):
        stages = _q(conn, "SELECT TIMESTAMP, STAGE FROM XIAOMI_SLEEP_STAGE_SAMPLE WHERE DEVICE_ID = ? ORDER BY TIMESTAMP", dev)
    else:
        stages = iter(())  # type: ignore[assignment]
    return rules.xiaomi_sleep(nights, stages)


def _xiaomi_rr(conn: sqlite3.Connection, dev: GbDevice) -> Iterator[tuple[int, float]]:
    beats = _q(conn, "SELECT TIMESTAMP FROM HEART_PULSE_SAMPLE WHERE DEVICE_ID = ? ORDER BY TIMESTAMP", dev)
    return rules.pulses_to_rr(t for (t,) in beats)


def _colmi_sleep(conn: sqlite3.Connection, dev: GbDevice) -> Iterator[tuple[int, int, str]]:
    rows = _q(conn, "SELECT TIMESTAMP, DURATION, STAGE FROM COLMI_SLEEP_STAGE_SAMPLE WHERE DEVICE_ID = ? ORDER BY TIMESTAMP", dev)
    return rules.colmi_sleep(rows)


def _garmin_sleep(conn: sqlite3.Connection, dev: GbDevice) -> Iterator[tuple[int, int, str]]:
    if _has_table(conn, "GARMIN_EVENT_SAMPLE"):
        starts = (t for (t,) in conn.execute(
            "SELECT TIMESTAMP FROM GARMIN_EVENT_SAMPLE WHERE DEVICE_ID = ? AND EVENT = ? AND EVENT_TYPE = ? "
            "ORDER BY TIMESTAMP", (dev.id, rules.GARMIN_SLEEP_EVENT, rules.GARMIN_EVENT_START)))  # fmt: skip
    else:
        starts = iter(())
    stages = _q(conn, "SELECT TIMESTAMP, STAGE FROM GARMIN_SLEEP_STAGE_SAMPLE WHERE DEVICE_ID = ? ORDER BY TIMESTAMP", dev)
    return rules.garmin_sleep(starts, stages)


READERS: tuple[Reader, ...] = (
    Reader("MI_BAND_ACTIVITY_SAMPLE", "gb-huami", "hr", _huami_hr),
    Reader("MI_BAND_ACTIVITY_SAMPLE", "gb-huami", "sleep", _huami_sleep),
    Reader("HUAMI_EXTENDED_ACTIVITY_SAMPLE", "gb-zepp-os", "hr", _zepp_hr),
    Reader("HUAMI_EXTENDED_ACTIVITY_SAMPLE", "gb-zepp-os", "sleep", _zepp_sleep),
    Reader("HUAMI_HEART_RATE_MANUAL_SAMPLE", "gb-zepp-os", "hr", _plain_hr("HUAMI_HEART_RATE_MANUAL_SAMPLE", False)),
    Reader("HUAMI_HEART_RATE_RESTING_SAMPLE", "gb-zepp-os", "metric",
           _metric("HUAMI_HEART_RATE_RESTING_SAMPLE", "HEART_RATE", MetricKind.RESTING_HR_BPM)),
    Reader("XIAOMI_ACTIVITY_SAMPLE", "gb-xiaomi", "hr", _plain_hr("XIAOMI_ACTIVITY_SAMPLE", True)),
    Reader("XIAOMI_SLEEP_TIME_SAMPLE", "gb-xiaomi", "sleep", _xiaomi_sleep, ("XIAOMI_SLEEP_STAGE_SAMPLE",)),
    Reader("HEART_PULSE_SAMPLE", "gb-xiaomi", "rr", _xiaomi_rr),
    Reader("COLMI_HEART_RATE_SAMPLE", "gb-colmi", "hr", _plain_hr("COLMI_HEART_RATE_SAMPLE", False)),
    Reader("COLMI_SLEEP_STAGE_SAMPLE", "gb-colmi", "sleep", _colmi_sleep, ("COLMI_SLEEP_SESSION_SAMPLE",)),
    # The ring's own HRV (30-minute values, method unpublished): the same kind our Bluetooth sync stores.
    Reader("COLMI_HRV_VALUE_SAMPLE", "gb-colmi", "metric",
           _metric("COLMI_HRV_VALUE_SAMPLE", "VALUE", MetricKind.DEVICE_HRV_MS)),
    Reader("GARMIN_ACTIVITY_SAMPLE", "gb-garmin", "hr", _plain_hr("GARMIN_ACTIVITY_SAMPLE", True)),
    Reader("GARMIN_SLEEP_STAGE_SAMPLE", "gb-garmin", "sleep", _garmin_sleep, ("GARMIN_EVENT_SAMPLE",)),
    Reader("GARMIN_HEART_RATE_RESTING_SAMPLE", "gb-garmin", "metric",
           _metric("GARMIN_HEART_RATE_RESTING_SAMPLE", "HEART_RATE", MetricKind.RESTING_HR_BPM)),
    # Garmin's overnight HRV values are its own RMSSD estimate (5-minute values); kept as the device's, not ours.
    Reader("GARMIN_HRV_VALUE_SAMPLE", "gb-garmin", "metric", _metric("GARMIN_HRV_VALUE_SAMPLE", "VALUE", MetricKind.RMSSD_MS)),
    Reader("PINE_TIME_ACTIVITY_SAMPLE", "gb-pinetime", "hr", _plain_hr("PINE_TIME_ACTIVITY_SAMPLE", True)),
    Reader("BANGLE_JS_ACTIVITY_SAMPLE", "gb-banglejs", "hr", _plain_hr("BANGLE_JS_ACTIVITY_SAMPLE", True)),
    Reader("HUAWEI_ACTIVITY_SAMPLE", "gb-huawei", "hr", _plain_hr("HUAWEI_ACTIVITY_SAMPLE", True)),
)  # fmt: skip
# Read, but only to bound or explain the tables above (their rows are not samples of their own).
CONSULTED = frozenset(t for r in READERS for t in r.also_reads)


def _has_table(conn: sqlite3.Connection, table: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone() is not None


def open_readonly(path: Path) -> sqlite3.Connection:
    """Open without any chance of writing (a synced export must stay exactly as the phone wrote it)."""
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        raise UserError(f"{path}: not a readable SQLite database ({exc})") from None
    return conn


def looks_like_gadgetbridge(path: Path) -> bool:
    """An SQLite file with Gadgetbridge's DEVICE table (IDENTIFIER, TYPE...)."""
    try:
        with path.open("rb") as fh:
            if fh.read(16) != SQLITE_MAGIC:
                return False
        conn = open_readonly(path)
    except (OSError, UserError):
        return False
    try:
        cols = {row[1] for row in conn.execute('PRAGMA table_info("DEVICE")')}
        return {"IDENTIFIER", "NAME", "MANUFACTURER"} <= cols
    finally:
        conn.close()


def list_devices(conn: sqlite3.Connection) -> list[GbDevice]:
    cols = {row[1] for row in conn.execute('PRAGMA table_info("DEVICE")')}
    type_col = "TYPE_NAME" if "TYPE_NAME" in cols else "CAST(TYPE AS TEXT)"  # TYPE_NAME came with schema ~60
    model_col = "MODEL" if "MODEL" in cols else "NULL"
    alias_col = "ALIAS" if "ALIAS" in cols else "NULL"
    sql = f"SELECT _id, NAME, MANUFACTURER, IDENTIFIER, {type_col}, {model_col}, {alias_col} FROM DEVICE ORDER BY _id"
    return [GbDevice(*row) for row in conn.execute(sql)]


class GadgetbridgeImporter:
    def __init__(self, sessionmaker: so.sessionmaker[so.Session], ingest: Ingest, clock: Clock) -> None:
        self._db = sessionmaker
        self._ingest = ingest
        self._clock = clock

    def import_file(self, person_id: int, path: Path, device_name: str | None = None) -> list[Outcome]:
        """One outcome per device imported (or skipped); the first carries the file's skipped tables."""
        conn = open_readonly(path)
        try:
            devices = list_devices(conn)
            if device_name is not None:
                wanted = device_name.strip().lower()
                devices = [d for d in devices if wanted in (d.label.lower(), d.name.lower(), d.identifier.lower())]
                if not devices:
                    names = ", ".join(d.label for d in list_devices(conn)) or "none"
                    raise UserError(f"{path}: no device named {device_name!r} in this Gadgetbridge file (devices: {names})")
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            outcomes = [self._import_device(conn, person_id, path, dev, tables) for dev in devices]
            skipped = self._skipped_tables(conn, tables)
            if not outcomes:
                outcomes.append(Outcome(str(path), KIND, error=f"{path}: no devices in this Gadgetbridge file"))
            if skipped:
                outcomes[0].notes.append("tables not imported: " + ", ".join(skipped))
            return outcomes
        finally:
            conn.close()

    def _skipped_tables(self, conn: sqlite3.Connection, tables: set[str]) -> list[str]:
        used = {r.table for r in READERS} | CONSULTED
        out = []
        for table in sorted(tables):
            if not table.endswith("_SAMPLE") or table in used:
                continue
            n = conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            if n:
                out.append(f"{table} ({n} rows)")
        return out

    def _import_device(self, conn: sqlite3.Connection, person_id: int, path: Path, dev: GbDevice,
                       tables: set[str]) -> Outcome:  # fmt: skip
        display = f"{path.name} [{dev.label}]"
        readers = [r for r in READERS if r.table in tables and _has_rows(conn, r.table, dev)]
        outcome = Outcome(display, KIND)
        if not readers:
            outcome.notes.append(f"skipped: {dev.type_name} has no data in a table this program reads")
            return outcome
        family = readers[0].family if not _is_miband1(dev) else "gb-miband1"
        rec = DeviceRecord(address=dev.identifier, name=dev.label, family=family, manufacturer=dev.manufacturer,
                           model=dev.model or dev.type_name)  # fmt: skip
        try:
            device_id = record_device(self._db, self._clock, person_id, rec)
        except UserError as exc:
            outcome.error = f"{display}: {exc}"
            return outcome
        run_id = start_run(self._db, self._clock, person_id, device_id, f"{path} [{dev.label}]")
        outcome.run_id = run_id
        prov = Provenance(person_id, Source.IMPORT, device_id, run_id)
        counts = IngestCounts()
        reader = readers[0]
        try:
            # One transaction per device: its rows stream into stages and are merged (with its device
            # metrics) only when every table has been read, so a damaged table stores nothing of the device.
            with self._db.begin() as db, self._ingest.staged(db) as batch:
                for reader in readers:
                    rows = Counter(reader.read(conn, dev))
                    if reader.stream == "hr":
                        batch.heart_rate(rows, prov)
                    elif reader.stream == "rr":
                        batch.rr(rows, prov)
                    elif reader.stream == "sleep":
                        batch.sleep(rows, prov)
                    else:
                        outcome.inserted += write_metrics(db, rows, prov)
                    outcome.rows += rows.n
                    outcome.notes.append(f"{reader.table}: {rows.n} {reader.stream}")
            counts = batch.counts
        except (sqlite3.DatabaseError, ValueError, TypeError) as exc:  # a damaged file, garbled rows or a schema
            # we do not know: the transaction is rolled back, nothing of this device is stored
            outcome.error = f"{display}: cannot read {reader.table}: {exc}; nothing of this device was stored"
            outcome.inserted = 0
        except Exception as exc:  # a bug, not the file: still close the run (as failed, nothing stored)
            outcome.error, outcome.inserted = f"{display}: {exc}; nothing of this device was stored", 0
            finish_run(self._db, self._clock, run_id, IngestCounts(), outcome)
            raise
        outcome.inserted += counts.heart_rate + counts.rr + counts.sleep
        finish_run(self._db, self._clock, run_id, counts, outcome)
        return outcome


def _has_rows(conn: sqlite3.Connection, table: str, dev: GbDevice) -> bool:
    return conn.execute(f'SELECT 1 FROM "{table}" WHERE DEVICE_ID = ? LIMIT 1', (dev.id,)).fetchone() is not None
