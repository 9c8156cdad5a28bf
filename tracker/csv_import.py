"""Streaming CSV import: heart rate, RR intervals, sleep stages and sessions (the formats in interchange.py).

A file is read row by row and its rows stream into the database's staging tables (tracker.ingest
`Ingest.staged`), so memory stays flat whatever the file's size. Nothing is held to guarantee
all-or-nothing: one bad row anywhere (`file:line: reason`) rolls the file's transaction back, so nothing
from that file is stored, and the next file still imports.

Spreadsheets: a German or French spreadsheet saves `;`-separated files with decimal commas (`812,5`).
The separator is recognised from the header line (`,`, `;` or tab); decimal commas are read only in a
`;`- or tab-separated file, where they cannot be a thousands separator or a column break.

Every import is a run (tracker.import_runs lists and undoes them); a file whose data lie in the future, or
far from the person's other data, is imported with a warning.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from tracker.clock import Clock
from tracker.errors import UserError
from tracker.import_runs import data_extent, finish_run, start_run, warnings_for
from tracker.ingest import Ingest, Provenance
from tracker.interchange import (
    EXPORT_ONLY, HEADERS, HEART_RATE_FILE, RR_FILE, SESSIONS_FILE, SLEEP_FILE, FileResult, ImportResult, RowError,
    _parse_session,
)  # fmt: skip
EXPORT_ONLY_NOTE = (
    "values the devices computed themselves are exported for reading, not imported: each belongs to the device "
    "that computed it (import that device's own export, e.g. Gadgetbridge or Apple Health, or sync it)"
)
from tracker.model import BPM_MAX, BPM_MIN, RR_MS_MAX, RR_MS_MIN, SessionStatus, Source, Stage
from tracker.people import PersonInfo
from tracker.sessions import SessionFields, Sessions
from tracker.storage import failures
from tracker.storage.models import MassageSession, Person
from tracker.timefmt import TimeFormatError

import datetime as dt

logger = logging.getLogger(__name__)
FIELD_LIMIT_BYTES = 128 * 1024  # a longer field is an error, not a 128 KiB note (and not a traceback)
# Plausible instants: nothing a wearable recorded lies outside these, and a year like 0001 or 9999 would
# break every page that draws the person's data.
T_MIN_MS = 946_684_800_000  # 2000-01-01T00:00:00Z
T_MAX_MS = 4_102_444_800_000  # 2100-01-01T00:00:00Z
SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab"}
_fromisoformat = dt.datetime.fromisoformat
_STAGES = frozenset(Stage)


def _separator_name(sep: str) -> str:
    return f"{SEPARATORS[sep]} {sep!r}"


def _time_ms(text: str) -> int:
    """ISO 8601 with an offset or Z → epoch ms, inside the plausible range.

    Not timefmt.to_ms: its timedelta arithmetic was the largest cost of a million-row import.
    `timestamp()` of an aware datetime is computed in C, and exact here: whole seconds below 2**53 are
    exact floats, and the milliseconds are taken from the integer microseconds, not from the float.
    """
    try:
        moment = _fromisoformat(text)
    except ValueError:
        try:
            moment = _fromisoformat(text.strip())
        except ValueError:
            raise TimeFormatError(f"unparseable time {text.strip()!r} (expected ISO 8601 with an offset or Z)") from None
    if moment.tzinfo is None:
        raise TimeFormatError(f"time {text.strip()!r} has no offset (add Z or e.g. +01:00)")
    try:
        t_ms = int(moment.timestamp()) * 1000 + moment.microsecond // 1000
    except (OverflowError, ValueError, OSError):
        t_ms = -1
    if not T_MIN_MS <= t_ms < T_MAX_MS:
        raise TimeFormatError(f"time {text.strip()!r} outside 2000-01-01 to 2100-01-01")
    return t_ms


@dataclass
class _Scan:
    """What the row generator learnt on its way through the file (rows, time extent)."""

    rows: int = 0
    first_ms: int | None = None
    last_ms: int | None = None

    def see(self, lo_ms: int, hi_ms: int) -> None:
        if self.first_ms is None or lo_ms < self.first_ms:
            self.first_ms = lo_ms
        if self.last_ms is None or hi_ms > self.last_ms:
            self.last_ms = hi_ms


@dataclass
class _Reader:
    """A csv.reader over the rows after the header, and how to name a line in an error."""

    display: str
    reader: Any
    sep: str

    @property
    def line(self) -> int:
        return int(self.reader.line_num) + 1  # the header line was read before the reader started

    def read_error(self, exc: Exception) -> RowError:
        """A problem reading the text itself (not a value in it), as `file:line: reason`."""
        if isinstance(exc, UnicodeDecodeError):
            return RowError(self.display, self.line + 1, f"not UTF-8 text ({exc.reason})")
        reason = str(exc)
        if "field larger than field limit" in reason:
            reason = f"a field is longer than {FIELD_LIMIT_BYTES // 1024} KiB"
        return RowError(self.display, self.line, reason)


def _number(text: str, decimal_comma: bool) -> float:
    text = text.strip()
    if decimal_comma:
        text = text.replace(",", ".")
    return float(text)


def _heart_rate_rows(r: _Reader, scan: _Scan) -> Iterator[tuple[int, int]]:
    rows, lo_ms, hi_ms = 0, T_MAX_MS, T_MIN_MS
    try:
        for values in r.reader:
            if len(values) != 2:
                if not values or all(not v.strip() for v in values):
                    continue
                raise RowError(r.display, r.line, f"expected 2 columns separated by {_separator_name(r.sep)}, got {len(values)}")
            try:
                t_ms = _time_ms(values[0])
                try:
                    bpm = int(values[1])
                except ValueError:
                    raise ValueError(f"bpm {values[1]!r} is not an integer") from None
                if not BPM_MIN <= bpm <= BPM_MAX:
                    raise ValueError(f"bpm {bpm} outside {BPM_MIN}-{BPM_MAX}")
            except ValueError as exc:
                raise RowError(r.display, r.line, str(exc)) from None
            rows += 1  # kept in locals: a method call per row would cost more than the insert
            if t_ms < lo_ms:
                lo_ms = t_ms
            if t_ms > hi_ms:
                hi_ms = t_ms
            yield t_ms, bpm
    except (csv.Error, UnicodeDecodeError) as exc:
        raise r.read_error(exc) from None
    scan.rows = rows
    if rows:
        scan.see(lo_ms, hi_ms)


def _rr_rows(r: _Reader, scan: _Scan) -> Iterator[tuple[int, float]]:
    decimal_comma = r.sep != ","
    rows, lo_ms, hi_ms = 0, T_MAX_MS, T_MIN_MS
    try:
        for values in r.reader:
            if len(values) != 2:
                if not values or all(not v.strip() for v in values):
                    continue
                raise RowError(r.display, r.line, f"expected 2 columns separated by {_separator_name(r.sep)}, got {len(values)}")
            try:
                t_ms = _time_ms(values[0])
                try:
                    rr_ms = _number(values[1], decimal_comma)
                except ValueError:
                    hint = " (a decimal comma needs a ';'-separated file)" if "," in values[1] else ""
                    raise ValueError(f"rr_ms {values[1].strip()!r} is not a number{hint}") from None
                if not RR_MS_MIN <= rr_ms <= RR_MS_MAX:
                    raise ValueError(f"rr_ms {values[1].strip()} outside {RR_MS_MIN:g}-{RR_MS_MAX:g}")
            except ValueError as exc:
                raise RowError(r.display, r.line, str(exc)) from None
            rows += 1  # kept in locals: a method call per row would cost more than the insert
            if t_ms < lo_ms:
                lo_ms = t_ms
            if t_ms > hi_ms:
                hi_ms = t_ms
            yield t_ms, rr_ms
    except (csv.Error, UnicodeDecodeError) as exc:
        raise r.read_error(exc) from None
    scan.rows = rows
    if rows:
        scan.see(lo_ms, hi_ms)


def _sleep_rows(r: _Reader, scan: _Scan) -> Iterator[tuple[int, int, str]]:
    try:
        for values in r.reader:
            if len(values) != 3:
                if not values or all(not v.strip() for v in values):
                    continue
                raise RowError(r.display, r.line, f"expected 3 columns separated by {_separator_name(r.sep)}, got {len(values)}")
            try:
                start_ms, end_ms = _time_ms(values[0]), _time_ms(values[1])
                if end_ms <= start_ms:
                    raise ValueError("end before start")
                stage = values[2].strip().lower()
                if stage not in _STAGES:
                    raise ValueError(f"unknown stage {values[2]!r} (one of {', '.join(Stage)})")
            except ValueError as exc:
                raise RowError(r.display, r.line, str(exc)) from None
            scan.rows += 1
            scan.see(start_ms, end_ms)
            yield start_ms, end_ms, stage
    except (csv.Error, UnicodeDecodeError) as exc:
        raise r.read_error(exc) from None


def _session_rows(r: _Reader, scan: _Scan) -> Iterator[tuple[int, SessionFields]]:
    names = HEADERS[SESSIONS_FILE]
    try:
        for values in r.reader:
            if len(values) != len(names):
                if not values or all(not v.strip() for v in values):
                    continue
                raise RowError(
                    r.display, r.line, f"expected {len(names)} columns separated by {_separator_name(r.sep)}, got {len(values)}"
                )
            try:
                _time_ms(values[0]), _time_ms(values[1])  # the plausible range, before the session's own checks
                fields = _parse_session(dict(zip(names, values, strict=True)))
            except ValueError as exc:
                raise RowError(r.display, r.line, str(exc)) from None
            scan.rows += 1
            scan.see(fields.start_ms, fields.end_ms)
            yield r.line, fields
    except (csv.Error, UnicodeDecodeError) as exc:
        raise r.read_error(exc) from None


_ROWS: dict[str, Callable[[_Reader, _Scan], Iterator[Any]]] = {
    HEART_RATE_FILE: _heart_rate_rows,
    RR_FILE: _rr_rows,
    SLEEP_FILE: _sleep_rows,
    SESSIONS_FILE: _session_rows,
}
_RUN_COUNTER = {HEART_RATE_FILE: "heart_rate", RR_FILE: "rr", SLEEP_FILE: "sleep", SESSIONS_FILE: "sessions"}


def sniff(display: str, header_line: str) -> tuple[str | None, str, list[str]]:
    """(kind or None, separator, header cells) from the file's name and first line.

    The separator is the one that splits the header into a known format's columns; failing that, the
    most frequent of `,` `;` tab (so the error can name what was read).
    """
    line = header_line.lstrip("\ufeff").rstrip("\r\n")
    by_name = display.rsplit("/", 1)[-1] if display.rsplit("/", 1)[-1] in HEADERS else None
    for sep in SEPARATORS:
        cells = [c.strip().strip('"') for c in line.split(sep)]
        for kind, cols in HEADERS.items():
            if tuple(cells) == cols and (by_name is None or by_name == kind):
                return kind, sep, cells
    sep = max(SEPARATORS, key=line.count)
    return by_name, sep, [c.strip() for c in line.split(sep)]


@dataclass
class CsvImport:
    """Imports CSV files for a person; each file is one run and stands or falls alone."""

    sessionmaker: so.sessionmaker[so.Session]
    ingest: Ingest
    sessions: Sessions
    clock: Clock
    _field_limit: int = field(default=FIELD_LIMIT_BYTES)

    def import_stream(self, person: PersonInfo, display: str, raw: IO[bytes]) -> FileResult:
        """Import one file from a binary stream; never raises for bad content (the result says why)."""
        run_id = start_run(self.sessionmaker, self.clock, person.id, display)
        kind = "unknown"
        try:
            try:
                header_line = raw.readline(self._field_limit + 1).decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                raise RowError(display, 1, f"not UTF-8 text ({exc.reason})") from None
            if not header_line.strip():
                raise RowError(display, 1, "empty file (expected a header row)")
            found, sep, cells = sniff(display, header_line)
            if found is None and tuple(cells) in EXPORT_ONLY.values():
                raise RowError(display, 1, EXPORT_ONLY_NOTE)
            if found is None:
                raise RowError(
                    display, 1, f"unrecognised header {sep.join(cells)[:100]!r} (read with separator {_separator_name(sep)}; "
                    "see the README for the four formats)",
                )  # fmt: skip
            kind = found
            expected = HEADERS[kind]
            if tuple(cells) != expected:
                raise RowError(display, 1, f"header must be {sep.join(expected)} (read with separator {_separator_name(sep)})")
            limit = csv.field_size_limit()
            csv.field_size_limit(self._field_limit)
            try:
                # Decoded line by line (map runs in C), so a byte that is not UTF-8 is named by its own line.
                reader = _Reader(display, csv.reader(map(bytes.decode, raw), delimiter=sep), sep)
                before = data_extent(self.sessionmaker, person.id)
                scan = _Scan()
                inserted = self._write(person, display, kind, _ROWS[kind](reader, scan), run_id)
            finally:
                csv.field_size_limit(limit)
            warning = warnings_for(scan.first_ms, scan.last_ms, before, self.clock.now_ms(), person.tz)
            finish_run(self.sessionmaker, self.clock, run_id, {_RUN_COUNTER[kind]: inserted}, None, warning)
            return FileResult(display, kind, scan.rows, inserted, None, run_id=run_id, warning=warning)
        except RowError as exc:
            finish_run(self.sessionmaker, self.clock, run_id, {}, str(exc), None)
            return FileResult(display, kind, error=str(exc), run_id=run_id)
        except Exception as exc:  # e.g. the disk is full: say so, close the run (raw DBAPI errors included)
            reason = failures.describe(exc)
            if reason is None and not isinstance(exc, sa.exc.OperationalError):
                raise
            reason = reason or f"the database refused the write: {getattr(exc, 'orig', exc)}"
            message = f"{display}: {reason}"
            try:
                finish_run(self.sessionmaker, self.clock, run_id, {}, message, None)
            except Exception:  # too full even to close the run: the next start closes it
                logger.warning("could not close run %s: %s", run_id, message)
            return FileResult(display, kind, error=message, run_id=run_id)

    def _write(self, person: PersonInfo, display: str, kind: str, rows: Iterator[Any], run_id: int) -> int:
        prov = Provenance(person.id, Source.IMPORT, None, run_id)
        if kind == SESSIONS_FILE:
            return self._import_sessions(person, display, rows, run_id)
        with self.ingest.staged() as batch:
            if kind == HEART_RATE_FILE:
                batch.heart_rate(rows, prov)
            elif kind == RR_FILE:
                batch.rr(rows, prov)
            else:
                batch.sleep(rows, prov)
        c = batch.counts
        return c.heart_rate + c.rr + c.sleep

    def _import_sessions(self, person: PersonInfo, display: str, rows: Iterator[tuple[int, SessionFields]],
                         run_id: int) -> int:  # fmt: skip
        """All sessions of a file in one transaction: an overlap on any row stores none of them."""
        inserted = 0
        with self.sessionmaker.begin() as db:
            person_row = db.get(Person, person.id)
            assert person_row is not None
            for line, fields in rows:
                same = db.scalar(
                    sa.select(MassageSession.id).where(
                        MassageSession.person_id == person.id,
                        MassageSession.start_ms == fields.start_ms,
                        MassageSession.end_ms == fields.end_ms,
                        MassageSession.kind == str(fields.kind),
                        MassageSession.status != str(SessionStatus.CANCELLED),
                    )
                )
                if same is not None:
                    continue  # already imported: idempotent
                try:
                    row = self.sessions.insert(db, person_row, fields)
                except UserError as exc:
                    raise RowError(display, line, str(exc)) from None
                row.run_id = run_id
                inserted += 1
        return inserted

    def import_paths(self, person: PersonInfo, paths: Sequence[Path]) -> ImportResult:
        """Import files or directories of CSV files; each file stands or falls alone."""
        results = []
        folders = {p for p in paths if p.is_dir()}
        for path in _expand(paths):
            if path.name in EXPORT_ONLY and path.parent in folders:  # an export folder brought back whole
                results.append(FileResult(str(path), path.name, warning=f"{path.name} skipped: {EXPORT_ONLY_NOTE}"))
                continue
            try:
                raw = path.open("rb")
            except OSError as exc:
                results.append(FileResult(str(path), "unknown", error=f"{path}: cannot read: {exc.strerror or exc}"))
                continue
            with raw:
                results.append(self.import_stream(person, str(path), raw))
        return ImportResult(tuple(results))


def _expand(paths: Sequence[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.iterdir() if p.suffix.lower() == ".csv")
        else:
            yield path
