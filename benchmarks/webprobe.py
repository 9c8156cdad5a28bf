"""What benchmarks/web.py needs besides the data: what a page asks for, timing, memory and cold caches.

- `Links` / `chart_requests`: the JSON a page's scripts fetch on load, found the way web/static/charts.js
  finds it (the `data-*` attributes of chart elements; the samples answer gives the range of the sessions
  request).
- `measure`: wall time (perf_counter) and CPU time of this process (process_time: the Flask test client
  serves in-process, so this is the serving process's CPU) of repeated requests.
- `extra_memory_mb`: what one request adds at its peak, two ways (resident memory and tracemalloc).
- `clear_caches`: empties the report caches, so a request computes the Evidence afresh ("cold").
"""

from __future__ import annotations

import gc
import html.parser
import re
import statistics
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa


class Links(html.parser.HTMLParser):
    """The data attributes of a page's chart elements, and other data URLs its scripts fetch."""

    def __init__(self) -> None:
        super().__init__()
        self.charts: list[dict[str, str]] = []
        self.data_urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if "data-chart" in a:
            self.charts.append(a)
        elif tag != "form" and "data-sync-url" not in a and any(k.startswith("data-") and k.endswith("-url") for k in a):
            self.data_urls.extend(v for k, v in a.items() if k.startswith("data-") and k.endswith("-url") and v)


def sign_in(app: Any, user: str, password: str) -> Any:
    """A Flask test client signed in through the sign-in form."""
    client = app.test_client()
    page = client.get("/signin").get_data(as_text=True)
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
    if not match:
        raise SystemExit("no csrf-token on /signin")
    answer = client.post("/signin", data={"name": user, "password": password, "csrf_token": match.group(1)})
    if answer.status_code != 302:
        raise SystemExit(f"sign-in as {user} failed: HTTP {answer.status_code}")
    return client


def with_params(base: str, params: dict[str, Any]) -> str:
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return f"{base}{'&' if '?' in base else '?'}{query}" if query else base


def chart_requests(client: Any, page_html: str) -> list[str]:
    """The JSON URLs a page's charts fetch on load, in the order web/static/charts.js asks for them."""
    parsed = Links()
    parsed.feed(page_html)
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
    return list(dict.fromkeys(urls))  # two charts on one URL: the browser caches nothing, but measure once


@dataclass
class Timing:
    wall_ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    first_wall_ms: float = 0.0  # the warm-up request (template compilation, first-query caches)
    first_cpu_ms: float = 0.0
    status: int = 200
    size: int = 0
    error: str = ""

    @property
    def wall(self) -> float:
        return statistics.median(self.wall_ms) if self.wall_ms else float("nan")

    @property
    def cpu(self) -> float:
        return statistics.median(self.cpu_ms) if self.cpu_ms else float("nan")


def _timed(get: Callable[[], Any]) -> tuple[Any, float, float]:
    w0, c0 = time.perf_counter(), time.process_time()
    response = get()
    response.get_data()  # a streamed body is produced here
    return response, (time.perf_counter() - w0) * 1000, (time.process_time() - c0) * 1000


def measure(get: Callable[[], Any], repeat: int, *, before: Callable[[], None] | None = None,
            budget_s: float = 60.0) -> Timing:  # fmt: skip
    """A warm-up request, then up to `repeat` timed ones (`before` runs untimed before each, e.g. clearing
    a cache); stops early once the timed ones took `budget_s` (at least 3 kept, 1 if one takes that long)."""
    out = Timing()
    if before:
        before()
    response, out.first_wall_ms, out.first_cpu_ms = _timed(get)
    out.status, out.size = response.status_code, len(response.get_data())
    if out.status != 200:
        out.error = response.get_data(as_text=True)[:200].replace("\n", " ")
        return out
    spent = 0.0
    for _ in range(repeat):
        if out.first_wall_ms / 1000 > budget_s or (spent > budget_s and len(out.wall_ms) >= 3):
            break
        if before:
            before()
        response, wall, cpu = _timed(get)
        if response.status_code != 200:
            out.status, out.error = response.status_code, response.get_data(as_text=True)[:200]
            break
        out.wall_ms.append(wall)
        out.cpu_ms.append(cpu)
        spent += wall / 1000
    if not out.wall_ms:  # one request took the whole budget: it is the only figure there is
        out.wall_ms, out.cpu_ms = [out.first_wall_ms], [out.first_cpu_ms]
    return out


def _status_kb(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def extra_memory_mb(get: Callable[[], Any], before: Callable[[], None] | None = None) -> tuple[float, float]:
    """(peak resident memory over the resident memory before, tracemalloc peak) of one request, in MB.

    The resident figure resets the kernel's high-water mark first (/proc/self/clear_refs, Linux); it misses
    memory the allocator reuses from earlier requests. tracemalloc counts every Python and numpy allocation
    whether or not it was reused, but not C libraries' own (SQLite's page cache, libpq buffers). The
    benchmark judges the larger of the two."""
    if before:
        before()
    gc.collect()
    try:
        Path("/proc/self/clear_refs").write_text("5")
        rss0 = _status_kb("VmRSS")
        get().get_data()
        rss_mb = max(0, _status_kb("VmHWM") - rss0) / 1024
    except OSError:
        rss_mb = float("nan")
    if before:
        before()
    gc.collect()
    tracemalloc.start()
    try:
        get().get_data()
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return rss_mb, peak / 2**20


def clear_caches(tracker: Any, *, window_summaries: bool = False) -> None:
    """Forget every cached report so the next Evidence request computes it afresh.

    Generic on purpose (the report cache is being rewritten): calls a `clear_cache(s)` method of the
    tracker or its reports service when there is one, empties every attribute of the reports service whose
    name says "cache", and deletes the rows of any database table whose name says "cache". The stored
    capture-window summaries stay (after a sync only the windows it touched are recomputed) unless
    `window_summaries` asks to drop them as well."""
    reports = tracker.reports
    for owner in (tracker, reports):
        for name in ("clear_cache", "clear_caches"):
            fn = getattr(owner, name, None)
            if callable(fn):
                fn()
    for name, value in list(vars(reports).items()):
        if "cache" in name.lower() and hasattr(value, "clear") and not isinstance(value, type):
            value.clear()
    if window_summaries:  # the stored capture-window summaries too: a report as if it were the very first
        with tracker.sessionmaker.begin() as db:
            db.execute(sa.text("DELETE FROM window_summary"))
    tables = getattr(tracker, "_bench_cache_tables", None)
    if tables is None:
        tables = [t for t in sa.inspect(tracker.engine).get_table_names() if "cache" in t.lower()]
        tracker._bench_cache_tables = tables  # type: ignore[attr-defined]
    if tables:
        with tracker.sessionmaker.begin() as db:
            for t in tables:
                db.execute(sa.text(f'DELETE FROM "{t}"'))
