"""CSV import and export of heart rate, RR intervals, sleep stages and sessions.

Formats (documented in the README): heart_rate.csv `timestamp,bpm`; rr_intervals.csv `timestamp,rr_ms`
(the beat that ends the interval); sleep_stages.csv `start,end,stage`; sessions.csv with the session
columns below; device_metrics.csv `timestamp,device,kind,value` (export only, see EXPORT_ONLY). Timestamps are ISO 8601 with an offset or Z; exports write the person's local time with its
offset. Import streams (tracker/csv_import.py): one bad row stops that file with `file:line: reason` and
nothing from it is stored; other files still import. Re-importing changes nothing (natural keys for
samples; identical sessions are recognised).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from tracker.clock import Clock
from tracker.csv_safety import escape_text, unescape_text
from tracker.errors import UserError
from tracker.ingest import Ingest
from tracker.model import SessionKind, SessionStatus
from tracker.people import PersonInfo
from tracker.sessions import SELF_REPORTS, SessionFields, Sessions, ValidationError, normalize_technique
from tracker.storage.models import Device, DeviceMetric, HeartRateRow, RRRow, SleepRow
from tracker.timefmt import format_local, local_date_bounds_ms, parse_iso_ms

EXPORT_BATCH = 20_000  # rows per fetch and per piece of streamed CSV
HEART_RATE_FILE = "heart_rate.csv"
RR_FILE = "rr_intervals.csv"
SLEEP_FILE = "sleep_stages.csv"
SESSIONS_FILE = "sessions.csv"
DEVICE_METRICS_FILE = "device_metrics.csv"
HEADERS: dict[str, tuple[str, ...]] = {
    HEART_RATE_FILE: ("timestamp", "bpm"),
    RR_FILE: ("timestamp", "rr_ms"),
    SLEEP_FILE: ("start", "end", "stage"),
    SESSIONS_FILE: (
        "start", "end", "kind", "technique", "pressure", "areas", "therapist",
        "pain_before", "pain_after", "stress_before", "stress_after", "mood_before", "mood_after", "notes",
    ),
}  # fmt: skip
# Export only: the numbers a device computed itself (Apple's SDNN, a ring's own HRV...), with the device that
# computed them. Not read back by the CSV import: each value belongs to the device that made it, and the
# device's own export (Gadgetbridge, Apple Health, FIT) or its next sync brings them back with that device.
EXPORT_ONLY: dict[str, tuple[str, ...]] = {DEVICE_METRICS_FILE: ("timestamp", "device", "kind", "value")}
EXPORT_HEADERS: dict[str, tuple[str, ...]] = {**HEADERS, **EXPORT_ONLY}


class RowError(UserError):
    """A bad row: `file:line: reason`."""

    def __init__(self, file: str, line: int, reason: str) -> None:
        self.file, self.line, self.reason = file, line, reason
        super().__init__(f"{file}:{line}: {reason}")


@dataclass(frozen=True, slots=True)
class FileResult:
    path: str
    kind: str  # which of the four files it was recognised as ("unknown" when not even that)
    rows: int = 0
    inserted: int = 0
    error: str | None = None
    run_id: int | None = None  # the import run (`tracker import --undo RUN` deletes what it stored)
    warning: str | None = None  # e.g. the data lie in the future


@dataclass(frozen=True, slots=True)
class ImportResult:
    files: tuple[FileResult, ...] = ()

    @property
    def ok(self) -> bool:
        return all(f.error is None for f in self.files)


def _format_number(value: float) -> str:
    """Shortest text that reads back as the same float; integers without a trailing .0."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _int_in(text: str, lo: int, hi: int, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{what} {text!r} is not an integer") from None
    if not lo <= value <= hi:
        raise ValueError(f"{what} {value} outside {lo}-{hi}")
    return value


def _optional_int(text: str, lo: int, hi: int, what: str) -> int | None:
    return None if not text.strip() else _int_in(text.strip(), lo, hi, what)


def _parse_session(row: dict[str, str]) -> SessionFields:
    start_ms, end_ms = parse_iso_ms(row["start"]), parse_iso_ms(row["end"])
    if end_ms <= start_ms:
        raise ValueError("end before start")
    kind = (row["kind"] or "massage").strip().lower()
    if kind not in tuple(SessionKind):
        raise ValueError(f"unknown kind {row['kind']!r} (massage or rest)")
    try:
        technique = normalize_technique(row["technique"])
    except ValidationError as exc:
        raise ValueError(exc.errors["technique"]) from None
    fields = SessionFields(
        start_ms=start_ms,
        end_ms=end_ms,
        kind=SessionKind(kind),
        technique=technique,
        pressure=_optional_int(row["pressure"], 1, 5, "pressure"),
        areas=tuple(a.strip() for a in unescape_text(row["areas"]).split(";") if a.strip()),
        therapist=unescape_text(row["therapist"]).strip() or None,
        notes=unescape_text(row["notes"]) or None,
        **{name: _optional_int(row[name], 0, 10, name) for name in SELF_REPORTS},
    )
    try:
        fields.validate()
    except ValidationError as exc:
        raise ValueError(str(exc)) from None
    return fields


@dataclass
class Interchange:
    """CSV import/export service."""

    sessionmaker: so.sessionmaker[so.Session]
    ingest: Ingest
    sessions: Sessions
    clock: Clock

    def import_text(self, person: PersonInfo, display: str, text: str) -> FileResult:
        """Import one CSV given as text; never raises for bad content (tracker.csv_import streams)."""
        return self.csv_importer().import_stream(person, display, io.BytesIO(text.encode("utf-8")))

    def import_paths(self, person: PersonInfo, paths: Sequence[Path]) -> ImportResult:
        """Import files or directories of CSV files; each file stands or falls alone."""
        return self.csv_importer().import_paths(person, paths)

    def csv_importer(self) -> Any:
        """The streaming CSV importer (tracker.csv_import.CsvImport) on this service's database."""
        from tracker.csv_import import CsvImport  # imports this module's formats

        return CsvImport(self.sessionmaker, self.ingest, self.sessions, self.clock)

    # -- export ---------------------------------------------------------------------------------

    def export_texts(
        self, person: PersonInfo, first: dt.date | None = None, last: dt.date | None = None
    ) -> dict[str, str]:
        """The export files as text (small exports and tests; the web and the CLI stream `export_chunks`)."""
        return {name: "".join(self.export_chunks(person, name, first, last)) for name in EXPORT_HEADERS}

    def export_chunks(
        self, person: PersonInfo, name: str, first: dt.date | None = None, last: dt.date | None = None
    ) -> Iterator[str]:
        """One export file as consecutive pieces of CSV text (rows fetched in batches: flat memory).

        Times are in the person's zone, optionally limited to local dates; free-text fields are formula-safe
        (tracker.csv_safety) and come back unchanged through `import_text`.
        """
        lo, hi = -(2**62), 2**62
        if first is not None or last is not None:
            lo_b, hi_b = local_date_bounds_ms(first or dt.date(1970, 1, 1), last or dt.date(9998, 12, 30), person.tz)
            lo, hi = (lo_b if first else lo), (hi_b if last else hi)
        tz = person.tz
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(EXPORT_HEADERS[name])

        def take() -> str:
            text = buf.getvalue()
            buf.seek(0)
            buf.truncate()
            return text

        if name == SESSIONS_FILE:
            statuses = (SessionStatus.PLANNED, SessionStatus.DONE)  # cancelled sessions are not exported
            for s in self.sessions.list(person.id, statuses=statuses, from_ms=None, to_ms=None):
                f = s.fields
                if not lo <= f.start_ms < hi:
                    continue
                w.writerow(
                    [
                        format_local(f.start_ms, tz), format_local(f.end_ms, tz), str(f.kind), f.technique or "",
                        "" if f.pressure is None else f.pressure, escape_text(";".join(f.areas)),
                        escape_text(f.therapist or ""),
                        *("" if getattr(f, n) is None else getattr(f, n) for n in SELF_REPORTS),
                        escape_text(f.notes or ""),
                    ]
                )  # fmt: skip
            yield take()
            return
        if name == HEART_RATE_FILE:
            q = (
                sa.select(HeartRateRow.t_ms, HeartRateRow.bpm)
                .where(HeartRateRow.person_id == person.id, HeartRateRow.t_ms >= lo, HeartRateRow.t_ms < hi)
                .order_by(HeartRateRow.t_ms)
            )
            fmt: Callable[[Any], Sequence[Any]] = lambda r: (format_local(r[0], tz), r[1])  # noqa: E731
        elif name == RR_FILE:
            q = (
                sa.select(RRRow.t_ms, RRRow.rr_ms)
                .where(RRRow.person_id == person.id, RRRow.t_ms >= lo, RRRow.t_ms < hi)
                .order_by(RRRow.t_ms)
            )
            fmt = lambda r: (format_local(r[0], tz), _format_number(r[1]))  # noqa: E731
        elif name == SLEEP_FILE:
            q = (
                sa.select(SleepRow.start_ms, SleepRow.end_ms, SleepRow.stage)
                .where(SleepRow.person_id == person.id, SleepRow.start_ms >= lo, SleepRow.start_ms < hi)
                .order_by(SleepRow.start_ms)
            )
            fmt = lambda r: (format_local(r[0], tz), format_local(r[1], tz), r[2])  # noqa: E731
        elif name == DEVICE_METRICS_FILE:
            m = DeviceMetric
            q = (
                sa.select(m.t_ms, Device.name, m.kind, m.value)
                .join(Device, Device.id == m.device_id)
                .where(m.person_id == person.id, m.t_ms >= lo, m.t_ms < hi)
                .order_by(m.t_ms, m.kind, m.device_id)
            )  # device names are typed or advertised: formula-safe like every free text
            fmt = lambda r: (format_local(r[0], tz), escape_text(r[1]), r[2], _format_number(r[3]))  # noqa: E731
        else:
            raise KeyError(name)
        yield take()
        with self.sessionmaker() as db:
            # A server-side cursor on PostgreSQL (stream_results), batches of EXPORT_BATCH rows on both.
            result = db.execute(q, execution_options={"stream_results": True, "yield_per": EXPORT_BATCH})
            for batch in result.partitions():
                w.writerows(fmt(r) for r in batch)
                yield take()

    def export_dir(
        self, person: PersonInfo, directory: Path, first: dt.date | None = None, last: dt.date | None = None
    ) -> dict[str, int]:
        """Write the export files into `directory`; return the number of data rows per file."""
        directory.mkdir(parents=True, exist_ok=True)
        counts = {}
        for name in EXPORT_HEADERS:
            path = directory / name
            with path.open("w", encoding="utf-8", newline="") as out:
                for piece in self.export_chunks(person, name, first, last):
                    out.write(piece)
            with path.open(encoding="utf-8", newline="") as back:  # records, not lines: notes may hold line breaks
                counts[name] = sum(1 for _ in csv.reader(back)) - 1
        return counts
