"""Apple Health export (`export.zip` or its `export.xml`): heart rate, resting HR, HRV (Apple's SDNN) and sleep.

Streamed: the zip member is read through `zipfile` without unpacking and parsed with defusedxml's iterparse,
each element dropped as soon as it is handled, so memory stays flat whatever the export's size.

Safety: before any parsing, the prologue (up to the end of the DOCTYPE's internal subset) is inspected. Apple
declares only elements and attributes there; a file that declares entities (the shape of an XML bomb) or
names an external DTD or entity is refused with a message. The DOCTYPE is then left out of what the parser sees
(it only lists Apple's elements; iOS 16 exports even carry a malformed one that no standard parser accepts),
and defusedxml still forbids any DTD or entity as a second line of defence.

What is stored, only from Apple Watch sources: heart rate (`HKQuantityTypeIdentifierHeartRate`); resting heart
rate and HRV as the device's own metrics (`resting_hr_bpm`, and `sdnn_ms` — Apple's HRV is an SDNN over about
a minute, never an RMSSD, so it is never mixed with ours); sleep analysis stages. Everything else is counted
and named in the result. InstantaneousBeatsPerMinute lists are not stored as RR intervals: they are whole beats
per minute, so an RR derived from them is quantised in steps of 8-17 ms at resting rates, as large as the
beat-to-beat differences RMSSD measures.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections import Counter as Tally
from pathlib import Path
from typing import IO

import sqlalchemy.orm as so
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, iterparse

from tracker.clock import Clock
from tracker.errors import UserError
from tracker.importers import detect
from tracker.importers.common import DeviceRecord, Outcome, finish_run, record_device_in, start_run
from tracker.ingest import Ingest, IngestCounts, Provenance, StagedWrite, write_metrics
from tracker.model import BPM_MAX, BPM_MIN, MetricKind, Source, Stage

KIND = "apple-health"
PROLOGUE_MAX_BYTES = 4 << 20  # Apple's DTD is ~8 KB; anything this long before the data is not an export
FLUSH_ROWS = 20_000
HR = "HKQuantityTypeIdentifierHeartRate"
RESTING = "HKQuantityTypeIdentifierRestingHeartRate"
SDNN = "HKQuantityTypeIdentifierHeartRateVariabilitySDNN"
SLEEP = "HKCategoryTypeIdentifierSleepAnalysis"
SLEEP_STAGES = {
    "HKCategoryValueSleepAnalysisAsleepCore": Stage.LIGHT,  # Apple's "core" sleep is N1 + N2
    "HKCategoryValueSleepAnalysisAsleepDeep": Stage.DEEP,
    "HKCategoryValueSleepAnalysisAsleepREM": Stage.REM,
    "HKCategoryValueSleepAnalysisAwake": Stage.AWAKE,
    "HKCategoryValueSleepAnalysisAsleepUnspecified": Stage.ASLEEP,
    "HKCategoryValueSleepAnalysisAsleep": Stage.ASLEEP,  # before iOS 16
}
IN_BED = "HKCategoryValueSleepAnalysisInBed"


class UnsafeXml(UserError):
    pass


def _prologue_and_body(raw: IO[bytes], display: str) -> IO[bytes]:
    """Check the prologue, then return a stream of the document without its DOCTYPE."""
    head = b""
    while True:
        chunk = raw.read(64 << 10)
        head += chunk
        start = head.find(b"<!DOCTYPE")
        root = head.find(b"<HealthData")
        if start < 0 and root >= 0:  # no DOCTYPE at all
            return _Joined(head, raw)
        if start >= 0:
            close = head.find(b"]>", start)
            bracket = head.find(b"[", start)
            gt = head.find(b">", start)
            if bracket < 0 or (gt >= 0 and gt < bracket):  # no internal subset: <!DOCTYPE x SYSTEM "...">
                decl = head[start : gt + 1] if gt >= 0 else head[start:]
                if b"SYSTEM" in decl or b"PUBLIC" in decl:
                    raise UnsafeXml(f"{display}: refused: the file names an external DTD; Apple's exports never do")
                if gt >= 0:
                    return _Joined(head[:start] + head[gt + 1 :], raw)
            elif close >= 0:
                subset = head[bracket:close]
                if b"SYSTEM" in head[start:bracket] or b"PUBLIC" in head[start:bracket]:
                    raise UnsafeXml(f"{display}: refused: the file names an external DTD; Apple's exports never do")
                if b"<!ENTITY" in subset:
                    raise UnsafeXml(
                        f"{display}: refused: the file declares XML entities (the shape of an XML bomb or an external "
                        "entity); Apple's exports never do"
                    )
                return _Joined(head[:start] + head[close + 2 :], raw)
        if not chunk or len(head) > PROLOGUE_MAX_BYTES:
            raise UserError(f"{display}: not an Apple Health export (no <HealthData> element near the start)")


class _Joined(io.RawIOBase):
    """A read-only stream: some bytes already read, then the rest of the underlying stream."""

    def __init__(self, first: bytes, rest: IO[bytes]) -> None:
        self._first, self._rest = first, rest

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:  # type: ignore[override]
        if self._first:
            out, self._first = (self._first, b"") if size < 0 or size >= len(self._first) else (
                self._first[:size], self._first[size:])  # fmt: skip
            return out
        return self._rest.read(size)


def parse_time_ms(text: str) -> int:
    """Apple writes "2024-03-01 22:14:05 +0100"."""
    return int(dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S %z").timestamp() * 1000)


def _is_watch(attrs: dict[str, str]) -> bool:
    # The `device` attribute reads "<<HKDevice: 0x…>, name:Apple Watch, manufacturer:Apple Inc., model:Watch, …>"
    return "model:Watch" in attrs.get("device", "") or "Watch" in attrs.get("sourceName", "")


def _hardware(device: str) -> str | None:
    # "hardware:Watch6,2" — the model identifier itself holds a comma, so split on the field names instead
    match = re.search(r"hardware:([^,>\s]+(?:,\d+)?)", device)
    return match.group(1) if match else None


class AppleHealthImporter:
    def __init__(self, sessionmaker: so.sessionmaker[so.Session], ingest: Ingest, clock: Clock) -> None:
        self._db = sessionmaker
        self._ingest = ingest
        self._clock = clock

    def import_file(self, person_id: int, path: Path, kind: str) -> Outcome:
        display = str(path)
        outcome = Outcome(display, KIND)
        run_id = start_run(self._db, self._clock, person_id, None, display)
        outcome.run_id = run_id
        counts = IngestCounts()
        try:
            # The whole export is one transaction: records stream into stages (and device metrics and the
            # watch devices into the same transaction), so an error anywhere stores nothing from the file.
            with self._db.begin() as db, self._ingest.staged(db) as batch:
                if kind == detect.APPLE_ZIP:
                    member = detect.apple_member(path)
                    with zipfile.ZipFile(path) as zf, zf.open(member or detect.APPLE_MEMBER) as raw:
                        self._parse(db, batch, person_id, run_id, _prologue_and_body(raw, display), outcome)
                else:
                    with path.open("rb") as raw:
                        self._parse(db, batch, person_id, run_id, _prologue_and_body(raw, display), outcome)
            counts = batch.counts
            outcome.inserted += counts.heart_rate + counts.sleep
        except UserError as exc:
            outcome.error = str(exc)
        except (ParseError, DefusedXmlException) as exc:
            where = getattr(exc, "position", None)
            line = f":{where[0]}" if where else ""
            outcome.error = f"{display}{line}: not a readable Apple Health export ({exc})"
        except (zipfile.BadZipFile, OSError) as exc:
            outcome.error = f"{display}: cannot read: {exc}"
        except Exception as exc:  # a bug, not the file: still close the run (as failed, nothing stored)
            outcome.error, outcome.inserted = f"{display}: {exc}", 0
            finish_run(self._db, self._clock, run_id, IngestCounts(), outcome)
            raise
        if outcome.error:
            outcome.inserted = 0
            outcome.error += "; nothing from this file was stored"
        finish_run(self._db, self._clock, run_id, counts, outcome)
        return outcome

    def _parse(self, db: so.Session, batch: StagedWrite, person_id: int, run_id: int, body: IO[bytes],
               outcome: Outcome) -> None:  # fmt: skip
        display = outcome.path
        devices: dict[str, int] = {}
        buffers: dict[tuple[str, int], list[tuple]] = {}  # type: ignore[type-arg]
        ignored: Tally[str] = Tally()

        def flush(key: tuple[str, int]) -> None:
            rows = buffers.pop(key, [])
            if not rows:
                return
            stream, device_id = key
            prov = Provenance(person_id, Source.IMPORT, device_id, run_id)
            outcome.rows += len(rows)
            if stream == "hr":
                batch.heart_rate(rows, prov)  # same stage as earlier batches of this device
            elif stream == "sleep":
                batch.sleep(rows, prov)
            else:
                outcome.inserted += write_metrics(db, rows, prov)

        def add(stream: str, device_id: int, row: tuple) -> None:  # type: ignore[type-arg]
            buf = buffers.setdefault((stream, device_id), [])
            buf.append(row)
            if len(buf) >= FLUSH_ROWS:
                flush((stream, device_id))

        root = None
        in_correlation = 0  # records inside a Correlation also appear at the top level: read them once
        for event, elem in iterparse(body, events=("start", "end"), forbid_dtd=True):
            if event == "start":
                if root is None:
                    root = elem
                    if elem.tag != "HealthData":
                        raise UserError(f"{display}: not an Apple Health export (root element <{elem.tag}>)")
                in_correlation += elem.tag == "Correlation"
                continue
            in_correlation -= elem.tag == "Correlation"
            if elem.tag != "Record" or in_correlation:
                if elem.tag in ("Workout", "ActivitySummary", "Correlation", "ClinicalRecord", "Audiogram"):
                    ignored[elem.tag] += 1
                    root.clear()  # type: ignore[union-attr]
                continue
            attrs = elem.attrib
            rtype = attrs.get("type", "")
            if rtype not in (HR, RESTING, SDNN, SLEEP):
                ignored[rtype.removeprefix("HKQuantityTypeIdentifier").removeprefix("HKCategoryTypeIdentifier")] += 1
            elif not _is_watch(attrs):
                ignored[f"{rtype.split('Identifier')[-1]} from {attrs.get('sourceName', '?')} (not a watch)"] += 1
            else:
                self._record(db, person_id, attrs, elem, devices, add, ignored)
            root.clear()  # type: ignore[union-attr]  # drop handled elements: memory stays flat
        for key in list(buffers):
            flush(key)
        for what, n in sorted(ignored.items(), key=lambda kv: -kv[1]):
            outcome.notes.append(f"ignored {n} {what}")

    def _record(self, db: so.Session, person_id: int, attrs: dict[str, str], elem, devices: dict[str, int], add,  # type: ignore[no-untyped-def]
                ignored: Tally[str]) -> None:  # fmt: skip
        source = attrs.get("sourceName", "Apple Watch")
        device_id = devices.get(source)
        if device_id is None:
            rec = DeviceRecord(address=f"apple-health:{source}", name=source, family="apple-watch",
                               manufacturer="Apple Inc.", model=_hardware(attrs.get("device", "")))  # fmt: skip
            device_id = devices[source] = record_device_in(db, self._clock, person_id, rec)
        rtype, unit = attrs["type"], attrs.get("unit")
        try:
            start_ms = parse_time_ms(attrs["startDate"])
            if rtype == SLEEP:
                value = attrs.get("value", "")
                stage = SLEEP_STAGES.get(value)
                end_ms = parse_time_ms(attrs["endDate"])
                if value == IN_BED:
                    ignored["sleep 'in bed' spans (not a stage; the stages say when you slept)"] += 1
                elif stage is None or end_ms <= start_ms:
                    ignored[f"sleep records with value {value!r}"] += 1
                else:
                    add("sleep", device_id, (start_ms, end_ms, str(stage)))
                return
            number = float(attrs["value"])
        except (KeyError, ValueError):
            ignored[f"{rtype.split('Identifier')[-1]} records without a readable time or value"] += 1
            return
        if elem.find("HeartRateVariabilityMetadataList") is not None:
            ignored["InstantaneousBeatsPerMinute lists (whole bpm: not RR intervals)"] += 1
        if rtype in (HR, RESTING) and unit == "count/min" and BPM_MIN <= number <= BPM_MAX:
            if rtype == HR:
                add("hr", device_id, (start_ms, int(round(number))))
            else:
                add("metric", device_id, (start_ms, str(MetricKind.RESTING_HR_BPM), number))
        elif rtype == SDNN and unit == "ms" and 0 < number < 1000:
            add("metric", device_id, (start_ms, str(MetricKind.SDNN_MS), number))
        else:
            ignored[f"{rtype.split('Identifier')[-1]} records out of range or in unit {unit!r}"] += 1
