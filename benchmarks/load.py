"""Load test: N clients for T seconds against a real `tracker run` on 127.0.0.1 (bounded, loopback only).

Builds a database with benchmarks/web.py's data set (the physiology model through the ingest path; one
person, `--nights` nights, `--sessions` sessions, optional overnight RR), starts `tracker run` on a free
loopback port as a subprocess, and lets `--clients` threads request the API with a bearer token for
`--seconds` seconds: the nights chart, a page of sessions, the evidence report, a session chart, the
people list, round robin. Prints p50/p95/max latency per request and overall, requests per second,
errors (non-2xx answers and failed connections), and the server's peak resident memory (VmHWM) next to
its idle RSS measured before the first request (the baseline of the same run).

    python benchmarks/load.py [--clients 20] [--seconds 20] [--nights 120] [--sessions 40]

Target (issue "Reliability and security", item 10): peak RSS < 300 MB at 20 clients, no errors.
Exit status 1 when a target is missed. Nothing reaches beyond 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import web as web_bench  # noqa: E402  (benchmarks/web.py: the data set)

TARGET_PEAK_RSS_MB = 300.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_kb(pid: int, key: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout_s: float = 60.0) -> None:
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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--nights", type=int, default=120)
    ap.add_argument("--sessions", type=int, default=40)
    ap.add_argument("--overnight-rr-hours", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    if not (1 <= args.clients <= 200 and 0 < args.seconds <= 600):
        ap.error("clients 1-200, seconds up to 600: the test is bounded")

    with tempfile.TemporaryDirectory(prefix="tracker-load-") as tmp:
        directory = Path(tmp)
        t0 = time.perf_counter()
        t, person_id, _timings = web_bench.build(directory, args.nights, args.sessions, args.seed,
                                                 args.overnight_rr_hours)  # fmt: skip
        token = t.users.create_token("bench", "load")
        session_ids = [s.id for s in t.sessions.list(person_id)][:20]
        t.close()
        print(f"data set: 1 person, {args.nights} nights, {args.sessions} sessions "
              f"(built in {time.perf_counter() - t0:.1f} s)")  # fmt: skip

        port = free_port()
        cfg = directory / "load.toml"
        cfg.write_text(
            f'[database]\nurl = "sqlite:///{directory / "tracker.db"}"\n[paths]\ndata_dir = "{directory / "data"}"\n'
            f'[web]\nhost = "127.0.0.1"\nport = {port}\n',
            encoding="utf-8",
        )
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
        proc = subprocess.Popen([sys.executable, "-m", "tracker", "--config", str(cfg), "run"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            wait_ready(base, proc)
            time.sleep(1.0)
            idle_kb = rss_kb(proc.pid)
            urls = [
                f"/api/v1/nights?person={person_id}",
                f"/api/v1/sessions?person={person_id}&limit=50",
                f"/api/v1/report?person={person_id}",
                f"/api/v1/people",
            ] + [f"/api/v1/sessions/{sid}/chart" for sid in session_ids[:3]]
            results: dict[str, list[float]] = {u.split("?")[0]: [] for u in urls}
            errors: list[str] = []
            lock = threading.Lock()
            stop_at = time.monotonic() + args.seconds
            peak = [idle_kb]

            def client(k: int) -> None:
                i = k
                while time.monotonic() < stop_at:
                    url = urls[i % len(urls)]
                    i += 1
                    req = urllib.request.Request(base + url, headers={"Authorization": f"Bearer {token}"})
                    started = time.perf_counter()
                    try:
                        with urllib.request.urlopen(req, timeout=60) as r:
                            r.read()
                        ok = 200 <= r.status < 300
                    except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
                        ok, r = False, exc
                    elapsed = time.perf_counter() - started
                    with lock:
                        if ok:
                            results[url.split("?")[0]].append(elapsed)
                        else:
                            errors.append(f"{url}: {r}")

            def sample_rss() -> None:
                while time.monotonic() < stop_at + 0.5:
                    peak[0] = max(peak[0], rss_kb(proc.pid))
                    time.sleep(0.1)

            threads = [threading.Thread(target=client, args=(k,)) for k in range(args.clients)]
            sampler = threading.Thread(target=sample_rss)
            cpu0 = os.times()
            started = time.perf_counter()
            sampler.start()
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            sampler.join()
            wall_s = time.perf_counter() - started
            hwm_kb = rss_kb(proc.pid, "VmHWM")
            server_cpu = sum(float(x) for x in Path(f"/proc/{proc.pid}/stat").read_text().split(")")[1].split()[11:13])
            del cpu0
        finally:
            proc.terminate()
            proc.wait(timeout=30)

    every = sorted(x for v in results.values() for x in v)
    print(f"\n{args.clients} clients for {args.seconds:.0f} s on 127.0.0.1: {len(every)} answers, "
          f"{len(every) / wall_s:.1f}/s, {len(errors)} errors; server CPU {server_cpu / os.sysconf('SC_CLK_TCK'):.1f} s "
          f"over {wall_s:.1f} s wall")  # fmt: skip
    print(f"{'request':<36} {'n':>6} {'p50 ms':>9} {'p95 ms':>9} {'max ms':>9}")

    def line(name: str, xs: list[float]) -> None:
        if not xs:
            print(f"{name:<36} {0:>6}")
            return
        xs = sorted(xs)
        p95 = xs[min(len(xs) - 1, int(0.95 * len(xs)))]
        print(f"{name:<36} {len(xs):>6} {1000 * statistics.median(xs):>9.1f} {1000 * p95:>9.1f} {1000 * xs[-1]:>9.1f}")

    for name, xs in results.items():
        line(name, xs)
    line("all", every)
    peak_mb = max(peak[0], hwm_kb) / 1024
    print(f"\nserver RSS: idle {idle_kb / 1024:.0f} MB (baseline), peak {peak_mb:.0f} MB "
          f"(target < {TARGET_PEAK_RSS_MB:.0f} MB)")  # fmt: skip
    for e in errors[:5]:
        print("error:", e)
    ok = peak_mb < TARGET_PEAK_RSS_MB and not errors
    print("all targets met" if ok else "TARGET MISSED")
    print(json.dumps({"clients": args.clients, "p50_ms": 1000 * statistics.median(every) if every else None,
                      "errors": len(errors), "peak_rss_mb": round(peak_mb, 1)}))  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
