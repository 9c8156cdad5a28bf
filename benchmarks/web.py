"""Web benchmark: the dashboard's server time and page weight on a year of one person's data (SQLite).

Data, written through tracker's ingest path (tracker.ingest.Ingest) from the seeded physiology model
(tracker.physiology.simulate): `--nights` nights of 1-minute heart rate (the whole day, as a ring logs it)
and sleep stages, and `--sessions` past sessions, each with 1 Hz RR captures (one beat per ~second) over
the capture plan's pre and post windows (5 min each by default), logged through the session service.

Measured with Flask's test client, signed in, on the real app (`web.create_app`): the median server
time over `--repeat` requests (after one warm-up) of the Overview, a session's detail page, the Evidence
and Sleep pages, and separately every JSON request those pages make for their charts (found the way the
page's scripts find them: the `data-*` attributes of the chart elements, then the sessions spans for the
range each answer covers). Page weight: the HTML plus that JSON, and separately the static assets the page
links (stylesheets, scripts, icons; cached by the browser after the first page).

Baseline, measured in the same run: the sign-in page for a signed-out client (template, CSRF token,
session cookie, no data). Targets: median <= 150 ms per request, <= 500 KB per page with its chart data;
the exit status is 1 when a target is missed.

    python benchmarks/web.py [--nights 365] [--sessions 100] [--repeat 15] [--overnight-rr-hours 0]

`--overnight-rr-hours 4` adds what `tracker demo` also stores: 4 h of RR from bedtime every night (a strap
worn at night; ~15,000 rows a night). Nightly lnRMSSD and everything built on nights then read them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html.parser
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import numpy as np

# `python benchmarks/web.py` puts benchmarks/ first on sys.path, where this file would shadow the `web`
# package it measures; drop that entry so `import web` finds the dashboard.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

from tracker.bootstrap import Tracker, build_tracker  # noqa: E402
from tracker.config import Config, DatabaseConfig, PathsConfig  # noqa: E402
from tracker.ingest import Provenance  # noqa: E402
from tracker.model import RunKind, RunStatus, SessionKind, SessionStatus, Source  # noqa: E402
from tracker.physiology import Effects, PersonSpec, PlannedSession, simulate  # noqa: E402
from tracker.sessions import SessionFields  # noqa: E402
from tracker.storage.db import make_engine, upgrade_schema  # noqa: E402
from tracker.timefmt import to_ms, zone  # noqa: E402

TZ = "Europe/Berlin"
DAY_MS = 86_400_000
MINUTE_MS = 60_000
PASSWORD = "benchmark-password"
TARGET_MS = 150.0
TARGET_PAGE_KB = 500.0
EFFECTS = Effects(
    rest_hr_bpm=-2.0, rest_ln_rmssd=0.06, acute_hr_bpm=-3.0, acute_ln_rmssd=0.12,
    night_ln_rmssd=0.15, night_resting_hr_bpm=-1.5, night_tst_min=15.0,
    pain_delta=-2.0, stress_delta=-2.0, mood_delta=1.5,
)  # fmt: skip
TECHNIQUES = ["swedish", "deep_tissue", "sports", "myofascial", "thai", "hot_stone"]


# -- data --------------------------------------------------------------------------------------------


def plan_sessions(start: dt.datetime, nights: int, count: int) -> list[tuple[PlannedSession, str]]:
    """`count` one-hour sessions at 17:30 local, spread evenly over the period; every 5th a rest control."""
    step = max(1.0, (nights - 2) / max(count, 1))
    plan = []
    for i in range(count):
        day = start.date() + dt.timedelta(days=1 + int(i * step))
        local = dt.datetime.combine(day, dt.time(17, 30), tzinfo=start.tzinfo)
        kind = "rest" if i % 5 == 4 else "massage"
        plan.append((PlannedSession(to_ms(local), to_ms(local) + 60 * MINUTE_MS, kind, 2 + i % 3), kind))
    return plan


def build(
    directory: Path, nights: int, sessions: int, seed: int, overnight_rr_h: float = 0.0
) -> tuple[Tracker, int, dict[str, float]]:
    """A fresh SQLite database with the year of data; returns the tracker, the person id and timings."""
    timings: dict[str, float] = {}
    cfg = Config(database=DatabaseConfig(url=f"sqlite:///{directory / 'tracker.db'}"),
                 paths=PathsConfig(str(directory / "data")), base_dir=directory)  # fmt: skip
    engine = make_engine(cfg.database_url)
    upgrade_schema(engine)
    engine.dispose()
    t = build_tracker(cfg)
    t.users.add("bench", PASSWORD)
    person = t.people.add("Bench", TZ, "bench")

    tz = zone(TZ)
    today = dt.datetime.now(tz).date()
    start = dt.datetime.combine(today - dt.timedelta(days=nights), dt.time(), tzinfo=tz)
    start_ms, end_ms = to_ms(start), to_ms(start) + nights * DAY_MS
    plan = plan_sessions(start, nights, sessions)
    sim = simulate(PersonSpec(tz=TZ), start_ms, nights, [p for p, _ in plan], EFFECTS, seed=seed)

    started = time.perf_counter()
    hr = sim.heart_rate_1min(start_ms, end_ms)
    t_hr = start_ms + MINUTE_MS * np.arange(hr.size, dtype=np.int64)
    worn = hr > 0  # 0 = the ring was off the wrist: no reading
    spans = [(s.start_ms, s.end_ms, str(s.stage)) for s in sim.sleep_spans()]
    c = cfg.capture
    windows = []
    for ps, _kind in plan:
        windows.append((ps.start_ms - round(c.pre_min * MINUTE_MS), ps.start_ms))
        post = ps.end_ms + round(c.post_delay_min * MINUTE_MS)
        windows.append((post, post + round(c.post_min * MINUTE_MS)))
    rr = [sim.rr(lo, hi) for lo, hi in windows]
    overnight = []
    if overnight_rr_h > 0:  # a strap worn at night, as `tracker demo` loads (nightly lnRMSSD needs it)
        for bed_ms in np.asarray(sim.nights().bedtime_ms, dtype=np.int64):
            lo, hi = int(bed_ms), int(bed_ms) + round(overnight_rr_h * 3_600_000)
            if sim.t_min_ms <= lo and hi <= sim.t_max_ms:
                overnight.append((lo, hi))
    timings["simulate"] = time.perf_counter() - started

    started = time.perf_counter()
    ring = t.devices.upsert("C0:00:00:00:00:01", person.id, name="Bench ring", family="colmi")
    strap = t.devices.upsert("C0:00:00:00:00:02", person.id, name="Bench strap", family="hrs")
    run = t.devices.start_run(RunKind.SYNC, ring.id, person.id, "benchmark: a year of ring history")
    prov = Provenance(person.id, Source.HISTORY, ring.id, run)
    n_hr = t.ingest.heart_rate(zip(t_hr[worn].tolist(), hr[worn].tolist(), strict=True), prov)
    n_sleep = t.ingest.sleep(spans, prov)
    t.devices.finish_run(run, RunStatus.OK)
    run = t.devices.start_run(RunKind.CAPTURE, strap.id, person.id, "benchmark: session captures")
    prov = Provenance(person.id, Source.LIVE, strap.id, run)
    n_rr = sum(t.ingest.rr(zip(tt.tolist(), rr_ms.tolist(), strict=True), prov) for tt, rr_ms in rr)
    t.devices.finish_run(run, RunStatus.OK, rr_count=n_rr)
    n_night_rr = 0
    if overnight:
        run = t.devices.start_run(RunKind.IMPORT, strap.id, person.id, "benchmark: overnight strap recordings")
        prov = Provenance(person.id, Source.IMPORT, strap.id, run)
        for lo, hi in overnight:
            tt, rr_ms = sim.rr(lo, hi)  # generated per night: a year of beats at once would not fit in memory
            n_night_rr += t.ingest.rr(zip(tt.tolist(), rr_ms.tolist(), strict=True), prov)
        t.devices.finish_run(run, RunStatus.OK, rr_count=n_night_rr)
    timings["ingest"] = time.perf_counter() - started

    started = time.perf_counter()
    for i, (ps, kind) in enumerate(plan):
        r = sim.self_reports(ps)
        massage = kind == "massage"
        fields = SessionFields(
            start_ms=ps.start_ms, end_ms=ps.end_ms, kind=SessionKind(kind),
            technique=TECHNIQUES[i % len(TECHNIQUES)] if massage else None, pressure=ps.pressure if massage else None,
            areas=("back", "neck") if massage else (), therapist="Mia" if massage else None,
            pain_before=r.pain_before, pain_after=r.pain_after, stress_before=r.stress_before,
            stress_after=r.stress_after, mood_before=r.mood_before, mood_after=r.mood_after,
        )  # fmt: skip
        t.sessions.create(person.id, fields, status=SessionStatus.DONE)
    t.reports.rebuild_nights(person.id)
    timings["sessions+nights"] = time.perf_counter() - started
    timings["rows"] = float(n_hr + n_sleep + n_rr + n_night_rr)
    print(f"data: {nights} nights, {n_hr:,} heart-rate rows, {n_sleep:,} sleep stages, {sessions} sessions with "
          f"{n_rr:,} RR rows ({n_rr / max(1, 2 * sessions):.0f} per window)"
          + (f", {n_night_rr:,} overnight RR rows ({overnight_rr_h:g} h a night)" if overnight else ""),
          file=sys.stderr)  # fmt: skip
    return t, person.id, timings


# -- what a page asks for ----------------------------------------------------------------------------


class Links(html.parser.HTMLParser):
    """Static assets a page links, and the data attributes of its chart elements."""

    def __init__(self) -> None:
        super().__init__()
        self.assets: list[str] = []
        self.charts: list[dict[str, str]] = []
        self.data_urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "link" and a.get("href") and {"stylesheet", "icon"} & set(a.get("rel", "").split()):
            self.assets.append(a["href"])
        elif tag == "script" and a.get("src"):
            self.assets.append(a["src"])
        elif tag == "img" and a.get("src") and not a["src"].startswith("data:"):
            self.assets.append(a["src"])
        if "data-chart" in a:
            self.charts.append(a)
        elif any(k.startswith("data-") and k.endswith("-url") for k in a):
            # other data a page's script fetches (e.g. data-url="/api/v1/..."), requested as written
            self.data_urls.extend(v for k, v in a.items() if k.startswith("data-") and k.endswith("-url") and v)


def chart_requests(client: Any, parsed: Links) -> list[str]:
    """The JSON URLs the page's charts fetch on load, in the order web/static/charts.js asks for them."""
    urls: list[str] = []
    for a in parsed.charts:
        if "data-samples-url" not in a:
            urls.extend(v for k, v in a.items() if k.startswith("data-") and k.endswith("-url") and v)
            continue
        params = {"person": a.get("data-person"), "kind": a.get("data-kind"), "from": a.get("data-from"),
                  "to": a.get("data-to"), "max_points": 2000}  # fmt: skip
        samples = with_params(a["data-samples-url"], params)
        urls.append(samples)
        body = client.get(samples).get_json(silent=True) or {}
        if "data-sessions-url" in a and "from" in body:
            spans = {"person": a.get("data-person"), "from": body["from"], "to": body["to"], "status": "planned,done"}
            urls.append(with_params(a["data-sessions-url"], spans))
    urls.extend(parsed.data_urls)
    return urls  # with repeats: two charts on one URL make the browser fetch it twice


def with_params(base: str, params: dict[str, Any]) -> str:
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return f"{base}{'&' if '?' in base else '?'}{query}" if query else base


# -- measuring ---------------------------------------------------------------------------------------


@dataclass
class Row:
    group: str
    label: str
    times_ms: list[float] = field(default_factory=list)
    bytes_: int = 0
    first_ms: float = 0.0  # the warm-up request: cold template and query caches

    @property
    def median_ms(self) -> float:
        return statistics.median(self.times_ms)

    @property
    def p90_ms(self) -> float:
        return float(np.percentile(self.times_ms, 90))


def measure(get: Callable[[], Any], repeat: int) -> tuple[list[float], int, float]:
    started = time.perf_counter()
    response = get()  # warm-up: imports, template compilation, first-query caches
    first_ms = (time.perf_counter() - started) * 1000
    status = response.status_code
    if status != 200:
        raise SystemExit(f"benchmark request answered HTTP {status}: {response.get_data(as_text=True)[:300]}")
    size = len(response.get_data())
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = get()
        response.get_data()
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    return times, size, first_ms


def csrf_token(text: str) -> str:
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', text)
    if not match:
        raise SystemExit("no csrf-token meta tag on /signin")
    return match.group(1)


def run(nights: int, sessions: int, repeat: int, seed: int, overnight_rr_h: float = 0.0) -> int:
    from web import create_app

    with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp:
        started = time.perf_counter()
        tracker, person_id, timings = build(Path(tmp), nights, sessions, seed, overnight_rr_h)
        build_s = time.perf_counter() - started
        print(f"built in {build_s:.1f} s (simulate {timings['simulate']:.1f} s, ingest {timings['ingest']:.1f} s, "
              f"sessions and nights {timings['sessions+nights']:.1f} s)", file=sys.stderr)  # fmt: skip
        try:
            app = create_app(tracker, secret_key="benchmark-secret-key-that-is-long-enough")
            anonymous = app.test_client()
            client = app.test_client()
            token = csrf_token(client.get("/signin").get_data(as_text=True))
            answer = client.post("/signin", data={"name": "bench", "password": PASSWORD, "csrf_token": token})
            if answer.status_code != 302:
                raise SystemExit(f"sign-in failed: HTTP {answer.status_code}")

            done = tracker.sessions.list(person_id, statuses=[SessionStatus.DONE], newest_first=True, limit=1)
            pages = {"Overview": "/", "Session detail": f"/sessions/{done[0].id}", "Evidence": "/evidence",
                     "Sleep": "/sleep"}  # fmt: skip

            rows: list[Row] = []
            baseline = Row("baseline", "GET /signin (signed out)")
            baseline.times_ms, baseline.bytes_, baseline.first_ms = measure(lambda: anonymous.get("/signin"), repeat)
            rows.append(baseline)
            static = Row("baseline", "GET /static/app.js")
            static.times_ms, static.bytes_, static.first_ms = measure(lambda: anonymous.get("/static/app.js"), repeat)
            rows.append(static)

            weights: list[tuple[str, int, int, int, int]] = []
            for name, path in pages.items():
                html_row = Row(name, f"GET {path}")
                html_row.times_ms, html_row.bytes_, html_row.first_ms = measure(lambda p=path: client.get(p), repeat)
                rows.append(html_row)
                parsed = Links()
                parsed.feed(client.get(path).get_data(as_text=True))
                json_bytes = 0
                fetched = chart_requests(client, parsed)
                for url in dict.fromkeys(fetched):
                    times = fetched.count(url)
                    row = Row(name, f"  json {short(url)}" + (f" (fetched {times}×)" if times > 1 else ""))
                    row.times_ms, row.bytes_, row.first_ms = measure(lambda u=url: client.get(u), repeat)
                    rows.append(row)
                    json_bytes += row.bytes_ * times
                asset_bytes = 0
                for asset in dict.fromkeys(parsed.assets):
                    if urlsplit(asset).netloc:
                        raise SystemExit(f"{path} links a non-local asset: {asset}")
                    response = anonymous.get(asset)
                    asset_bytes += len(response.get_data())
                weights.append((name, html_row.bytes_, json_bytes, html_row.bytes_ + json_bytes, asset_bytes))
        finally:
            tracker.close()

    print_report(rows, weights, nights, sessions, repeat, timings)
    slow = [r for r in rows if r.group != "baseline" and r.median_ms > TARGET_MS]
    heavy = [w for w in weights if w[3] / 1024 > TARGET_PAGE_KB]
    return 1 if slow or heavy else 0


def short(url: str) -> str:
    parts = urlsplit(url)
    query = re.sub(r"(from|to)=(\d{6})\d+", r"\1=\2…", parts.query)
    return f"{parts.path}?{query}" if query else parts.path


def print_report(rows: list[Row], weights: list[tuple[str, int, int, int, int]], nights: int, sessions: int,
                 repeat: int, timings: dict[str, float]) -> None:  # fmt: skip
    base = rows[0].median_ms
    print(f"\nweb benchmark: {nights} nights, {sessions} sessions, {int(timings['rows']):,} rows on SQLite; "
          f"median of {repeat} requests after a warm-up, Flask test client (server time, no network)")  # fmt: skip
    width = max(len(r.label) for r in rows) + 2
    print(f"\n{'page':<15}{'request':<{width}}{'median ms':>10}{'p90 ms':>9}{'first ms':>10}{'KB':>9}"
          f"{'× baseline':>12}  target")  # fmt: skip
    for r in rows:
        verdict = "" if r.group == "baseline" else ("ok" if r.median_ms <= TARGET_MS else f"SLOW > {TARGET_MS:.0f} ms")
        print(f"{r.group:<15}{r.label:<{width}}{r.median_ms:>10.1f}{r.p90_ms:>9.1f}{r.first_ms:>10.1f}"
              f"{r.bytes_ / 1024:>9.1f}"
              f"{r.median_ms / base:>12.1f}  {verdict}")  # fmt: skip
    print(f"\n{'page weight':<15}{'HTML KB':>9}{'chart JSON KB':>15}{'total KB':>10}{'static KB':>11}  target <= "
          f"{TARGET_PAGE_KB:.0f} KB (HTML + JSON)")  # fmt: skip
    for name, html_b, json_b, total_b, static_b in weights:
        verdict = "ok" if total_b / 1024 <= TARGET_PAGE_KB else "HEAVY"
        print(f"{name:<15}{html_b / 1024:>9.1f}{json_b / 1024:>15.1f}{total_b / 1024:>10.1f}{static_b / 1024:>11.1f}  "
              f"{verdict}")  # fmt: skip
    print(f"\nbaseline: GET /signin signed out, median {base:.1f} ms; ratios are each request's median / baseline;"
          "\n'first ms' is the warm-up request (cold caches), not part of the median")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nights", type=int, default=365, help="nights of heart rate and sleep (default 365)")
    parser.add_argument("--sessions", type=int, default=100, help="past sessions with RR captures (default 100)")
    parser.add_argument("--repeat", type=int, default=15, help="timed requests per URL (default 15, at least 15)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the simulated person")
    parser.add_argument("--overnight-rr-hours", type=float, default=0.0, metavar="H",
                        help="also H hours of RR from bedtime every night, as `tracker demo` loads (default 0; "
                             "4 is the demo's; slower to build)")  # fmt: skip
    args = parser.parse_args()
    if args.repeat < 15:
        parser.error("--repeat must be at least 15 (the median needs enough requests)")
    if args.nights < 14 or args.sessions < 1:
        parser.error("--nights must be at least 14 and --sessions at least 1")
    return run(args.nights, args.sessions, args.repeat, args.seed, args.overnight_rr_hours)


if __name__ == "__main__":
    sys.exit(main())
