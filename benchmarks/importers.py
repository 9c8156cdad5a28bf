"""Import benchmark: Gadgetbridge database, Apple Health export.xml and Garmin FIT, each in its own process.

For each format a file is generated, then imported by `tracker import`'s code path (tracker.importers) into a
fresh SQLite database in a child process, which reports wall time, CPU time and its own peak RSS. The baseline,
measured in the same run and also in a child process, is a minimal script doing the same job without the
project: sqlite3 rows → plain `executemany` (Gadgetbridge), stdlib `xml.etree.ElementTree.iterparse` →
`executemany` (Apple), the SDK's decoder alone (FIT). Prints rows/s, the ratio to the baseline, and peak memory
against file size (the Apple import must stay flat: a 1 GB export under 300 MB).

    python benchmarks/importers.py [--gb-minutes N] [--apple-records N] [--fit-messages N] [--repeat R]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

T0_S = 1_800_000_000
REPO = Path(__file__).resolve().parents[1]


def make_gadgetbridge(path: Path, minutes: int) -> None:
    conn = sqlite3.connect(path)
    conn.execute('CREATE TABLE "DEVICE" ("_id" INTEGER PRIMARY KEY ,"NAME" TEXT NOT NULL ,"MANUFACTURER" TEXT NOT NULL ,'
                 '"IDENTIFIER" TEXT NOT NULL UNIQUE ,"TYPE" INTEGER NOT NULL ,"TYPE_NAME" TEXT NOT NULL ,"MODEL" TEXT,'
                 '"ALIAS" TEXT,"PARENT_FOLDER" TEXT);')  # fmt: skip
    conn.execute('CREATE TABLE "MI_BAND_ACTIVITY_SAMPLE" ("TIMESTAMP" INTEGER  NOT NULL ,"DEVICE_ID" INTEGER  NOT NULL ,'
                 '"USER_ID" INTEGER NOT NULL ,"RAW_INTENSITY" INTEGER NOT NULL ,"STEPS" INTEGER NOT NULL ,"RAW_KIND" '
                 'INTEGER NOT NULL ,"HEART_RATE" INTEGER NOT NULL ,PRIMARY KEY ("TIMESTAMP" ,"DEVICE_ID" ) ON CONFLICT '
                 'REPLACE) WITHOUT ROWID;')  # fmt: skip
    conn.execute("INSERT INTO DEVICE VALUES (1, 'Mi Band 5', 'Xiaomi', 'C8:0F:10:00:00:01', 0, 'MIBAND5', NULL, NULL, NULL)")
    night = lambda i: (i % 1440) < 420  # noqa: E731  (7 h of sleep a day)
    conn.executemany(
        "INSERT INTO MI_BAND_ACTIVITY_SAMPLE VALUES (?, 1, 1, 10, 0, ?, ?)",
        ((T0_S + 60 * i, (9 if (i // 37) % 3 else 11) if night(i) else 1, 50 + (i * 7919) % 60) for i in range(minutes)),
    )
    conn.commit()
    conn.close()


def make_apple(path: Path, records: int) -> None:
    dtd = (REPO / "tests" / "data" / "apple_health" / "export_dtd_v14.txt").read_text(encoding="utf-8")
    device = "&lt;&lt;HKDevice: 0x283d3c1e0&gt;, name:Apple Watch, manufacturer:Apple Inc., model:Watch, hardware:Watch6,2, software:10.1&gt;"
    with path.open("w", encoding="utf-8") as fh:
        fh.write(f'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE HealthData [{dtd}]>\n<HealthData locale="en_US">\n')
        for i in range(records):
            t = time.strftime("%Y-%m-%d %H:%M:%S +0000", time.gmtime(T0_S + 60 * i))
            fh.write(f' <Record type="HKQuantityTypeIdentifierHeartRate" sourceName="Apple Watch" sourceVersion="10.1" '
                     f'device="{device}" unit="count/min" creationDate="{t}" startDate="{t}" endDate="{t}" '
                     f'value="{50 + (i * 7919) % 60}">\n  <MetadataEntry key="HKMetadataKeyHeartRateMotionContext" '
                     f'value="0"/>\n </Record>\n')  # fmt: skip
        fh.write("</HealthData>\n")


def make_fit(path: Path, messages: int) -> None:
    import datetime as dt

    from garmin_fit_sdk import Encoder, Profile

    mesg = Profile["mesg_num"]
    enc = Encoder()
    t0 = dt.datetime.fromtimestamp(T0_S, dt.timezone.utc)
    enc.write_mesg({"mesg_num": mesg["FILE_ID"], "type": "monitoring_b", "manufacturer": "garmin", "product": 3415,
                    "serial_number": 1, "time_created": t0})  # fmt: skip
    for i in range(messages):
        msg = {"mesg_num": mesg["MONITORING"], "heart_rate": 50 + (i * 7919) % 60}
        if i == 0:
            msg["timestamp"] = t0
        else:
            msg["timestamp_16"] = (T0_S + 60 * i - 631_065_600) & 0xFFFF
        enc.write_mesg(msg)
    path.write_bytes(enc.close())


# ---------------------------------------------------------------- children (one measurement per process)


def child_project(path: str, db: str) -> dict[str, float]:
    from tracker.config import Config, DatabaseConfig, PathsConfig
    from tracker.bootstrap import build_tracker
    from tracker.importers import Importers
    from tracker.storage.db import make_engine, upgrade_schema

    url = f"sqlite:///{db}"
    engine = make_engine(url)
    upgrade_schema(engine)
    engine.dispose()
    tracker = build_tracker(Config(database=DatabaseConfig(url=url), paths=PathsConfig(str(Path(db).parent))))
    person = tracker.people.add("bench", "UTC")
    w0, c0 = time.perf_counter(), time.process_time()
    outcomes = Importers(tracker).import_path(person.id, Path(path))
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    assert all(o.error is None for o in outcomes), [o.error for o in outcomes]
    return {"rows": sum(o.rows for o in outcomes), "wall_s": wall, "cpu_s": cpu}


def child_baseline(kind: str, path: str, db: str) -> dict[str, float]:
    w0, c0 = time.perf_counter(), time.process_time()
    rows = 0
    if kind == "fit":
        from garmin_fit_sdk import Decoder, Stream

        msgs, _ = Decoder(Stream.from_file(path)).read(convert_datetimes_to_dates=False, merge_heart_rates=False)
        rows = len(msgs.get("monitoring_mesgs", []))
    else:
        out = sqlite3.connect(db)
        out.execute("CREATE TABLE hr (t_ms INTEGER PRIMARY KEY, bpm INTEGER)")
        if kind == "gadgetbridge":
            src = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            it = ((t * 1000, hr) for t, hr in src.execute("SELECT TIMESTAMP, HEART_RATE FROM MI_BAND_ACTIVITY_SAMPLE"))
        else:
            import datetime as dt
            import xml.etree.ElementTree as ET

            def records():  # type: ignore[no-untyped-def]
                for _, el in ET.iterparse(path):
                    if el.tag == "Record":
                        t = dt.datetime.strptime(el.get("startDate"), "%Y-%m-%d %H:%M:%S %z")
                        yield int(t.timestamp() * 1000), int(float(el.get("value")))
                        el.clear()

            it = records()
        cur = out.executemany("INSERT INTO hr VALUES (?, ?)", it)
        rows = cur.rowcount
        out.commit()
    return {"rows": rows, "wall_s": time.perf_counter() - w0, "cpu_s": time.process_time() - c0}


def run_child(args: list[str]) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--gb-minutes", type=int, default=500_000)
    ap.add_argument("--apple-records", type=int, default=200_000)
    ap.add_argument("--fit-messages", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--child", nargs="+")
    args = ap.parse_args()
    if args.child:
        role, kind, path, db = args.child
        result = child_project(path, db) if role == "project" else child_baseline(kind, path, db)
        result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        files = {"gadgetbridge": d / "Gadgetbridge", "apple": d / "export.xml", "fit": d / "monitoring.fit"}
        make_gadgetbridge(files["gadgetbridge"], args.gb_minutes)
        make_apple(files["apple"], args.apple_records)
        make_fit(files["fit"], args.fit_messages)
        print(f"{'format':<13} {'file MB':>8} {'rows':>9} {'rows/s':>10} {'base rows/s':>12} {'ratio':>6} "
              f"{'CPU s':>6} {'wall s':>7} {'peak MB':>8} {'base MB':>8}")  # fmt: skip
        for kind, path in files.items():
            project, base = [], []
            for r in range(args.repeat):
                project.append(run_child(["project", kind, str(path), str(d / f"p{r}-{kind}.db")]))
                base.append(run_child(["baseline", kind, str(path), str(d / f"b{r}-{kind}.db")]))
                for f in d.glob("*.db*"):
                    os.remove(f)
            med = lambda xs, k: statistics.median(x[k] for x in xs)  # noqa: E731
            rate, base_rate = med(project, "rows") / med(project, "wall_s"), med(base, "rows") / med(base, "wall_s")
            print(f"{kind:<13} {path.stat().st_size / 2**20:>8.1f} {int(med(project, 'rows')):>9} {rate:>10,.0f} "
                  f"{base_rate:>12,.0f} {rate / base_rate:>6.2f} {med(project, 'cpu_s'):>6.1f} "
                  f"{med(project, 'wall_s'):>7.1f} {med(project, 'peak_mb'):>8.0f} {med(base, 'peak_mb'):>8.0f}")  # fmt: skip


if __name__ == "__main__":
    main()
