"""Ingest benchmark: 1,000,000 heart-rate and 1,000,000 RR rows into a fresh SQLite file.

Compares the project's write path (tracker.ingest: chunked transactions, ON CONFLICT DO NOTHING,
provenance columns) with plain `sqlite3.executemany` of the same rows into the same schema in one
transaction, measured in the same run. Prints rows/s for both, their ratio, and the peak memory (RSS).
Target: ratio >= 0.5, peak < 300 MB.

    python benchmarks/ingest.py [--rows N]
"""

from __future__ import annotations

import argparse
import resource
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from tracker.clock import SystemClock
from tracker.ingest import Ingest, Provenance
from tracker.model import Source
from tracker.people import People
from tracker.storage.db import make_engine, make_sessionmaker, upgrade_schema

T0_MS = 1_800_000_000_000


def hr_rows(n: int) -> Iterator[tuple[int, int]]:
    return ((T0_MS + 1000 * i, 50 + (i * 7919) % 90) for i in range(n))


def rr_rows(n: int) -> Iterator[tuple[int, float]]:
    return ((T0_MS + 857 * i, (700 + (i * 104729) % 500) * 1000 / 1024) for i in range(n))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def fresh_db(directory: Path, name: str) -> tuple[str, int]:
    url = f"sqlite:///{directory / name}"
    engine = make_engine(url)
    upgrade_schema(engine)
    person = People(make_sessionmaker(engine), SystemClock()).add("bench", "UTC")
    engine.dispose()
    return url, person.id


def project_path(directory: Path, n: int) -> float:
    url, person_id = fresh_db(directory, "project.db")
    engine = make_engine(url)
    ingest = Ingest(make_sessionmaker(engine))
    prov = Provenance(person_id, Source.IMPORT)
    start = time.perf_counter()
    written = ingest.heart_rate(hr_rows(n), prov) + ingest.rr(rr_rows(n), prov)
    elapsed = time.perf_counter() - start
    engine.dispose()
    assert written == 2 * n, written
    return elapsed


def raw_sqlite(directory: Path, n: int) -> float:
    url, person_id = fresh_db(directory, "raw.db")
    conn = sqlite3.connect(url.removeprefix("sqlite:///"))
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    start = time.perf_counter()
    with conn:  # one transaction
        conn.executemany(
            "INSERT INTO heart_rate (person_id, t_ms, bpm, device_id, source, run_id) VALUES (?, ?, ?, NULL, 'import', NULL)",
            ((person_id, t, b) for t, b in hr_rows(n)),
        )
        conn.executemany(
            "INSERT INTO rr_interval (person_id, t_ms, rr_ms, device_id, source, run_id) VALUES (?, ?, ?, NULL, 'import', NULL)",
            ((person_id, t, r) for t, r in rr_rows(n)),
        )
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows per table (default 1,000,000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each path; the median is reported")
    args = parser.parse_args()
    n = args.rows
    ours, raw = [], []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            ours.append(project_path(Path(tmp), n))
        peak_after_ours = peak_rss_mb()
        with tempfile.TemporaryDirectory() as tmp:
            raw.append(raw_sqlite(Path(tmp), n))
    ours_s, raw_s = sorted(ours)[len(ours) // 2], sorted(raw)[len(raw) // 2]
    total = 2 * n
    print(f"rows written:              {total:,} ({n:,} heart rate + {n:,} RR), median of {args.repeat} runs")
    print(f"project ingest path:       {ours_s:6.2f} s  {total / ours_s:12,.0f} rows/s")
    print(f"plain sqlite3 executemany: {raw_s:6.2f} s  {total / raw_s:12,.0f} rows/s")
    print(f"ratio (project / raw):     {raw_s / ours_s:.2f}   (target >= 0.50)")
    print(f"peak memory (RSS):         {peak_after_ours:.0f} MB   (target < 300 MB)")


if __name__ == "__main__":
    main()
