"""Ingest benchmark: the CSV import a user runs (`tracker import`), end to end, against minimal scripts.

For each format (heart_rate.csv, rr_intervals.csv, sleep_stages.csv) and each file size, a fresh child
process imports the file through the project's path (Interchange.import_paths: read, validate, stage,
merge, record the run) into a fresh database, and a second child runs a minimal baseline on the same
file: csv.reader + datetime.fromisoformat + sqlite3 executemany in one transaction (SQLite), or a bare
psycopg COPY of the parsed rows (PostgreSQL, with --postgres URL). Each child reports its own wall time,
CPU time and peak memory (ru_maxrss), so memory is measured per file size, not accumulated.

Targets (issue 12): peak under 200 MB at 1,000,000 rows whatever the size; rows/s >= 0.7x the minimal
csv + sqlite3 script; on PostgreSQL >= 0.5x a bare psycopg COPY.

    python benchmarks/ingest.py [--rows 100000 1000000] [--repeat 3] [--formats heart_rate rr sleep]
                                [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

T0_MS = 1_800_000_000_000
FILES = {"heart_rate": "heart_rate.csv", "rr": "rr_intervals.csv", "sleep": "sleep_stages.csv"}
TABLES = {"heart_rate": ("heart_rate", "t_ms, bpm"), "rr": ("rr_interval", "t_ms, rr_ms"),
          "sleep": ("sleep_stage", "start_ms, end_ms, stage")}  # fmt: skip
STAGES = ("light", "deep", "rem", "awake")


def _iso(t_ms: int) -> str:
    moment = dt.datetime.fromtimestamp(t_ms / 1000, dt.timezone(dt.timedelta(hours=1)))
    return moment.isoformat(timespec="seconds")


def write_csv(path: Path, fmt: str, n: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        if fmt == "heart_rate":
            w.writerow(("timestamp", "bpm"))
            w.writerows((_iso(T0_MS + 1000 * i), 50 + (i * 7919) % 90) for i in range(n))
        elif fmt == "rr":
            w.writerow(("timestamp", "rr_ms"))
            w.writerows((_iso(T0_MS + 1000 * i), 600 + (i * 104729) % 500 + 0.5) for i in range(n))
        else:
            w.writerow(("start", "end", "stage"))
            w.writerows((_iso(T0_MS + 30_000 * i), _iso(T0_MS + 30_000 * (i + 1)), STAGES[i % 4]) for i in range(n))


# -- children (each measures itself) ------------------------------------------------------------------


def _parse_baseline(fmt: str, path: Path):  # noqa: ANN202 - a generator of tuples
    def ms(text: str) -> int:
        return int(dt.datetime.fromisoformat(text).timestamp() * 1000)

    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        next(reader)
        if fmt == "heart_rate":
            yield from ((ms(t), int(b)) for t, b in reader)
        elif fmt == "rr":
            yield from ((ms(t), float(r)) for t, r in reader)
        else:
            yield from ((ms(s), ms(e), st) for s, e, st in reader)


def child_baseline_sqlite(fmt: str, path: Path, url: str, person_id: int) -> int:
    table, cols = TABLES[fmt]
    conn = sqlite3.connect(url.removeprefix("sqlite:///"))
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    marks = ", ".join("?" * (len(cols.split(",")) + 1))
    with conn:  # one transaction
        conn.executemany(
            f"INSERT INTO {table} (person_id, {cols}, source) VALUES ({marks}, 'import')",
            ((person_id, *row) for row in _parse_baseline(fmt, path)),
        )
    n = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    conn.close()
    return int(n)


def child_baseline_pg(fmt: str, path: Path, url: str, person_id: int) -> int:
    import psycopg

    table, cols = TABLES[fmt]
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        with conn.cursor() as cur, cur.copy(f"COPY {table} (person_id, {cols}, source) FROM STDIN") as copy:
            for row in _parse_baseline(fmt, path):
                copy.write_row((person_id, *row, "import"))
        conn.commit()
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # type: ignore[index]


def child_project(fmt: str, path: Path, url: str, person_id: int) -> int:
    from tracker.bootstrap import build_tracker
    from tracker.clock import SystemClock
    from tracker.config import Config, DatabaseConfig

    tracker = build_tracker(Config(database=DatabaseConfig(url=url)), SystemClock())
    try:
        person = next(p for p in tracker.people.list() if p.id == person_id)
        result = tracker.interchange.import_paths(person, [path])
    finally:
        tracker.close()
    assert result.ok, result.files[0].error
    return result.files[0].inserted


CHILDREN = {"project": child_project, "baseline-sqlite": child_baseline_sqlite, "baseline-pg": child_baseline_pg}


def run_child(argv: list[str]) -> None:
    mode, fmt, path, url, person_id = argv
    if mode == "project":  # module imports are start-up, not import work: load them before the clock starts
        import tracker.bootstrap  # noqa: F401
    wall0, cpu0 = time.perf_counter(), time.process_time()
    rows = CHILDREN[mode](fmt, Path(path), url, int(person_id))
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
    print(json.dumps({"rows": rows, "wall_s": wall, "cpu_s": cpu, "peak_mb": peak_mb}))


# -- parent ----------------------------------------------------------------------------------------------


def fresh_db(directory: Path, pg_url: str | None) -> tuple[str, int, object]:
    """A fresh database at the newest schema with one person; returns (url, person id, cleanup)."""
    from tracker.clock import SystemClock
    from tracker.people import People
    from tracker.storage.db import make_engine, make_sessionmaker, upgrade_schema

    import sqlalchemy as sa

    cleanup: Any = None
    if pg_url:
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(pg_url)
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))

        def drop_schema() -> None:
            with admin.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()

        cleanup = drop_schema

        sep = "&" if "?" in pg_url else "?"
        url = f"{pg_url}{sep}options={quote(f'-csearch_path={schema}')}"
    else:
        url = f"sqlite:///{directory / f'{uuid.uuid4().hex[:8]}.db'}"
    engine = make_engine(url)
    upgrade_schema(engine)
    person = People(make_sessionmaker(engine), SystemClock()).add("bench", "UTC")
    engine.dispose()
    return url, person.id, cleanup


def measure(mode: str, fmt: str, path: Path, directory: Path, pg_url: str | None) -> dict[str, float]:
    url, person_id, cleanup = fresh_db(directory, pg_url)
    try:
        out = subprocess.run(
            [sys.executable, __file__, "--child", mode, fmt, str(path), url, str(person_id)],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
    finally:
        if cleanup:
            cleanup()  # type: ignore[operator]
    return json.loads(out.stdout.strip().splitlines()[-1])


def median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        run_child(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000], help="rows per file")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each path; medians are reported")
    parser.add_argument("--formats", nargs="+", default=list(FILES), choices=list(FILES))
    parser.add_argument("--postgres", metavar="URL", help="also measure on this PostgreSQL database")
    args = parser.parse_args()
    backends = [("sqlite", None, "baseline-sqlite", "csv + sqlite3 executemany", 0.7)]
    if args.postgres:
        backends.append(("postgresql", args.postgres, "baseline-pg", "bare psycopg COPY", 0.5))
    print(f"{'backend':10} {'format':10} {'rows':>9} {'file MB':>7} | {'project rows/s':>14} {'cpu s':>6} "
          f"{'peak MB':>7} | {'baseline rows/s':>15} {'cpu s':>6} {'peak MB':>7} | ratio wall, cpu (target)")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        for n in args.rows:
            for fmt in args.formats:
                path = directory / f"{n}" / FILES[fmt]
                path.parent.mkdir(exist_ok=True)
                write_csv(path, fmt, n)
                size_mb = path.stat().st_size / 1e6
                for backend, pg_url, baseline, _label, target in backends:
                    ours, base = [], []
                    for _ in range(args.repeat):
                        ours.append(measure("project", fmt, path, directory, pg_url))
                        base.append(measure(baseline, fmt, path, directory, pg_url))
                    assert all(r["rows"] == n for r in ours + base), (ours, base)
                    o_wall, b_wall = median([r["wall_s"] for r in ours]), median([r["wall_s"] for r in base])
                    o_cpu, b_cpu = median([r["cpu_s"] for r in ours]), median([r["cpu_s"] for r in base])
                    print(
                        f"{backend:10} {fmt:10} {n:>9,} {size_mb:>7.1f} | {n / o_wall:>14,.0f} "
                        f"{o_cpu:>6.2f} {max(r['peak_mb'] for r in ours):>7.0f} | "
                        f"{n / b_wall:>15,.0f} {b_cpu:>6.2f} {max(r['peak_mb'] for r in base):>7.0f} | "
                        f"{b_wall / o_wall:.2f}, {b_cpu / o_cpu:.2f} (>= {target})",
                        flush=True,
                    )
    print(f"medians of {args.repeat} runs; ratio = baseline time / project time (wall, and CPU of the importing "
          "process: PostgreSQL's server CPU is not in it); peak MB is the largest ru_maxrss of the child processes.")
    print("baselines: " + "; ".join(f"{b}: {label}" for b, _, _, label, _ in backends) + " (same file, same schema).")


if __name__ == "__main__":
    main()
