"""CSV import and export of heart rate, RR intervals, sleep stages and sessions.

Formats (documented in the README): heart_rate.csv `timestamp,bpm`; rr_intervals.csv `timestamp,rr_ms`
(the beat that ends the interval); sleep_stages.csv `start,end,stage`; sessions.csv with the session
columns below. Timestamps are ISO 8601 with an offset or Z; exports write the person's local time with its
offset. A file is validated whole before anything is written: one bad row stops that file with
`file:line: reason` and nothing from it is stored; other files still import. Re-importing changes nothing
(natural keys for samples; identical sessions are recognised).
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
from tracker.ingest import Ingest, Provenance
from tracker.model import BPM_MAX, BPM_MIN, RR_MS_MAX, RR_MS_MIN, RunKind, RunStatus, SessionKind, SessionStatus, Source, Stage
from tracker.people import PersonInfo
from tracker.sessions import SELF_REPORTS, SessionFields, Sessions, ValidationError, normalize_technique
from tracker.storage.models import HeartRateRow, MassageSession, Person, RRRow, Run, SleepRow
from tracker.timefmt import TimeFormatError, format_local, local_date_bounds_ms, parse_iso_ms

EXPORT_BATCH = 20_000  # rows per fetch and per piece of streamed CSV
HEART_RATE_FILE = "heart_rate.csv"
RR_FILE = "rr_intervals.csv"
SLEEP_FILE = "sleep_stages.csv"
SESSIONS_FILE = "sessions.csv"
HEADERS: dict[str, tuple[str, ...]] = {
    HEART_RATE_FILE: ("timestamp", "bpm"),
    RR_FILE: ("timestamp", "rr_ms"),
    SLEEP_FILE: ("start", "end", "stage"),
    SESSIONS_FILE: (
        "start", "end", "kind", "technique", "pressure", "areas", "therapist",
        "pain_before", "pain_after", "stress_before", "stress_after", "mood_before", "mood_after", "notes",
    ),
}  # fmt: skip


class RowError(UserError):
    """A bad row: `file:line: reason`."""

    def __init__(self, file: str, line: int, reason: str) -> None:
        self.file, self.line, self.reason = file, line, reason
        super().__init__(f"{file}:{line}: {reason}")


@dataclass(frozen=True, slots=True)
class FileResult:
    path: str
    kind: str  # which of the four files it was recognised as
    rows: int = 0
    inserted: int = 0
    error: str | None = None


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


def _parse_heart_rate(row: dict[str, str]) -> tuple[int, int]:
    return parse_iso_ms(row["timestamp"]), _int_in(row["bpm"].strip(), BPM_MIN, BPM_MAX, "bpm")


def _parse_rr(row: dict[str, str]) -> tuple[int, float]:
    text = row["rr_ms"].strip()
    try:
        rr_ms = float(text)
    except ValueError:
        raise ValueError(f"rr_ms {text!r} is not a number") from None
    if not RR_MS_MIN <= rr_ms <= RR_MS_MAX:
        raise ValueError(f"rr_ms {text} outside {RR_MS_MIN:g}-{RR_MS_MAX:g}")
    return parse_iso_ms(row["timestamp"]), rr_ms


def _parse_sleep(row: dict[str, str]) -> tuple[int, int, str]:
    start_ms, end_ms = parse_iso_ms(row["start"]), parse_iso_ms(row["end"])
    if end_ms <= start_ms:
        raise ValueError("end before start")
    stage = row["stage"].strip().lower()
    if stage not in tuple(Stage):
        raise ValueError(f"unknown stage {row['stage']!r} (one of {', '.join(Stage)})")
    return start_ms, end_ms, stage


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


_PARSERS: dict[str, Callable[[dict[str, str]], Any]] = {
    HEART_RATE_FILE: _parse_heart_rate,
    RR_FILE: _parse_rr,
    SLEEP_FILE: _parse_sleep,
    SESSIONS_FILE: _parse_session,
}


def detect_kind(path: Path, header: Sequence[str]) -> str | None:
    """Which of the four formats a file is: by its name, else by its header."""
    if path.name in HEADERS:
        return path.name
    for name, cols in HEADERS.items():
        if tuple(h.strip() for h in header) == cols:
            return name
    return None


def parse_file(display: str, text: str) -> tuple[str, list[Any]]:
    """Validate a whole CSV text; return (kind, parsed rows) or raise RowError naming the line."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise RowError(display, 1, "empty file (expected a header row)") from None
    kind = detect_kind(Path(display), header)
    if kind is None:
        raise RowError(display, 1, f"unrecognised header {','.join(header)!r} (see the README for the four formats)")
    expected = HEADERS[kind]
    if tuple(h.strip() for h in header) != expected:
        raise RowError(display, 1, f"header must be {','.join(expected)}")
    parser = _PARSERS[kind]
    rows: list[Any] = []
    for values in reader:
        line = reader.line_num
        if not values or all(not v.strip() for v in values):
            continue
        if len(values) != len(expected):
            raise RowError(display, line, f"expected {len(expected)} columns, got {len(values)}")
        try:
            rows.append(parser(dict(zip(expected, values, strict=True))))
        except (ValueError, TimeFormatError) as exc:
            raise RowError(display, line, str(exc)) from None
    return kind, rows


def _expand(paths: Sequence[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.iterdir() if p.suffix.lower() == ".csv")
        else:
            yield path


@dataclass
class Interchange:
    """CSV import/export service."""

    sessionmaker: so.sessionmaker[so.Session]
    ingest: Ingest
    sessions: Sessions
    clock: Clock

    def _start_run(self, person: PersonInfo, origin: str) -> int:
        with self.sessionmaker.begin() as db:
            run = Run(
                kind=str(RunKind.IMPORT), person_id=person.id, started_ms=self.clock.now_ms(),
                status=str(RunStatus.RUNNING), origin=origin[:255],
            )  # fmt: skip
            db.add(run)
            db.flush()
            return run.id

    def _finish_run(self, run_id: int, kind: str, inserted: int, error: str | None) -> None:
        counter = {
            HEART_RATE_FILE: "heart_rate_count",
            RR_FILE: "rr_count",
            SLEEP_FILE: "sleep_count",
            SESSIONS_FILE: "session_count",
        }.get(kind)
        with self.sessionmaker.begin() as db:
            run = db.get(Run, run_id)
            assert run is not None
            run.ended_ms = self.clock.now_ms()
            run.status = str(RunStatus.FAILED if error else RunStatus.OK)
            run.error = error
            if counter:
                setattr(run, counter, inserted)

    def _import_sessions(self, person: PersonInfo, display: str, rows: list[SessionFields]) -> int:
        """All sessions of a file in one transaction: an overlap on any row stores none of them."""
        inserted = 0
        with self.sessionmaker.begin() as db:
            person_row = db.get(Person, person.id)
            assert person_row is not None
            for index, fields in enumerate(rows):
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
                    self.sessions.insert(db, person_row, fields)
                except UserError as exc:
                    # line numbers: header is line 1; rows were validated in order (blank lines aside)
                    raise RowError(display, index + 2, str(exc)) from None
                inserted += 1
        return inserted

    def import_text(self, person: PersonInfo, display: str, text: str) -> FileResult:
        """Import one CSV given as text (the web upload path); never raises for bad content."""
        run_id = self._start_run(person, display)  # failed imports are recorded too, with their error
        try:
            kind, rows = parse_file(display, text)
        except RowError as exc:
            self._finish_run(run_id, "unknown", 0, str(exc))
            return FileResult(display, "unknown", error=str(exc))
        error: str | None = None
        inserted = 0
        try:
            prov = Provenance(person.id, Source.IMPORT, None, run_id)
            if kind == HEART_RATE_FILE:
                inserted = self.ingest.heart_rate(rows, prov)
            elif kind == RR_FILE:
                inserted = self.ingest.rr(rows, prov)
            elif kind == SLEEP_FILE:
                inserted = self.ingest.sleep(rows, prov)
            else:
                inserted = self._import_sessions(person, display, rows)
        except RowError as exc:
            error = str(exc)
        self._finish_run(run_id, kind, inserted, error)
        return FileResult(display, kind, len(rows), 0 if error else inserted, error)

    def import_paths(self, person: PersonInfo, paths: Sequence[Path]) -> ImportResult:
        """Import files or directories of CSV files; each file stands or falls alone."""
        results = []
        for path in _expand(paths):
            try:
                text = path.read_text(encoding="utf-8-sig")  # tolerate a BOM from spreadsheet exports
            except (OSError, UnicodeDecodeError) as exc:
                results.append(FileResult(str(path), "unknown", error=f"{path}: cannot read: {exc}"))
                continue
            results.append(self.import_text(person, str(path), text))
        return ImportResult(tuple(results))

    # -- export ---------------------------------------------------------------------------------

    def export_texts(
        self, person: PersonInfo, first: dt.date | None = None, last: dt.date | None = None
    ) -> dict[str, str]:
        """The four files as text (small exports and tests; the web and the CLI stream `export_chunks`)."""
        return {name: "".join(self.export_chunks(person, name, first, last)) for name in HEADERS}

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
        w.writerow(HEADERS[name])

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
        """Write the four files into `directory`; return the number of data rows per file."""
        directory.mkdir(parents=True, exist_ok=True)
        counts = {}
        for name in HEADERS:
            path = directory / name
            with path.open("w", encoding="utf-8", newline="") as out:
                for piece in self.export_chunks(person, name, first, last):
                    out.write(piece)
            with path.open(encoding="utf-8", newline="") as back:  # records, not lines: notes may hold line breaks
                counts[name] = sum(1 for _ in csv.reader(back)) - 1
        return counts
