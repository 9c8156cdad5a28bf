"""The clinic-sized data set of the web and load benchmarks, built once through the product's own write paths.

What it holds (issue "Fast at any length of history"):
- account `clinic`: 20 people × 2 years of 1-minute heart rate (the whole day, as a ring logs it; minutes
  off the wrist are missing), nightly sleep stages, and ~200 past sessions each with RR intervals (the
  physiology model's beats, about one a second) over the capture plan's pre and post windows;
- account `longterm`: one person × 5 years of the same, plus 4 h of RR from bedtime every night (a strap worn
  at night: what `tracker demo` stores, ~14,000 beats a night).

Everything comes from the seeded physiology model (tracker.physiology.simulate, one seed per person) and
goes in through the product: `Ingest` (chunked bulk writes with provenance and runs; COPY on PostgreSQL),
`Sessions.create_all`, and `NightStore.rebuild` for the stored nightly summaries.

Built once and cached, keyed by its parameters and the schema revision: the simulated arrays (npz) and the
SQLite file live under `--data-dir` (default: a folder in the system temp dir, outside the repository);
on PostgreSQL (`--postgres URL`) the data set gets its own database `bench_<key>`, created here (the
database named in the URL is only used to connect; nothing but `bench_*` databases is ever dropped). A
manifest written last marks a finished build; an interrupted one is rebuilt from scratch.

    python benchmarks/clinic_data.py [--quick] [--postgres URL] [--data-dir DIR] [--rebuild] [--jobs 2]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import hashlib
import json
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

# `python benchmarks/x.py` puts benchmarks/ first on sys.path, where web.py would shadow the `web` package.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import sqlalchemy as sa  # noqa: E402

from tracker.bootstrap import Tracker, build_tracker  # noqa: E402
from tracker.config import CaptureConfig, Config, DatabaseConfig, PathsConfig  # noqa: E402
from tracker.ingest import Ingest, Provenance  # noqa: E402
from tracker.model import RunKind, RunStatus, SessionKind, Source  # noqa: E402
from tracker.physiology import Effects, PersonSpec, PlannedSession, simulate  # noqa: E402
from tracker.sessions import SessionFields  # noqa: E402
from tracker.storage.db import make_engine, upgrade_schema  # noqa: E402
from tracker.timefmt import to_ms, zone  # noqa: E402

TZ = "Europe/Berlin"
DAY_MS = 86_400_000
MINUTE_MS = 60_000
PASSWORD = "benchmark-password"
CHUNK_ROWS = 100_000  # bigger chunks than the collector's: fewer transactions, same path
STAGE_CODES = ("awake", "light", "deep", "rem")
EFFECTS = Effects(
    rest_hr_bpm=-2.0, rest_ln_rmssd=0.06, acute_hr_bpm=-3.0, acute_ln_rmssd=0.12,
    night_ln_rmssd=0.15, night_resting_hr_bpm=-1.5, night_tst_min=15.0,
    pain_delta=-2.0, stress_delta=-2.0, mood_delta=1.5,
)  # fmt: skip
TECHNIQUES = ("swedish", "deep_tissue", "sports", "myofascial", "thai", "hot_stone")


@dataclass(frozen=True)
class Params:
    """What the data set is; its hash keys the cache."""

    people: int = 20
    days: int = 730
    sessions: int = 200
    long_days: int = 1826  # the long-history person (0 = none)
    long_sessions: int = 500
    overnight_rr_h: float = 4.0
    seed: int = 1

    @classmethod
    def quick(cls) -> Params:
        return cls(people=3, days=60, sessions=16, long_days=120, long_sessions=30)

    def key(self) -> str:
        # Not keyed on the schema: a cached set is brought to the current schema by the product's own
        # migrations (`ensure`), as a user's database would be, instead of being rebuilt for an hour.
        text = json.dumps(dataclasses.asdict(self), sort_keys=True)
        return hashlib.sha1(text.encode()).hexdigest()[:10]


@dataclass(frozen=True)
class PersonPlan:
    index: int  # 0 .. people-1 for the clinic, `people` for the long-history person
    name: str
    user: str
    days: int
    sessions: int
    overnight_rr_h: float
    seed: int


def plans(p: Params) -> list[PersonPlan]:
    out = [PersonPlan(i, f"Client {i + 1:02d}", "clinic", p.days, p.sessions, 0.0, p.seed * 1000 + i)
           for i in range(p.people)]  # fmt: skip
    if p.long_days:
        out.append(PersonPlan(p.people, "Long history", "longterm", p.long_days, p.long_sessions, p.overnight_rr_h,
                              p.seed * 1000 + p.people))  # fmt: skip
    return out


def default_data_dir() -> Path:
    return Path(tempfile.gettempdir()) / "tracker-bench-clinic"


# -- simulation (cached as npz per person) ------------------------------------------------------------


def _window(end: dt.date, days: int) -> tuple[int, int]:
    tz = zone(TZ)
    start = dt.datetime.combine(end - dt.timedelta(days=days), dt.time(), tzinfo=tz)
    return to_ms(start), to_ms(start) + days * DAY_MS


def _sessions(start_ms: int, days: int, count: int) -> list[PlannedSession]:
    """`count` one-hour sessions at 17:30 local spread over the period; every 5th a rest control."""
    tz = zone(TZ)
    first = dt.datetime.fromtimestamp(start_ms / 1000, tz).date()
    step = max(1.0, (days - 2) / max(count, 1))
    out = []
    for i in range(count):
        local = dt.datetime.combine(first + dt.timedelta(days=1 + int(i * step)), dt.time(17, 30), tzinfo=tz)
        out.append(PlannedSession(to_ms(local), to_ms(local) + 60 * MINUTE_MS, "rest" if i % 5 == 4 else "massage",
                                  2 + i % 3))  # fmt: skip
    return out


def _simulation(plan: PersonPlan, end: dt.date) -> tuple[Any, int, int, list[PlannedSession]]:
    start_ms, end_ms = _window(end, plan.days)
    planned = _sessions(start_ms, plan.days, plan.sessions)
    spec = PersonSpec(tz=TZ, resting_hr_bpm=52.0 + plan.index % 9, ln_rmssd=3.5 + 0.06 * (plan.index % 10))
    return simulate(spec, start_ms, plan.days, planned, EFFECTS, seed=plan.seed), start_ms, end_ms, planned


def simulate_person(plan: PersonPlan, end: dt.date, path: Path, capture: CaptureConfig) -> Path:
    """Simulate one person's ring log, sleep, sessions and capture-window RR into `path` (npz); the
    overnight RR is not cached (hundreds of MB at 5 years): `overnight_rr` regenerates it night by night."""
    if path.exists():
        return path
    sim, start_ms, end_ms, planned = _simulation(plan, end)
    hr = sim.heart_rate_1min(start_ms, end_ms).astype(np.int16)  # 0 = off the wrist
    spans = [(s.start_ms, s.end_ms, STAGE_CODES.index(str(s.stage))) for s in sim.sleep_spans()]
    spans_a = np.array([s for s in spans if start_ms <= s[0] and s[1] <= end_ms], dtype=np.int64).reshape(-1, 3)
    rr_t, rr_v = [], []
    for ps in planned:
        post = ps.end_ms + round(capture.post_delay_min * MINUTE_MS)
        for lo, hi in ((ps.start_ms - round(capture.pre_min * MINUTE_MS), ps.start_ms),
                       (post, post + round(capture.post_min * MINUTE_MS))):  # fmt: skip
            t, v = sim.rr(lo, hi)
            rr_t.append(t), rr_v.append(v)
    reports = np.array([[getattr(sim.self_reports(ps), k) for k in _REPORT_FIELDS] for ps in planned],
                       dtype=np.float64).reshape(-1, len(_REPORT_FIELDS))  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, start_ms=start_ms, hr=hr, spans=spans_a, rr_t=np.concatenate(rr_t).astype(np.int64),
             rr_ms=np.concatenate(rr_v).astype(np.float64), reports=reports,
             sessions=np.array([[s.start_ms, s.end_ms, s.kind == "massage", s.pressure] for s in planned],
                               dtype=np.int64).reshape(-1, 4))  # fmt: skip
    tmp.rename(path)
    return path


_REPORT_FIELDS = ("pain_before", "pain_after", "stress_before", "stress_after", "mood_before", "mood_after")


def overnight_rr(plan: PersonPlan, end: dt.date, now_ms: int) -> Iterator[tuple[int, float]]:
    """(t_ms, rr_ms) of `overnight_rr_h` hours from every bedtime, generated a night at a time."""
    sim, _start, _end, _planned = _simulation(plan, end)
    for bed in np.asarray(sim.nights().bedtime_ms, dtype=np.int64):
        lo, hi = int(bed), int(bed) + round(plan.overnight_rr_h * 3_600_000)
        if sim.t_min_ms <= lo and hi <= min(sim.t_max_ms, now_ms):
            t, v = sim.rr(lo, hi)
            yield from zip(t.tolist(), v.tolist(), strict=True)


# -- building ------------------------------------------------------------------------------------------


def _config(url: str, directory: Path) -> Config:
    return Config(database=DatabaseConfig(url=url), paths=PathsConfig(str(directory / "files")), base_dir=directory)


def _load_person(t: Tracker, ingest: Ingest, plan: PersonPlan, person_id: int, npz: Path, end: dt.date) -> dict[str, int]:
    d = np.load(npz)
    start_ms = int(d["start_ms"])
    hr = d["hr"]
    t_hr = start_ms + MINUTE_MS * np.arange(hr.size, dtype=np.int64)
    worn = hr > 0
    mac = f"C0:00:00:{plan.index // 256:02X}:{plan.index % 256:02X}"
    ring = t.devices.upsert(f"{mac}:01", person_id, name=f"Ring {plan.index}", family="colmi")
    strap = t.devices.upsert(f"{mac}:02", person_id, name=f"Strap {plan.index}", family="hrs")
    run = t.devices.start_run(RunKind.SYNC, ring.id, person_id, "benchmark: ring history")
    prov = Provenance(person_id, Source.HISTORY, ring.id, run)
    n_hr = ingest.heart_rate(zip(t_hr[worn].tolist(), hr[worn].tolist(), strict=True), prov)
    sp = d["spans"]
    n_sleep = ingest.sleep(((int(a), int(b), STAGE_CODES[int(c)]) for a, b, c in sp), prov)
    t.devices.finish_run(run, RunStatus.OK)
    run = t.devices.start_run(RunKind.CAPTURE, strap.id, person_id, "benchmark: session captures")
    n_rr = ingest.rr(zip(d["rr_t"].tolist(), d["rr_ms"].tolist(), strict=True),
                     Provenance(person_id, Source.LIVE, strap.id, run))  # fmt: skip
    t.devices.finish_run(run, RunStatus.OK, rr_count=n_rr)
    n_night = 0
    if plan.overnight_rr_h > 0:
        run = t.devices.start_run(RunKind.IMPORT, strap.id, person_id, "benchmark: overnight strap recordings")
        n_night = ingest.rr(overnight_rr(plan, end, t.clock.now_ms()), Provenance(person_id, Source.IMPORT, strap.id, run))
        t.devices.finish_run(run, RunStatus.OK, rr_count=n_night)
    fields = []
    for i, ((s0, s1, massage, pressure), r) in enumerate(zip(d["sessions"], d["reports"], strict=True)):
        rep = {k: int(v) for k, v in zip(_REPORT_FIELDS, r, strict=True)}
        fields.append(SessionFields(
            start_ms=int(s0), end_ms=int(s1), kind=SessionKind.MASSAGE if massage else SessionKind.REST,
            technique=TECHNIQUES[i % len(TECHNIQUES)] if massage else None, pressure=int(pressure) if massage else None,
            areas=("back", "neck") if massage else (), therapist="Mia" if massage else None, **rep,
        ))  # fmt: skip
    t.sessions.create_all(person_id, fields)
    return {"heart_rate": n_hr, "sleep": n_sleep, "rr_sessions": n_rr, "rr_overnight": n_night, "sessions": len(fields)}


def build(url: str, directory: Path, p: Params, jobs: int = 1, log: Any = print) -> dict[str, Any]:
    """Build the data set into the empty database at `url`; return the manifest."""
    started = time.perf_counter()
    end = dt.date.today()
    cfg = _config(url, directory)
    sims = directory.parent / "sim"  # shared by SQLite and PostgreSQL builds of the same parameters
    people = plans(p)
    t0 = time.perf_counter()
    todo = [(pl, end, sims / f"{p.key()}-{end.isoformat()}-{pl.index}.npz", cfg.capture) for pl in people]
    if jobs > 1:
        with ProcessPoolExecutor(jobs) as pool:
            npz = list(pool.map(simulate_person, *zip(*todo, strict=True)))
    else:
        npz = [simulate_person(*args) for args in todo]
    timings = {"simulate_s": time.perf_counter() - t0}
    log(f"simulated {len(people)} people in {timings['simulate_s']:.1f} s")
    engine = make_engine(url)
    upgrade_schema(engine)
    engine.dispose()
    t = build_tracker(cfg)
    try:
        t.users.add("clinic", PASSWORD)
        if p.long_days:
            t.users.add("longterm", PASSWORD)
        ingest = Ingest(t.sessionmaker, chunk_rows=CHUNK_ROWS)
        rows: dict[str, int] = {}
        out_people = []
        t_ingest = t_nights = 0.0
        for pl, path in zip(people, npz, strict=True):
            person = t.people.add(pl.name, TZ, pl.user)
            t1 = time.perf_counter()
            counts = _load_person(t, ingest, pl, person.id, path, end)
            t2 = time.perf_counter()
            nights = t.nights.rebuild(person.id)
            t3 = time.perf_counter()
            t_ingest, t_nights = t_ingest + t2 - t1, t_nights + t3 - t2
            for k, v in counts.items():
                rows[k] = rows.get(k, 0) + v
            out_people.append({"id": person.id, "name": pl.name, "user": pl.user, "days": pl.days,
                               "overnight_rr_h": pl.overnight_rr_h, "nights": nights, **counts})  # fmt: skip
            log(f"  {pl.name}: {counts['heart_rate']:,} HR, {counts['rr_sessions'] + counts['rr_overnight']:,} RR, "
                f"{nights} nights; ingest {t2 - t1:.1f} s, nights {t3 - t2:.1f} s")  # fmt: skip
    finally:
        t.close()
    timings.update(ingest_s=t_ingest, nights_s=t_nights, total_s=time.perf_counter() - started)
    return {"params": dataclasses.asdict(p), "key": p.key(), "url": url, "built": dt.datetime.now().isoformat(timespec="seconds"),
            "end_date": end.isoformat(), "password": PASSWORD, "people": out_people, "rows": rows, "timings": timings}  # fmt: skip


# -- the cache -----------------------------------------------------------------------------------------


def _pg_database(admin_url: str, name: str, *, drop: bool) -> str:
    """Create (after dropping, with `drop`) the database `name` on the server of `admin_url`; return its URL."""
    assert name.startswith("bench_"), "only the benchmark's own databases are ever created or dropped"
    url = sa.engine.make_url(admin_url)
    engine = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            exists = conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
            if exists and drop:
                conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
                exists = None
            if not exists:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def ensure(p: Params, data_dir: Path | None = None, postgres: str | None = None, *, rebuild: bool = False,
           jobs: int = 1, log: Any = print) -> dict[str, Any]:  # fmt: skip
    """The manifest of a finished build of `p` (SQLite, or PostgreSQL with `postgres`), building it if needed."""
    root = (data_dir or default_data_dir()) / f"clinic-{p.key()}"
    backend = "postgresql" if postgres else "sqlite"
    manifest_path = root / f"manifest-{backend}.json"
    if manifest_path.exists() and not rebuild:
        manifest = json.loads(manifest_path.read_text())
        log(f"clinic data set {p.key()} on {backend}: cached (built {manifest['built']} in "
            f"{manifest['timings']['total_s']:.0f} s)")  # fmt: skip
        engine = make_engine(manifest["url"])
        try:
            upgrade_schema(engine)  # a set built by an older schema gets the migrations since
        finally:
            engine.dispose()
        return manifest
    manifest_path.unlink(missing_ok=True)
    directory = root / backend
    if postgres:
        url = _pg_database(postgres, f"bench_{p.key()}", drop=True)
    else:
        db = directory / "tracker.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{db}"
    directory.mkdir(parents=True, exist_ok=True)
    log(f"building clinic data set {p.key()} on {backend} ({dataclasses.asdict(p)})")
    manifest = build(url, directory, p, jobs=jobs, log=log)
    manifest["directory"] = str(directory)
    manifest_path.write_text(json.dumps(manifest, indent=1))
    return manifest


def tracker_for(manifest: dict[str, Any]) -> Tracker:
    """A tracker on a built data set (the caller closes it)."""
    return build_tracker(_config(manifest["url"], Path(manifest["directory"])))


def add_arguments(ap: argparse.ArgumentParser) -> None:
    """The data-set options shared by clinic_data.py, web.py and load.py."""
    ap.add_argument("--data-dir", type=Path, default=None, help=f"cache folder (default {default_data_dir()})")
    ap.add_argument("--quick", action="store_true", help="a small data set: 3 people x 60 days, 1 x 120 days")
    ap.add_argument("--people", type=int, help="clinic people (default 20)")
    ap.add_argument("--days", type=int, help="days of the clinic people (default 730)")
    ap.add_argument("--sessions", type=int, help="sessions per clinic person (default 200)")
    ap.add_argument("--long-days", type=int, help="days of the long-history person (default 1826; 0 = none)")
    ap.add_argument("--long-sessions", type=int, help="sessions of the long-history person (default 500)")
    ap.add_argument("--rebuild", action="store_true", help="build again even if cached")
    ap.add_argument("--jobs", type=int, default=1, help="processes simulating people (default 1)")


def params_from(args: argparse.Namespace) -> Params:
    base = Params.quick() if args.quick else Params()
    changes = {k: getattr(args, k) for k in ("people", "days", "sessions", "long_days", "long_sessions")
               if getattr(args, k) is not None}  # fmt: skip
    return dataclasses.replace(base, **changes)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(ap)
    ap.add_argument("--postgres", metavar="URL", help="also build on PostgreSQL (a bench_<key> database on that server)")
    args = ap.parse_args()
    p = params_from(args)
    for pg in (None, args.postgres) if args.postgres else (None,):
        m = ensure(p, args.data_dir, pg, rebuild=args.rebuild, jobs=args.jobs)
        tm = m["timings"]
        print(f"{'postgresql' if pg else 'sqlite'}: {sum(m['rows'].values()):,} rows {m['rows']}; built in "
              f"{tm['total_s']:.0f} s (simulate {tm['simulate_s']:.0f} s, ingest {tm['ingest_s']:.0f} s, "
              f"nights {tm['nights_s']:.0f} s); {m['url']}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
