"""Garmin FIT files (monitoring, sleep and activity files), decoded with Garmin's own `garmin-fit-sdk`.

What is read:
  * monitoring messages' heart rate. Most carry only `timestamp_16`, the low 16 bits of the time in seconds:
    the full time is the last full timestamp plus the (wrapping) difference of the low 16 bits (FIT protocol,
    "Compressed timestamps"); each resolved time becomes the next reference, as Garmin's own importers do.
  * sleep_level messages: stage per time. As in Gadgetbridge's Garmin support, a level's timestamp ends its
    stage; the stage began at the previous level or at the sleep-start event, and a first level with neither is
    left out (counted).
  * hrv messages of activity files: beat-to-beat intervals (s, 1-ms resolution). They carry no time of their
    own; beats are placed from the activity's start (its first timer-start event, else its first record) by
    adding the intervals up. An invalid interval (0xFFFF) is skipped.
A FIT file is a few megabytes at most and the SDK decodes it whole, so one file is held in memory at a time;
rows are written through tracker.ingest like every other import.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy.orm as so

from tracker.clock import Clock
from tracker.errors import UserError
from tracker.importers import gb_rules as rules
from tracker.importers.common import DeviceRecord, Outcome, finish_run, record_device, start_run
from tracker.ingest import Ingest, IngestCounts, Provenance
from tracker.model import RR_MS_MAX, RR_MS_MIN, Source

KIND = "fit"
FIT_EPOCH_S = 631_065_600  # 1989-12-31T00:00:00Z, the FIT time origin
SLEEP_EVENT = 74  # Garmin's sleep event (not in the public profile; Gadgetbridge's FitImporter reads it)
LEVELS = {"unmeasurable": 0, "awake": 1, "light": 2, "deep": 3, "rem": 4}


def _ms(fit_s: int) -> int:
    return (fit_s + FIT_EPOCH_S) * 1000


class _Collected:
    """One file's rows, gathered in the order the messages come (timestamp_16 needs that order)."""

    def __init__(self) -> None:
        self.hr: list[tuple[int, int]] = []
        self.rr: list[tuple[int, float]] = []
        self.levels: list[tuple[int, int]] = []
        self.sleep_starts: list[int] = []
        self.file_id: dict[str, Any] = {}
        self.skipped: dict[str, int] = {}
        self._last_s: int | None = None
        self._anchor_ms: int | None = None
        self._beat_ms: int | None = None

    def skip(self, what: str) -> None:
        self.skipped[what] = self.skipped.get(what, 0) + 1

    def on_message(self, num: int, msg: dict[str, Any]) -> None:
        ts = msg.get("timestamp")
        if isinstance(ts, int):
            self._last_s = ts
        if num == 0:
            self.file_id = msg
        elif num == 55:  # monitoring
            self._monitoring(msg)
        elif num == 275:  # sleep_level
            code = LEVELS.get(str(msg.get("sleep_level")))
            if isinstance(ts, int) and code is not None:
                self.levels.append((_ms(ts), code))
        elif num == 21:  # event
            if msg.get("event") in (SLEEP_EVENT, "sleep") and msg.get("event_type") == "start" and isinstance(ts, int):
                self.sleep_starts.append(_ms(ts))
            if msg.get("event") == "timer" and msg.get("event_type") == "start" and isinstance(ts, int):
                if self._anchor_ms is None:
                    self._anchor_ms = _ms(ts)
        elif num == 20 and isinstance(ts, int) and self._anchor_ms is None:  # record
            self._anchor_ms = _ms(ts)
        elif num == 78:  # hrv
            self._hrv(msg.get("time") or [])

    def _monitoring(self, msg: dict[str, Any]) -> None:
        t_s = msg.get("timestamp")
        if not isinstance(t_s, int):
            t16 = msg.get("timestamp_16")
            if not isinstance(t16, int) or self._last_s is None:
                self.skip("monitoring messages without a time")
                return
            t_s = self._last_s + ((t16 - (self._last_s & 0xFFFF)) & 0xFFFF)
            self._last_s = t_s
        bpm = msg.get("heart_rate")
        if isinstance(bpm, int | float) and rules.valid_bpm(int(bpm)):
            self.hr.append((_ms(t_s), int(bpm)))

    def _hrv(self, times: list[Any]) -> None:
        if self._anchor_ms is None:
            self.skip("hrv messages before the activity started")
            return
        if self._beat_ms is None:
            self._beat_ms = self._anchor_ms
        for value in times if isinstance(times, list) else [times]:
            if not isinstance(value, int | float):
                continue
            rr_ms = round(value * 1000)
            if not RR_MS_MIN <= rr_ms <= RR_MS_MAX:
                self.skip("hrv intervals out of range or invalid")
                continue
            self._beat_ms += rr_ms
            self.rr.append((self._beat_ms, float(rr_ms)))


def decode(path: Path) -> _Collected:
    from garmin_fit_sdk import Decoder, Stream

    got = _Collected()
    try:
        stream = Stream.from_file(str(path))
    except OSError as exc:
        raise UserError(f"{path}: cannot read: {exc}") from None
    decoder = Decoder(stream)
    if not decoder.is_fit():
        raise UserError(f"{path}: not a FIT file")
    _, errors = decoder.read(convert_datetimes_to_dates=False, merge_heart_rates=False, mesg_listener=got.on_message)
    if errors:
        raise UserError(f"{path}: damaged FIT file ({errors[0]})")
    return got


class FitImporter:
    def __init__(self, sessionmaker: so.sessionmaker[so.Session], ingest: Ingest, clock: Clock) -> None:
        self._db = sessionmaker
        self._ingest = ingest
        self._clock = clock

    def import_file(self, person_id: int, path: Path) -> Outcome:
        got = decode(path)  # a damaged file stores nothing: it is decoded whole before any write
        fid = got.file_id
        maker = str(fid.get("manufacturer") or "unknown")
        product = str(fid.get("garmin_product") or fid.get("product") or "FIT device")
        serial = fid.get("serial_number")
        rec = DeviceRecord(address=f"fit:{maker}:{serial if serial is not None else product}", name=f"{maker} {product}",
                           family="garmin-fit", manufacturer=maker, model=product,
                           serial=None if serial is None else str(serial))  # fmt: skip
        device_id = record_device(self._db, self._clock, person_id, rec)
        outcome = Outcome(str(path), KIND)
        run_id = start_run(self._db, self._clock, person_id, device_id, str(path))
        outcome.run_id = run_id
        prov = Provenance(person_id, Source.IMPORT, device_id, run_id)
        sleep = list(rules.garmin_sleep(sorted(got.sleep_starts), sorted(got.levels)))
        unplaced = len(got.levels) - len(sleep)
        if unplaced:
            got.skipped["sleep levels without a known start, or unmeasurable"] = unplaced
        try:
            with self._ingest.staged() as batch:  # one transaction: all of the file or nothing
                batch.heart_rate(got.hr, prov)
                batch.rr(got.rr, prov)
                batch.sleep(sleep, prov)
        except Exception as exc:  # the database failed: still close the run (as failed, nothing stored)
            outcome.error = f"{path}: {exc}; nothing from this file was stored"
            finish_run(self._db, self._clock, run_id, IngestCounts(), outcome)
            raise
        counts = batch.counts
        outcome.rows = len(got.hr) + len(got.rr) + len(sleep)
        outcome.inserted = counts.heart_rate + counts.rr + counts.sleep
        outcome.notes.extend(f"skipped {n} {what}" for what, n in got.skipped.items())
        finish_run(self._db, self._clock, run_id, counts, outcome)
        return outcome
