"""Stored data for page tests, written through the tracker services (sessions, ingest with provenance).

`seed_person` gives a person about five weeks of nights (staged sleep, a ring's 5-minute heart rate, 20
minutes of RR each night), done massage and rest sessions with RR in their capture windows and
self-reports, one planned session with capture rows, and a paired device with a battery level.
Seeded numpy generator: the same data every run.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np

from tests.conftest import T0_MS
from tracker.bootstrap import Tracker
from tracker.devices import DeviceInfo
from tracker.ingest import Provenance
from tracker.model import RunKind, RunStatus, SessionKind, Source
from tracker.people import PersonInfo
from tracker.sessions import SessionFields, SessionInfo

MIN_MS = 60_000
DAY_MS = 86_400_000
# One sleep cycle: (stage, minutes); a night is awake-in-bed, then cycles, then awake.
CYCLE = (("light", 35), ("deep", 25), ("light", 10), ("rem", 18), ("awake", 2))


@dataclass(frozen=True)
class Seeded:
    person: PersonInfo
    sessions: list[SessionInfo]  # done, oldest first
    planned: SessionInfo
    device: DeviceInfo
    first_night: dt.date
    last_night: dt.date


def rr_series(rng: np.random.Generator, start_ms: int, seconds: float, mean_rr_ms: float, sd_ms: float = 35.0) -> list[tuple[int, float]]:
    """Beats with respiratory modulation and noise; t_ms = the beat that ends each interval."""
    rows = []
    t = float(start_ms)
    end = start_ms + seconds * 1000
    i = 0
    while True:
        rr = mean_rr_ms + 0.8 * sd_ms * np.sin(2 * np.pi * i / 4.5) + rng.normal(0, sd_ms * 0.6)
        t += rr
        if t >= end:
            return rows
        rows.append((int(t), round(float(rr), 1)))
        i += 1


def seed_person(tracker: Tracker, person: PersonInfo, nights: int = 35, seed: int = 7) -> Seeded:
    rng = np.random.default_rng(seed)
    zone = ZoneInfo(person.tz)
    device = tracker.devices.upsert(f"C4:7C:8D:6A:11:{person.id:02X}", person.id, name=f"{person.name}'s ring",
                                    family="colmi", battery_pct=64)  # fmt: skip
    run_id = tracker.devices.start_run(RunKind.SYNC, device.id, person.id, origin="test")
    history = Provenance(person.id, Source.HISTORY, device.id, run_id)
    live = Provenance(person.id, Source.LIVE, device.id, run_id)
    today = dt.datetime.fromtimestamp(T0_MS / 1000, zone).date()
    first = today - dt.timedelta(days=nights - 1)
    sleep_rows: list[tuple[int, int, str]] = []
    hr_rows: list[tuple[int, int]] = []
    rr_rows: list[tuple[int, float]] = []
    for k in range(nights):
        label = first + dt.timedelta(days=k)
        bed = dt.datetime.combine(label - dt.timedelta(days=1), dt.time(22, 45), tzinfo=zone)
        t = int(bed.timestamp() * 1000) + int(rng.integers(0, 40)) * MIN_MS
        sleep_rows.append((t, t + 12 * MIN_MS, "awake"))
        t += 12 * MIN_MS
        for _ in range(5):
            for stage, minutes in CYCLE:
                length = max(1, int(minutes + rng.normal(0, 3))) * MIN_MS
                sleep_rows.append((t, t + length, stage))
                t += length
        sleep_rows.append((t, t + 8 * MIN_MS, "awake"))
        night_start, night_end = int(bed.timestamp() * 1000), t + 8 * MIN_MS
        base_hr = 52 + rng.normal(0, 1.5)
        for h in range(night_start - night_start % (5 * MIN_MS), night_end, 5 * MIN_MS):
            hr_rows.append((h, int(round(base_hr + rng.normal(0, 2)))))
        rr_rows += rr_series(rng, night_start + 3 * 3600_000, 20 * 60, 60000 / base_hr, 45)
    tracker.ingest.sleep(sleep_rows, history)
    tracker.ingest.heart_rate(hr_rows, history)
    tracker.ingest.rr(rr_rows, history)

    sessions: list[SessionInfo] = []
    days = [3, 6, 10, 13, 17, 20, 24, 27, 31]
    for i, d in enumerate(days):
        day = first + dt.timedelta(days=d)
        start = int(dt.datetime.combine(day, dt.time(10, 0), tzinfo=zone).timestamp() * 1000)
        kind = SessionKind.REST if i in (2, 6) else SessionKind.MASSAGE
        info = tracker.sessions.create(person.id, SessionFields(
            start, start + 60 * MIN_MS, kind=kind, technique=None if kind == SessionKind.REST else "swedish",
            pressure=None if kind == SessionKind.REST else 3, pain_before=5, pain_after=3 + i % 2,
            stress_before=6, stress_after=3, mood_before=5, mood_after=7,
        ))  # fmt: skip
        pre_rr = 60000 / (68 + rng.normal(0, 2))
        post_rr = 60000 / (62 + rng.normal(0, 2))
        tracker.ingest.rr(rr_series(rng, start - 5 * MIN_MS, 300, pre_rr, 30), live)
        tracker.ingest.rr(rr_series(rng, start + 65 * MIN_MS, 300, post_rr, 40), live)
        for phase, a, b in (("pre", start - 5 * MIN_MS, start), ("post", start + 65 * MIN_MS, start + 70 * MIN_MS)):
            cid = tracker.devices.new_capture(person.id, device.id, a, b, session_id=info.id, phase=phase)
            tracker.devices.update_capture(cid, status="ok", started_ms=a, ended_ms=b, beats=300, artifact_pct=0.7,
                                           missing_s=2.0)  # fmt: skip
        sessions.append(info)
    tracker.devices.finish_run(run_id, RunStatus.OK, heart_rate_count=len(hr_rows), rr_count=len(rr_rows),
                               sleep_count=len(sleep_rows))  # fmt: skip

    start = T0_MS + 2 * DAY_MS
    planned = tracker.sessions.create(person.id, SessionFields(start, start + 45 * MIN_MS, technique="deep_tissue"))
    tracker.devices.new_capture(person.id, device.id, start - 5 * MIN_MS, start, session_id=planned.id, phase="pre")
    return Seeded(person, sessions, planned, tracker.devices.get(device.id), first, today)
