"""Web benchmark: server wall and CPU time of every dashboard page and its chart requests, on the clinic data set.

Data: benchmarks/clinic_data.py (built once and cached): 20 people × 2 years of 1-minute heart rate, sleep
stages and ~200 sessions with RR around them, plus one person × 5 years with 4 h of overnight RR a night.

For each database (SQLite; PostgreSQL with `--postgres URL`) and for two people (a clinic client at 2
years, the long-history person at 5 years with overnight RR), signed in with Flask's test client on the
real app (`web.create_app`), the pages Overview, Sessions, a session, Sleep and Evidence, and every JSON
request (/api/v1/...) their scripts make on load (found as web/static/charts.js finds them), plus the
report API. Each URL: one warm-up request, then the median of `--repeat` requests, wall time and CPU time
of the serving process (time.process_time; the test client serves in this process, with one BLAS thread
as `tracker run` sets it; PostgreSQL's own server process is not included).

Evidence "cold" (the figure that counts): every report cache is emptied before each request, so each one
computes the report, as after any sync (the stored capture-window summaries stay, as they do after a sync;
"first" also drops them, as for the very first report after an upgrade); the warm figure (a cache hit) is reported separately. Its extra
memory is measured at 2 years (peak resident memory and tracemalloc peak of one cold request).

Targets (issue "Fast at any length of history"): every page and chart request ≤ 150 ms CPU median (at 5
years with overnight RR, and so at 2), Evidence cold ≤ 300 ms CPU and ≤ 30 MB extra memory at 2 years.
Baseline, measured in the same run: the sign-in page for a signed-out client (the Flask stack with a
template and no data) and a bare `SELECT 1`; every row shows its CPU median / the sign-in page's.

    python benchmarks/web.py [--quick] [--postgres URL] [--repeat 15] [--profile DIR] [--json FILE]

Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import re
import resource
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tracker.cli import single_threaded_blas  # noqa: E402

single_threaded_blas()  # as the `tracker` command sets it, before numpy loads (the server runs in this process)
import webprobe  # noqa: E402
import clinic_data  # noqa: E402  (it drops benchmarks/ from sys.path again, so `web` is the package)

import sqlalchemy as sa  # noqa: E402

from tracker.model import SessionStatus  # noqa: E402

PAGE_CPU_MS = 150.0
EVIDENCE_COLD_CPU_MS = 300.0
EVIDENCE_EXTRA_MB = 30.0
SECRET = "benchmark-secret-key-that-is-long-enough-to-sign"


@dataclass
class Row:
    subject: str
    page: str
    label: str
    url: str
    timing: webprobe.Timing
    target_ms: float | None
    cold: bool = False
    user: str = "clinic"  # whose client asks (for --profile)
    memory_mb: tuple[float, float] | None = None
    memory_judged: bool = False  # the memory target is set at 2 years; at 5 it is reported only
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        if self.timing.status != 200:
            return False
        if self.target_ms is not None and self.timing.cpu > self.target_ms:
            return False
        return not (self.memory_judged and self.memory_mb is not None and max(self.memory_mb) > EVIDENCE_EXTRA_MB)


def short(url: str) -> str:
    parts = urlsplit(url)
    query = re.sub(r"(from|to)=(\d{5})\d+", r"\1=\2…", parts.query)
    return f"{parts.path}?{query}" if query else parts.path


def subject_rows(tracker: Any, client: Any, subject: str, person: dict[str, Any], repeat: int, budget_s: float,
                 two_years: bool) -> list[Row]:  # fmt: skip
    """Every page of one person and the JSON its scripts load; Evidence cold and warm."""
    pid = person["id"]
    done = tracker.sessions.list(pid, statuses=[SessionStatus.DONE], newest_first=True, limit=1)
    pages = {"Overview": f"/?person={pid}", "Sessions": f"/sessions?person={pid}", "A session": f"/sessions/{done[0].id}",
             "Sleep": f"/sleep?person={pid}", "Evidence": f"/evidence?person={pid}"}  # fmt: skip
    clear = lambda: webprobe.clear_caches(tracker)  # noqa: E731
    rows: list[Row] = []
    for page, url in pages.items():
        evidence = page == "Evidence"
        cold_target = EVIDENCE_COLD_CPU_MS if two_years else PAGE_CPU_MS
        urls = [(url, "HTML")]
        if evidence:
            urls.append((f"/api/v1/report?person={pid}", "report API"))
        for u, what in urls:
            t = webprobe.measure(lambda u=u: client.get(u), repeat, before=clear if evidence else None, budget_s=budget_s)
            row = Row(subject, page, f"{what} {short(u)}" + (" (cold)" if evidence else ""), u, t,
                      cold_target if evidence else PAGE_CPU_MS, cold=evidence)  # fmt: skip
            if evidence and t.status == 200:
                row.memory_mb = webprobe.extra_memory_mb(lambda u=u: client.get(u), before=clear)
                row.memory_judged = two_years
            rows.append(row)
            if evidence and what == "HTML":  # informational: the very first report, no window summaries stored
                first = webprobe.measure(lambda u=u: client.get(u), max(3, repeat // 3),
                                         before=lambda: webprobe.clear_caches(tracker, window_summaries=True),
                                         budget_s=budget_s)  # fmt: skip
                rows.append(Row(subject, page, f"{what} {short(u)} (first: no stored windows)", u, first, None))
            if evidence:
                warm = webprobe.measure(lambda u=u: client.get(u), repeat, budget_s=budget_s)
                rows.append(Row(subject, page, f"{what} {short(u)} (warm)", u, warm, None))
                if t.status == 200 and warm.cpu * 3 > t.cpu:
                    row.notes.append("cold is within 3x of warm: was the cache really cleared?")
        clear()
        html_text = client.get(url).get_data(as_text=True)
        for u in webprobe.chart_requests(client, html_text):
            t = webprobe.measure(lambda u=u: client.get(u), repeat, budget_s=budget_s)
            rows.append(Row(subject, page, f"  json {short(u)}", u, t, PAGE_CPU_MS))
    return rows


def baselines(tracker: Any, app: Any, repeat: int) -> list[Row]:
    anonymous = app.test_client()
    signin = webprobe.measure(lambda: anonymous.get("/signin"), repeat)

    class Bare:  # a bare query through the same engine, shaped like a response for `measure`
        status_code = 200

        def get_data(self, as_text: bool = False) -> bytes:
            return b""

    def select_one() -> Bare:
        with tracker.sessionmaker() as db:
            db.execute(sa.text("SELECT 1")).scalar()
        return Bare()

    bare = webprobe.measure(select_one, repeat)
    return [Row("baseline", "", "GET /signin (signed out)", "/signin", signin, None),
            Row("baseline", "", "SELECT 1 (bare query)", "", bare, None)]  # fmt: skip


def profile(tracker: Any, client: Any, row: Row, directory: Path, tag: str) -> list[str]:
    """One request of a slow row under cProfile: the stats file, and the project's hottest functions."""
    directory.mkdir(parents=True, exist_ok=True)
    if row.cold:
        webprobe.clear_caches(tracker)
    prof = cProfile.Profile()
    prof.enable()
    client.get(row.url).get_data()
    prof.disable()
    name = re.sub(r"[^A-Za-z0-9]+", "_", f"{tag}_{row.subject}_{row.label}").strip("_")[:120]
    path = directory / f"{name}.prof"
    prof.dump_stats(str(path))
    stats = pstats.Stats(prof)
    entries = []
    for (file, line, func), (_cc, _nc, tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        if "/tracker/" in file or "/web/" in file:
            short_file = file[file.rfind("/tracker/") + 1 :] if "/tracker/" in file else file[file.rfind("/web/") + 1 :]
            entries.append((ct, tt, f"{short_file}:{line}:{func}"))
    entries.sort(reverse=True)
    lines = [f"    profile {path}"]
    lines += [f"      cum {ct * 1000:8.1f} ms  self {tt * 1000:7.1f} ms  {where}" for ct, tt, where in entries[:14]]
    return lines


def span(days: int) -> str:
    return f"{days / 365.25:.0f} years" if days >= 365 else f"{days} days"


def run_backend(manifest: dict[str, Any], repeat: int, budget_s: float, profile_dir: Path | None,
                only: set[str]) -> list[Row]:  # fmt: skip
    from web import create_app

    tracker = clinic_data.tracker_for(manifest)
    try:
        app = create_app(tracker, secret_key=SECRET)
        clients = {u: webprobe.sign_in(app, u, manifest["password"]) for u in {p["user"] for p in manifest["people"]}}
        rows = baselines(tracker, app, repeat)
        clinic = next(p for p in manifest["people"] if p["user"] == "clinic")
        subjects = [(span(clinic["days"]), clinic, True)]
        long = next((p for p in manifest["people"] if p["user"] == "longterm"), None)
        if long:
            subjects.append((span(long["days"]) + " + overnight RR", long, False))
        for label, person, two_years in subjects:
            if only and not any(o in label for o in only):
                continue
            started = time.perf_counter()
            found = subject_rows(tracker, clients[person["user"]], label, person, repeat, budget_s, two_years)
            for row in found:
                row.user = person["user"]
            rows += found
            print(f"  measured {label} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        if profile_dir is not None:
            for row in rows:
                if row.subject != "baseline" and not row.ok and row.timing.status == 200:
                    backend = manifest["url"].split(":")[0].split("+")[0]
                    row.notes += profile(tracker, clients[row.user], row, profile_dir, backend)
        return rows
    finally:
        tracker.close()


def print_rows(backend: str, manifest: dict[str, Any], rows: list[Row], repeat: int) -> None:
    base = rows[0].timing.cpu
    r = manifest["rows"]
    print(f"\n== {backend}: {len(manifest['people'])} people, {sum(r.values()):,} rows ({r['heart_rate']:,} heart rate, "
          f"{r['rr_sessions'] + r['rr_overnight']:,} RR, {r['sleep']:,} sleep stages, {r['sessions']:,} sessions); "
          f"median of up to {repeat} requests after a warm-up")  # fmt: skip
    width = max(len(x.label) for x in rows) + 1
    print(f"{'subject':<26}{'page':<11}{'request':<{width}}{'n':>4}{'wall ms':>9}{'CPU ms':>9}{'1st CPU':>9}"
          f"{'KB':>8}{'×base':>8}  target")  # fmt: skip
    for x in rows:
        t = x.timing
        if t.status != 200:
            verdict = f"FAILED HTTP {t.status}: {t.error[:80]}"
        elif x.target_ms is None:
            verdict = ""
        else:
            verdict = f"{'ok' if t.cpu <= x.target_ms else 'MISSED'} (≤ {x.target_ms:.0f} ms CPU)"
        if x.memory_mb is not None:
            rss, traced = x.memory_mb
            verdict += f"; extra memory {rss:.0f} MB resident, {traced:.0f} MB traced"
            if x.memory_judged:
                verdict += f" {'ok' if max(x.memory_mb) <= EVIDENCE_EXTRA_MB else 'MISSED'} (≤ {EVIDENCE_EXTRA_MB:.0f} MB)"
        print(f"{x.subject:<26}{x.page:<11}{x.label:<{width}}{len(t.cpu_ms):>4}{t.wall:>9.1f}{t.cpu:>9.1f}"
              f"{t.first_cpu_ms:>9.1f}{t.size / 1024:>8.1f}{t.cpu / base:>8.1f}  {verdict}")  # fmt: skip
        for note in x.notes:
            print(f"{'':<26}{note}")


def to_json(backend: str, rows: list[Row]) -> list[dict[str, Any]]:
    return [{"backend": backend, "subject": x.subject, "page": x.page, "request": x.label.strip(), "n": len(x.timing.cpu_ms),
             "wall_ms": round(x.timing.wall, 1), "cpu_ms": round(x.timing.cpu, 1), "status": x.timing.status,
             "target_cpu_ms": x.target_ms, "memory_mb": x.memory_mb, "ok": x.ok} for x in rows]  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    clinic_data.add_arguments(ap)
    ap.add_argument("--postgres", metavar="URL", help="also measure on PostgreSQL (data in a bench_<key> database)")
    ap.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    ap.add_argument("--repeat", type=int, default=15, help="timed requests per URL (default 15; 5 with --quick)")
    ap.add_argument("--budget-s", type=float, default=60.0, help="stop repeating a URL after this much time (default 60)")
    ap.add_argument("--only", action="append", default=[], help="only subjects whose label contains this (e.g. 5)")
    ap.add_argument("--profile", type=Path, metavar="DIR", help="profile each missed request once; stats into DIR")
    ap.add_argument("--json", type=Path, metavar="FILE", help="also write the figures as JSON")
    ap.add_argument("--max-memory-gb", type=float, default=8.0,
                    help="address-space limit of this process (the machine is shared; default 8)")  # fmt: skip
    args = ap.parse_args()
    repeat = args.repeat if args.repeat != 15 or not args.quick else 5
    limit = int(args.max_memory_gb * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    params = clinic_data.params_from(args)
    backends = ([] if args.no_sqlite else [None]) + ([args.postgres] if args.postgres else [])
    everything: list[dict[str, Any]] = []
    ok = True
    for pg in backends:
        log = lambda m: print(m, file=sys.stderr)  # noqa: E731
        manifest = clinic_data.ensure(params, args.data_dir, pg, rebuild=args.rebuild, jobs=args.jobs, log=log)
        name = "PostgreSQL" if pg else "SQLite"
        rows = run_backend(manifest, repeat, args.budget_s, args.profile, set(args.only))
        print_rows(name, manifest, rows, repeat)
        everything += to_json(name, rows)
        ok = ok and all(x.ok for x in rows if x.subject != "baseline")
    print("\nCPU: time.process_time of this (serving) process; ×base: CPU median / GET /signin signed out; "
          "'1st CPU': the warm-up request.\nEvidence (cold): every report cache emptied before each request.")
    if args.json:
        args.json.write_text(json.dumps(everything, indent=1))
    print("all targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
