"""Load test: N signed-in clients for T seconds against a real `tracker run` on 127.0.0.1 (bounded, loopback only).

Data: the clinic data set of benchmarks/clinic_data.py (built once and cached; SQLite, or PostgreSQL with
`--postgres URL`). The server is `tracker run` (waitress, the scheduler, the collector) started as a
subprocess on a free loopback port with its default settings. Each client signs in through the sign-in
form (its own cookie session, as a browser), then browses like one: for one person after another of its
account (`--clients` are split between the clinic account's 20 people and the long-history person), the
Overview, Sessions, a session, Sleep and Evidence pages, each followed by the JSON its scripts load
(found beforehand with Flask's test client, as benchmarks/web.py finds it). Each person's Evidence is
computed once and then served from the report cache until its data change, as in real use between syncs.

Prints p50/p95/max latency per page (with its JSON) and overall, requests per second, errors (non-2xx
answers and failed connections), the server's CPU time, and its resident memory: idle (after start and
sign-in, the baseline of the same run) and peak (sampled every 0.1 s, and the kernel's high-water mark).

Target (issue "Reliability and security", item 10): peak RSS < 300 MB at 20 clients, no errors.

    python benchmarks/load.py [--quick] [--clients 20] [--seconds 30] [--postgres URL]

Exit status 1 when a target is missed. Nothing reaches beyond 127.0.0.1.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import webprobe  # noqa: E402
import clinic_data  # noqa: E402  (it drops benchmarks/ from sys.path again, so `web` is the package)

from tracker.model import SessionStatus  # noqa: E402

TARGET_PEAK_RSS_MB = 300.0
ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def proc_status_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def proc_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def visits(manifest: dict[str, Any]) -> dict[int, list[tuple[str, str]]]:
    """Per person: (page, URL) of every request a browser makes for the five pages, in order."""
    from web import create_app

    tracker = clinic_data.tracker_for(manifest)
    try:
        app = create_app(tracker, secret_key="load-test-discovery-key-long-enough-to-sign")
        out: dict[int, list[tuple[str, str]]] = {}
        clients: dict[str, Any] = {}
        for person in manifest["people"]:
            client = clients.get(person["user"])
            if client is None:
                client = clients[person["user"]] = webprobe.sign_in(app, person["user"], manifest["password"])
            pid = person["id"]
            done = tracker.sessions.list(pid, statuses=[SessionStatus.DONE], newest_first=True, limit=1)
            pages = {"Overview": f"/?person={pid}", "Sessions": f"/sessions?person={pid}", "A session": f"/sessions/{done[0].id}",
                     "Sleep": f"/sleep?person={pid}", "Evidence": f"/evidence?person={pid}"}  # fmt: skip
            seq: list[tuple[str, str]] = []
            for page, url in pages.items():
                seq.append((page, url))
                html_text = client.get(url).get_data(as_text=True)
                seq += [(page, u) for u in webprobe.chart_requests(client, html_text)]
            out[pid] = seq
        return out
    finally:
        tracker.close()


class Browser:
    """One signed-in client with its own cookies."""

    def __init__(self, base: str, user: str, password: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        page = self.opener.open(base + "/signin", timeout=60).read().decode()
        token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
        if token is None:
            raise SystemExit("no csrf-token on /signin")
        form = urllib.parse.urlencode({"name": user, "password": password, "csrf_token": token.group(1)}).encode()
        self.opener.open(base + "/signin", data=form, timeout=60).read()

    def get(self, url: str) -> int:
        with self.opener.open(self.base + url, timeout=120) as r:
            r.read()
            return int(r.status)


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"tracker run exited with {proc.returncode}")
        try:
            urllib.request.urlopen(url + "/signin", timeout=2).read()
            return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.3)
    raise SystemExit("tracker run did not answer in time")


def run_load(manifest: dict[str, Any], clients: int, seconds: float, log_path: Path) -> dict[str, Any]:
    seqs = visits(manifest)
    people = manifest["people"]
    port = free_port()
    directory = Path(manifest["directory"])
    cfg = directory / "load.toml"
    cfg.write_text(f'[database]\nurl = "{manifest["url"]}"\n[paths]\ndata_dir = "{directory / "files"}"\n'
                   f'[web]\nhost = "127.0.0.1"\nport = {port}\n', encoding="utf-8")  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with log_path.open("wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "tracker", "--config", str(cfg), "run"], env=env, cwd=directory,
                                stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    results: dict[str, list[float]] = {}
    errors: list[str] = []
    lock = threading.Lock()
    try:
        wait_ready(base, proc)
        time.sleep(1.0)
        started_kb = proc_status_kb(proc.pid, "VmRSS")
        # Client k browses person k, k + clients, ... of its account; the long-history person gets its share.
        plan: list[tuple[str, list[int]]] = []
        for k in range(clients):
            person = people[k % len(people)]
            mine = [p["id"] for p in people if p["user"] == person["user"]]
            start = mine.index(person["id"])
            plan.append((person["user"], mine[start:] + mine[:start]))
        browsers = [Browser(base, user, manifest["password"]) for user, _ in plan]
        time.sleep(1.0)
        idle_kb = proc_status_kb(proc.pid, "VmRSS")
        cpu0 = proc_cpu_s(proc.pid)
        stop_at = time.monotonic() + seconds
        peak_kb = [idle_kb]

        def client(k: int) -> None:
            browser, order = browsers[k], plan[k][1]
            i = 0
            while time.monotonic() < stop_at:
                for page, url in seqs[order[i % len(order)]]:
                    if time.monotonic() >= stop_at:
                        return
                    started = time.perf_counter()
                    try:
                        ok = 200 <= browser.get(url) < 300
                        why = ""
                    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as exc:
                        ok, why = False, str(exc)
                    elapsed = time.perf_counter() - started
                    with lock:
                        if ok:
                            results.setdefault(page, []).append(elapsed)
                        else:
                            errors.append(f"{url}: {why}")
                i += 1

        def sample() -> None:
            while time.monotonic() < stop_at + 0.5:
                peak_kb[0] = max(peak_kb[0], proc_status_kb(proc.pid, "VmRSS"))
                time.sleep(0.1)

        threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
        sampler = threading.Thread(target=sample)
        started = time.perf_counter()
        sampler.start()
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        sampler.join()
        wall_s = time.perf_counter() - started
        hwm_kb = proc_status_kb(proc.pid, "VmHWM")
        cpu_s = proc_cpu_s(proc.pid) - cpu0
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    return {"results": results, "errors": errors, "wall_s": wall_s, "cpu_s": cpu_s, "idle_mb": idle_kb / 1024,
            "started_mb": started_kb / 1024,
            "peak_mb": max(peak_kb[0], hwm_kb) / 1024}  # fmt: skip


def report(name: str, clients: int, seconds: float, out: dict[str, Any]) -> bool:
    every = sorted(x for v in out["results"].values() for x in v)
    errors = out["errors"]
    print(f"\n== {name}: {clients} clients for {seconds:.0f} s on 127.0.0.1: {len(every)} answers "
          f"({len(every) / out['wall_s']:.1f}/s), {len(errors)} errors; server CPU {out['cpu_s']:.1f} s "
          f"in {out['wall_s']:.1f} s")  # fmt: skip
    print(f"{'page (with its JSON)':<24}{'n':>7}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}")

    def line(label: str, xs: list[float]) -> None:
        xs = sorted(xs)
        if not xs:
            print(f"{label:<24}{0:>7}")
            return
        p95 = xs[min(len(xs) - 1, int(0.95 * len(xs)))]
        print(f"{label:<24}{len(xs):>7}{1000 * statistics.median(xs):>9.1f}{1000 * p95:>9.1f}{1000 * xs[-1]:>9.1f}")

    for page, xs in out["results"].items():
        line(page, xs)
    line("all requests", every)
    ok = out["peak_mb"] < TARGET_PEAK_RSS_MB and not errors
    print(f"server RSS: {out['started_mb']:.0f} MB after start; idle {out['idle_mb']:.0f} MB (baseline, after the "
          f"clients signed in), peak {out['peak_mb']:.0f} MB: "
          f"{'ok' if out['peak_mb'] < TARGET_PEAK_RSS_MB else 'MISSED'} (< {TARGET_PEAK_RSS_MB:.0f} MB)")  # fmt: skip
    for e in errors[:5]:
        print("error:", e)
    print(json.dumps({"backend": name, "clients": clients, "answers": len(every),
                      "p50_ms": round(1000 * statistics.median(every), 1) if every else None,
                      "p95_ms": round(1000 * every[min(len(every) - 1, int(0.95 * len(every)))], 1) if every else None,
                      "errors": len(errors), "started_rss_mb": round(out["started_mb"], 1),
                      "idle_rss_mb": round(out["idle_mb"], 1),
                      "peak_rss_mb": round(out["peak_mb"], 1)}))  # fmt: skip
    return ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    clinic_data.add_arguments(ap)
    ap.add_argument("--postgres", metavar="URL", help="also run against the PostgreSQL copy of the data set")
    ap.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=30.0)
    args = ap.parse_args()
    if not (1 <= args.clients <= 200 and 0 < args.seconds <= 600):
        ap.error("clients 1-200, seconds up to 600: the test is bounded")
    params = clinic_data.params_from(args)
    ok = True
    for pg in ([] if args.no_sqlite else [None]) + ([args.postgres] if args.postgres else []):
        manifest = clinic_data.ensure(params, args.data_dir, pg, rebuild=args.rebuild, jobs=args.jobs,
                                      log=lambda m: print(m, file=sys.stderr))  # fmt: skip
        name = "PostgreSQL" if pg else "SQLite"
        log_path = Path(manifest["directory"]) / "load-server.log"
        out = run_load(manifest, args.clients, args.seconds, log_path)
        ok = report(name, args.clients, args.seconds, out) and ok
        print(f"(server log: {log_path})")
    print("all targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
