"""Two devices, one person: both keep their samples; readers take one source per period by the stated rule;
the 0003 migration keeps existing data (SQLite batch copy and PostgreSQL in place)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from tracker.bootstrap import Tracker
from tracker.ingest import Provenance
from tracker.model import Source
from tracker.queries import SAMPLE_KINDS, read_samples, sample_source
from tracker.storage.db import SCHEMA_REVISION, _alembic_config, make_engine, upgrade_schema

T0 = 1_803_902_400_000


def _device(tracker: Tracker, person_id: int, address: str, name: str) -> int:
    from tracker.storage.models import Device

    with tracker.sessionmaker.begin() as db:
        d = Device(person_id=person_id, address=address, name=name, family="hrs", paired_ms=T0, bonded=False)
        db.add(d)
        db.flush()
        return d.id


def test_two_devices_at_the_same_instant_both_stored(tracker: Tracker) -> None:
    ana = tracker.people.add("Ana", "UTC")
    strap = _device(tracker, ana.id, "AA:00", "Strap")
    ring = _device(tracker, ana.id, "BB:00", "Ring")
    same = [(T0 + 60_000 * i, 60) for i in range(10)]
    assert tracker.ingest.heart_rate(same, Provenance(ana.id, Source.HISTORY, ring)) == 10
    assert tracker.ingest.heart_rate([(t, 70) for t, _ in same], Provenance(ana.id, Source.LIVE, strap)) == 10
    # and again: still idempotent per device
    assert tracker.ingest.heart_rate(same, Provenance(ana.id, Source.HISTORY, ring)) == 0
    with tracker.sessionmaker() as db:
        rows = db.execute(sa.text("SELECT device_key, count(*) FROM heart_rate GROUP BY device_key ORDER BY 1")).all()
    assert [tuple(r) for r in rows] == [(strap, 10), (ring, 10)]


def test_readers_choose_the_source_with_most_samples_per_period(tracker: Tracker) -> None:
    ana = tracker.people.add("Ana", "UTC")
    strap = _device(tracker, ana.id, "AA:01", "Strap")
    ring = _device(tracker, ana.id, "BB:01", "Ring")
    # the ring: one value a minute for 10 hours; the strap: one a second during one hour of it
    ring_rows = [(T0 + 60_000 * i, 55) for i in range(600)]
    strap_rows = [(T0 + 3_600_000 + 1000 * i, 80) for i in range(3600)]
    tracker.ingest.heart_rate(ring_rows, Provenance(ana.id, Source.HISTORY, ring))
    tracker.ingest.heart_rate(strap_rows, Provenance(ana.id, Source.LIVE, strap))
    hr = SAMPLE_KINDS["heart_rate"]
    # the strap's hour: the strap wins, and nothing of the ring is mixed in
    t, v = read_samples(tracker.sessionmaker, ana.id, hr, T0 + 3_600_000, T0 + 7_200_000)
    assert len(t) == 3600 and set(v.tolist()) == {80.0}
    chosen = sample_source(tracker.sessionmaker, ana.id, hr, T0 + 3_600_000, T0 + 7_200_000)
    assert chosen is not None and chosen[0].device_key == strap and chosen[1] == "Strap" and chosen[0].others == 1
    # a stretch only the ring covered: the ring
    t, v = read_samples(tracker.sessionmaker, ana.id, hr, T0 + 8 * 3_600_000, T0 + 10 * 3_600_000)
    assert len(t) == 120 and set(v.tolist()) == {55.0}
    # the reports layer follows the same rule
    t, v = tracker.reports.heart_rate(ana.id, T0 + 3_600_000, T0 + 7_200_000)
    assert len(t) == 3600 and set(v.tolist()) == {80.0}
    t, v = tracker.reports.heart_rate(ana.id, T0 + 8 * 3_600_000, T0 + 10 * 3_600_000)
    assert set(v.tolist()) == {55.0}


def test_tie_prefers_a_device_over_a_file_import(tracker: Tracker) -> None:
    ana = tracker.people.add("Ana", "UTC")
    ring = _device(tracker, ana.id, "BB:02", "Ring")
    rows = [(T0 + 60_000 * i, 1000.0) for i in range(5)]
    tracker.ingest.rr(rows, Provenance(ana.id, Source.IMPORT))
    tracker.ingest.rr([(t, 900.0) for t, _ in rows], Provenance(ana.id, Source.HISTORY, ring))
    t, v = tracker.reports.rr(ana.id, T0, T0 + 3_600_000)
    assert set(v.tolist()) == {900.0}


def test_migration_0003_keeps_existing_rows(database_url: str) -> None:
    engine = make_engine(database_url)
    cfg = _alembic_config(engine)
    command.upgrade(cfg, "0001")
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO person (id, name, tz, created_ms) VALUES (1, 'Ana', 'UTC', 0)"))
        conn.execute(sa.text(
            "INSERT INTO device (id, person_id, address, name, family, bonded, paired_ms) "
            "VALUES (7, 1, 'AA', 'Ring', 'colmi', false, 0)"
        ))
        conn.execute(sa.text(
            "INSERT INTO heart_rate (person_id, t_ms, bpm, device_id, source) VALUES "
            "(1, 1000, 60, 7, 'history'), (1, 2000, 61, NULL, 'import')"
        ))
        conn.execute(sa.text("INSERT INTO rr_interval (person_id, t_ms, rr_ms, device_id, source) VALUES (1, 1000, 812.5, 7, 'live')"))
        conn.execute(sa.text(
            "INSERT INTO sleep_stage (person_id, start_ms, end_ms, stage, device_id, source) VALUES (1, 0, 60000, 'deep', NULL, 'import')"
        ))
        conn.execute(sa.text(
            "INSERT INTO massage_session (id, person_id, status, kind, start_ms, end_ms, ics_uid, created_ms, updated_ms) "
            "VALUES (3, 1, 'planned', 'massage', 0, 3600000, 'uid-1', 0, 0)"
        ))
        conn.execute(sa.text(
            "INSERT INTO capture (id, person_id, session_id, phase, planned_start_ms, planned_end_ms, status) "
            "VALUES (4, 1, 3, 'pre', 0, 1, 'planned')"
        ))
    assert upgrade_schema(engine) == SCHEMA_REVISION
    with engine.connect() as conn:
        hr = conn.execute(sa.text("SELECT t_ms, bpm, device_id, device_key FROM heart_rate ORDER BY t_ms")).all()
        rr = conn.execute(sa.text("SELECT t_ms, rr_ms, device_key FROM rr_interval")).all()
        sl = conn.execute(sa.text("SELECT start_ms, stage, device_key FROM sleep_stage")).all()
        ses = conn.execute(sa.text("SELECT id, ics_uid, ics_recurrence_id, run_id FROM massage_session")).all()
        cap = conn.execute(sa.text("SELECT id, session_id FROM capture")).all()
    assert [tuple(r) for r in hr] == [(1000, 60, 7, 7), (2000, 61, None, 0)]
    assert [tuple(r) for r in rr] == [(1000, 812.5, 7)]
    assert [tuple(r) for r in sl] == [(0, "deep", 0)]
    assert [tuple(r) for r in ses] == [(3, "uid-1", "", None)]
    assert [tuple(r) for r in cap] == [(4, 3)]  # the batch copy of sessions did not cascade to captures
    # the wider key now takes a second device's value at the same instant
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO heart_rate (person_id, t_ms, bpm, device_key, source) VALUES (1, 1000, 70, 0, 'import')"
        ))
        if conn.dialect.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1  # back on after migrating
    engine.dispose()


def test_over_many_nights_each_night_takes_its_own_source(tracker: Tracker) -> None:
    """A ring worn on nights 0-2 and a band on nights 2-3: every night counts once, from one device."""
    ana = tracker.people.add("Ana", "UTC")
    ring = _device(tracker, ana.id, "BB:03", "Ring")
    band = _device(tracker, ana.id, "CC:03", "Band")
    night0 = T0 + 11 * 3_600_000  # 23:00 UTC

    def spans(first: int, last: int, minutes: int) -> list[tuple[int, int, str]]:
        out = []
        for night in range(first, last + 1):
            start = night0 + night * 86_400_000
            out += [(start + i * minutes * 60_000, start + (i + 1) * minutes * 60_000, "light") for i in range(420 // minutes)]
        return out

    tracker.ingest.sleep(spans(0, 2, 30), Provenance(ana.id, Source.HISTORY, ring))  # 14 spans a night
    tracker.ingest.sleep(spans(2, 3, 10), Provenance(ana.id, Source.HISTORY, band))  # 42 spans a night
    got = tracker.reports.sleep_spans(ana.id)
    starts = [s.start_ms for s in got]
    assert len(starts) == len(set(starts))  # no instant twice
    per_night = [sum(1 for s in got if (s.start_ms - night0) // 86_400_000 == n) for n in range(4)]
    assert per_night == [14, 14, 42, 42]  # ring, ring, band (more samples that night), band
    # heart rate the same way: the ring's minutes on night 0, the band's on night 3
    tracker.ingest.heart_rate([(night0 + 60_000 * i, 50) for i in range(400)], Provenance(ana.id, Source.HISTORY, ring))
    tracker.ingest.heart_rate([(night0 + 3 * 86_400_000 + 60_000 * i, 60) for i in range(400)],
                              Provenance(ana.id, Source.HISTORY, band))  # fmt: skip
    t, v = tracker.reports.heart_rate(ana.id, night0, night0 + 4 * 86_400_000)
    assert len(t) == 800 and sorted(set(v.tolist())) == [50.0, 60.0]
    t5, v5 = tracker.reports.heart_rate_5min(ana.id, night0, night0 + 4 * 86_400_000)
    assert sorted(set(v5.tolist())) == [50.0, 60.0] and len(t5) == len(set(t5.tolist()))
