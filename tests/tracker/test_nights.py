"""Stored nightly summaries equal a recomputation from the raw samples after imports, syncs and deletions."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import sqlalchemy as sa

from tests.web.seed import DAY_MS, MIN_MS, rr_series, seed_person
from tracker.analysis.sleep import Night
from tracker.bootstrap import Tracker
from tracker.ingest import Ingest, Provenance
from tracker.model import Source
from tracker.night_compute import all_labels, compute_nights
from tracker.nights import touch
from tracker.samples import SampleReader
from tracker.storage.models import HeartRateRow, NightDirty, NightSummary, RRRow, SleepRow


def _same(a: Night, b: Night) -> bool:
    for f in dataclasses.fields(Night):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y):
            continue
        if x != y:
            return False
    return True


def _assert_equal(stored: tuple[Night, ...], expected: tuple[Night, ...]) -> None:
    assert [n.label for n in stored] == [n.label for n in expected]
    for a, b in zip(stored, expected, strict=True):
        assert _same(a, b), (a, b)


def _recomputed(tracker: Tracker, person_id: int) -> tuple[Night, ...]:
    """Every night computed afresh from the samples (no stored state involved)."""
    tz = tracker.people.get(person_id).tz
    with tracker.sessionmaker() as db:
        nights = compute_nights(db, person_id, tz, all_labels(db, person_id, tz))
    return tuple(nights[k] for k in sorted(nights))


def _pending(tracker: Tracker) -> int:
    with tracker.sessionmaker() as db:
        return int(db.scalar(sa.select(sa.func.count()).select_from(NightDirty)) or 0)


def test_import_stores_nights_that_equal_the_raw_computation(tracker: Tracker) -> None:
    person = tracker.people.add("Ana", "Europe/Berlin")
    seeded = seed_person(tracker, person, nights=20)
    assert _pending(tracker) > 0  # the ingest marked what it wrote
    stored = tracker.nights.nights(person.id)
    assert _pending(tracker) == 0
    assert len(stored) == 20 and stored[-1].label == seeded.last_night
    _assert_equal(stored, _recomputed(tracker, person.id))
    assert all(n.resting_hr_bpm is not None and n.ln_rmssd_night is not None for n in stored)
    # The old whole-history path (every sample of the person in one array) agrees on every metric.
    old = SampleReader(tracker.sessionmaker).nights_from_samples(person.id, person.tz)
    assert [n.label for n in old] == [n.label for n in stored]
    for a, b in zip(stored, old, strict=True):
        assert dataclasses.replace(a, ln_rmssd_night=None) == dataclasses.replace(b, ln_rmssd_night=None)
        assert a.ln_rmssd_night == b.ln_rmssd_night or abs(a.ln_rmssd_night - b.ln_rmssd_night) < 1e-9


def test_incremental_syncs_and_deletions_keep_summaries_equal_to_recomputation(tracker: Tracker) -> None:
    person = tracker.people.add("Ben", "America/New_York")
    seeded = seed_person(tracker, person, nights=12, seed=3)
    before = tracker.nights.nights(person.id)
    last = before[-1]

    # A sync of the same ring in small chunks, as the collector writes: a new night after the last one,
    # and RR inside it.
    small = Ingest(tracker.sessionmaker, chunk_rows=7)
    prov = Provenance(person.id, Source.HISTORY, seeded.device.id)
    onset = last.sleep_onset_ms + DAY_MS
    spans = [(onset - 10 * MIN_MS, onset, "awake")]
    t = onset
    for stage, minutes in (("light", 40), ("deep", 30), ("rem", 20), ("light", 60), ("deep", 25), ("rem", 25)) * 2:
        spans.append((t, t + minutes * MIN_MS, stage))
        t += minutes * MIN_MS
    small.sleep(spans, prov)
    rng = np.random.default_rng(5)
    small.rr(rr_series(rng, onset + 60 * MIN_MS, 25 * 60, 1050.0, 40), prov)
    small.heart_rate([(h, 55 + (h // MIN_MS) % 3) for h in range(onset, t, MIN_MS)], prov)
    # Extra RR inside an existing night changes its lnRMSSD.
    small.rr(rr_series(rng, before[3].sleep_onset_ms + 30 * MIN_MS, 15 * 60, 900.0, 80), prov)

    after = tracker.nights.nights(person.id)
    assert len(after) == len(before) + 1
    assert after[3].n_hrv_windows > before[3].n_hrv_windows
    _assert_equal(after, _recomputed(tracker, person.id))
    assert tracker.nights.refresh(person.id) == 0  # idempotent: nothing pending, nothing redone

    # Deletions (an undo): remove one night's sleep and another night's RR, marking the ranges.
    gone, thinned = after[5], after[7]
    with tracker.sessionmaker.begin() as db:
        db.execute(sa.delete(SleepRow).where(SleepRow.person_id == person.id,
                                             SleepRow.start_ms >= gone.bed_start_ms, SleepRow.start_ms < gone.bed_end_ms))  # fmt: skip
        touch(db, person.id, gone.bed_start_ms, gone.bed_end_ms)
        db.execute(sa.delete(RRRow).where(RRRow.person_id == person.id, RRRow.t_ms >= thinned.sleep_onset_ms,
                                          RRRow.t_ms < thinned.sleep_end_ms))  # fmt: skip
        db.execute(sa.delete(HeartRateRow).where(HeartRateRow.person_id == person.id,
                                                 HeartRateRow.t_ms >= thinned.sleep_onset_ms,
                                                 HeartRateRow.t_ms < thinned.sleep_end_ms))  # fmt: skip
        touch(db, person.id, thinned.sleep_onset_ms, thinned.sleep_end_ms)
    final = tracker.nights.nights(person.id)
    assert gone.label not in [n.label for n in final]
    by_label = {n.label: n for n in final}
    assert by_label[thinned.label].ln_rmssd_night is None and by_label[thinned.label].resting_hr_bpm is None
    _assert_equal(final, _recomputed(tracker, person.id))

    # A full rebuild changes nothing: the incremental path and the bulk path agree.
    assert tracker.nights.rebuild(person.id) == len(final)
    _assert_equal(tracker.nights.nights(person.id), final)


def test_a_resync_of_known_rows_marks_nothing(tracker: Tracker) -> None:
    person = tracker.people.add("Cy", "UTC")
    prov = Provenance(person.id, Source.HISTORY)
    rows = [(1_800_000_000_000 + i * MIN_MS, 60) for i in range(50)]
    tracker.ingest.heart_rate(rows, prov)
    assert _pending(tracker) == 1
    tracker.nights.refresh(person.id)
    assert tracker.ingest.heart_rate(rows, prov) == 0
    assert _pending(tracker) == 0


def test_recent_and_arrays_read_one_period(tracker: Tracker) -> None:
    person = tracker.people.add("Dee", "Europe/Berlin")
    seed_person(tracker, person, nights=15, seed=11)
    every = tracker.nights.nights(person.id)
    assert tracker.nights.recent(person.id, 4) == every[-4:]
    arrays = tracker.nights.arrays(person.id, every[2].label, every[9].label)
    assert arrays.labels == tuple(n.label for n in every[2:10])
    assert np.allclose(arrays.metrics["tst_min"], [n.tst_min for n in every[2:10]])
    assert np.allclose(arrays.metrics["resting_hr_bpm"], [n.resting_hr_bpm for n in every[2:10]])
    # The report services read the stored nights.
    assert tracker.reports.nights(person.id) == every
    assert tracker.reports.recent_nights(person.id, 3) == every[-3:]


def test_migration_fills_summaries_of_existing_data(tmp_path: Path, database_url: str) -> None:
    from alembic import command

    from tracker.bootstrap import build_tracker
    from tracker.clock import ManualClock
    from tracker.config import Config, DatabaseConfig, PathsConfig
    from tracker.storage.db import _alembic_config, make_engine, upgrade_schema

    from tests.conftest import T0_MS

    engine = make_engine(database_url)
    command.upgrade(_alembic_config(engine), "0001")  # the schema before stored nights
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO person (id, name, tz, created_ms) VALUES (1, 'Eve', 'Europe/Berlin', 0)"))
        onset = T0_MS - 3 * DAY_MS
        for k in range(3):
            t0 = onset + k * DAY_MS
            spans = [(t0, t0 + 200 * MIN_MS, "light"), (t0 + 200 * MIN_MS, t0 + 420 * MIN_MS, "deep")]
            for s, e, st in spans:
                conn.execute(sa.text("INSERT INTO sleep_stage (person_id, start_ms, end_ms, stage, source) "
                                     "VALUES (1, :s, :e, :st, 'import')"), {"s": s, "e": e, "st": st})  # fmt: skip
            for i in range(0, 420, 1):
                conn.execute(sa.text("INSERT INTO heart_rate (person_id, t_ms, bpm, source) VALUES (1, :t, :b, 'import')"),
                             {"t": t0 + i * MIN_MS, "b": 50 + (i % 7)})  # fmt: skip
    upgrade_schema(engine)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(NightSummary)).scalar() == 3
    engine.dispose()
    cfg = Config(database=DatabaseConfig(url=database_url), paths=PathsConfig(str(tmp_path / "d")), base_dir=tmp_path)
    t = build_tracker(cfg, ManualClock(T0_MS))
    try:
        stored = t.nights.nights(1)
        assert len(stored) == 3 and all(n.resting_hr_bpm is not None for n in stored)
        _assert_equal(stored, _recomputed(t, 1))
    finally:
        t.close()


def test_cli_rebuild(tracker: Tracker, config_file: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from tracker.cli import main

    person = tracker.people.add("Flo", "Europe/Berlin")
    seed_person(tracker, person, nights=6, seed=2)
    with tracker.sessionmaker.begin() as db:  # damage a stored night: rebuild must restore it
        tracker.nights.refresh(person.id)
        db.execute(sa.update(NightSummary).values(tst_min=1.0))
    assert main(["--config", str(config_file), "nights", "rebuild", "--person", "Flo"]) == 0
    assert "Flo: 6 nights" in capsys.readouterr().out
    _assert_equal(tracker.nights.nights(person.id), _recomputed(tracker, person.id))
    assert main(["--config", str(config_file), "nights", "rebuild", "--person", "Nobody"]) == 2


def test_a_night_takes_one_source_per_metric(tracker: Tracker) -> None:
    """An imported file's few readings inside a ring's night neither set its resting HR nor join its HRV
    windows, and a second device's stages do not double the night (tracker.sources.RULE per night)."""
    person = tracker.people.add("Cy", "Europe/Berlin")
    seed_person(tracker, person, nights=6, seed=9)
    before = {n.label: n for n in tracker.nights.nights(person.id)}
    night = before[max(before)]
    onset = night.sleep_onset_ms
    imported = Provenance(person.id, Source.IMPORT)
    Ingest(tracker.sessionmaker).heart_rate([(onset + 90 * MIN_MS + k * MIN_MS, 30) for k in range(6)], imported)
    rng = np.random.default_rng(1)
    Ingest(tracker.sessionmaker).rr(rr_series(rng, onset + 95 * MIN_MS, 120, 400.0, 150), imported)
    band = tracker.devices.upsert("AA:BB:CC:00:00:09", person.id, name="Cy's band", family="huami")
    Ingest(tracker.sessionmaker).sleep([(night.sleep_onset_ms + 5 * MIN_MS, night.sleep_onset_ms + 45 * MIN_MS, "deep")],
                                       Provenance(person.id, Source.HISTORY, band.id))
    after = {n.label: n for n in tracker.nights.nights(person.id)}
    assert _same(after[night.label], night), (after[night.label], night)
    _assert_equal(tuple(after[k] for k in sorted(after)), _recomputed(tracker, person.id))
