"""`tracker demo`: a simulated person with 8 weeks of history, emulated devices, and the real service.

What flows through the real collector over the emulated radio (bumble in-process link): pairing the
strap and the ring (Device Information, battery), and the ring's sync (clock, battery, 8 weeks of its
5-minute heart-rate log and its sleep history). A standard Heart Rate Service strap keeps no history,
so the past overnight and session RR recordings (what a strap worn in those hours would have streamed)
are loaded through the ingest path as an import run named "demo: past strap recordings (simulated)".
Past sessions are logged through the session service; upcoming ones are planned, so the scheduler has
captures and syncs to run against the emulated strap and ring.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from dataclasses import dataclass

import numpy as np

from device.emulator.ring import EmulatedRing
from device.emulator.strap import EmulatedStrap
from tracker.config import Config
from tracker.ingest import Provenance
from tracker.model import RunKind, RunStatus, SessionKind, SessionStatus, Source
from tracker.physiology import Effects, PersonSpec, PlannedSession, simulate
from tracker.sessions import SessionFields
from tracker.timefmt import to_ms, zone

from .service import Service

logger = logging.getLogger(__name__)
DEMO_TZ = "Europe/Berlin"
HISTORY_DAYS = 56
OVERNIGHT_RR_HOURS = 4  # nightly lnRMSSD from the first 4 h after bedtime (a fixed block; science.md §5)
DEMO_EFFECTS = Effects(  # moderate, planted: what the evidence page should find (or honestly not)
    rest_hr_bpm=-2.0, rest_ln_rmssd=0.06, acute_hr_bpm=-3.0, acute_ln_rmssd=0.12,
    night_ln_rmssd=0.15, night_resting_hr_bpm=-1.5, night_tst_min=15.0,
    pain_delta=-2.0, stress_delta=-2.0, mood_delta=1.5,
)  # fmt: skip
TECHNIQUES = ["swedish", "deep_tissue", "swedish", "sports", "myofascial", "swedish", "thai", "hot_stone"]


@dataclass
class Demo:
    service: Service
    user: str
    password: str
    person_id: int


def _schedule(today: dt.date) -> list[tuple[dt.datetime, int, str, int]]:
    """(local start, minutes, kind, pressure) for ~10 past sessions (2 rest controls) and 2 upcoming."""
    tz = zone(DEMO_TZ)
    plan = []
    for i, days_ago in enumerate([52, 47, 42, 37, 33, 28, 23, 18, 12, 6]):
        kind = "rest" if i in (3, 7) else "massage"
        plan.append((dt.datetime.combine(today - dt.timedelta(days=days_ago), dt.time(17, 30), tzinfo=tz), 60, kind,
                     2 + i % 3))  # fmt: skip
    for days_ahead in (1, 4):
        plan.append((dt.datetime.combine(today + dt.timedelta(days=days_ahead), dt.time(17, 30), tzinfo=tz), 60,
                     "massage", 3))  # fmt: skip
    return plan


def build_demo(cfg: Config, seed: int = 1) -> Demo:
    now = dt.datetime.now(zone(DEMO_TZ))
    today = now.date()
    start = dt.datetime.combine(today - dt.timedelta(days=HISTORY_DAYS), dt.time(), tzinfo=zone(DEMO_TZ))
    plan = _schedule(today)
    planned = [PlannedSession(to_ms(s), to_ms(s) + m * 60_000, kind, pressure) for s, m, kind, pressure in plan]
    sim = simulate(PersonSpec(tz=DEMO_TZ), to_ms(start), HISTORY_DAYS + 6, planned, DEMO_EFFECTS, seed=seed)
    offset_ms = int(now.utcoffset().total_seconds() * 1000)  # type: ignore[union-attr]
    strap = EmulatedStrap(feed=sim, name="Demo Strap H1", seed=seed)
    ring = EmulatedRing(feed=sim, name="R02_DEMO", utc_offset_ms=offset_ms, history_days=HISTORY_DAYS + 1, seed=seed)

    async def attach(central) -> None:
        await central.emulator.add(strap)
        await central.emulator.add(ring)

    service = Service(cfg, transport="emulator", on_loop_start=attach)
    service.start()
    try:
        t = service.tracker
        password = secrets.token_urlsafe(9)
        t.users.add("demo", password)
        person = t.people.add("Demo", DEMO_TZ, "demo")
        strap_id = service.runtime.pair(strap.address_str, person.id)
        ring_id = service.runtime.pair(ring.address_str, person.id)
        outcome = service.runtime.sync(ring_id)
        logger.info("demo ring sync: %s", outcome)
        _load_past_recordings(service, person.id, strap_id, sim, planned)
        now_ms = t.clock.now_ms()
        for i, ((_local_start, _minutes, kind, pressure), ps) in enumerate(zip(plan, planned, strict=True)):
            past = ps.end_ms < now_ms
            reports = sim.self_reports(ps) if past else None
            fields = SessionFields(
                start_ms=ps.start_ms, end_ms=ps.end_ms, kind=SessionKind(kind),
                technique=TECHNIQUES[i % len(TECHNIQUES)] if kind == "massage" else None,
                pressure=pressure if kind == "massage" else None,
                areas=("back", "neck", "shoulders") if kind == "massage" else (),
                therapist="Mia" if kind == "massage" else None,
                notes="rest control: lay down for the same time, no massage" if kind == "rest" else None,
                **({} if reports is None else {
                    "pain_before": reports.pain_before, "pain_after": reports.pain_after,
                    "stress_before": reports.stress_before, "stress_after": reports.stress_after,
                    "mood_before": reports.mood_before, "mood_after": reports.mood_after,
                }),
            )  # fmt: skip
            t.sessions.create(person.id, fields, status=SessionStatus.DONE if past else SessionStatus.PLANNED)
        t.reports.rebuild_nights(person.id)
    except BaseException:
        service.stop()
        raise
    return Demo(service, "demo", password, person.id)


def _load_past_recordings(service: Service, person_id: int, strap_id: int, sim, planned: list[PlannedSession]) -> None:
    t = service.tracker
    now_ms = t.clock.now_ms()
    run_id = t.devices.start_run(RunKind.IMPORT, strap_id, person_id, "demo: past strap recordings (simulated)")
    prov = Provenance(person_id, Source.IMPORT, strap_id, run_id)
    windows = []
    nights = sim.nights()
    for bed_ms in np.asarray(nights.bedtime_ms, dtype=np.int64):
        end = int(bed_ms) + OVERNIGHT_RR_HOURS * 3_600_000
        if end < now_ms:
            windows.append((int(bed_ms), end))
    for ps in planned:
        if ps.end_ms + 20 * 60_000 < now_ms:
            windows.append((ps.start_ms - 10 * 60_000, ps.start_ms))
            windows.append((ps.end_ms, ps.end_ms + 15 * 60_000))
    total = 0
    for lo, hi in windows:
        t_ms, rr_ms = sim.rr(lo, hi)
        total += t.ingest.rr(zip(t_ms.tolist(), rr_ms.tolist(), strict=True), prov)
    t.devices.finish_run(run_id, RunStatus.OK, rr_count=total)
