"""A Gadgetbridge database built at test time: greenDAO's DDL for the tables, rows from the physiology model.

The DDL follows the template of Gadgetbridge's greenDAO fork (Freeyourgadget/greenDAO, branch fyg, commit
1998d7c, DaoGenerator/src-template/dao.ftl): quoted UPPER_SNAKE columns; a composite primary key is listed after
the columns with ON CONFLICT REPLACE and WITHOUT ROWID; int/long/boolean/byte map to INTEGER, String to TEXT,
float to REAL. Entities and their properties are those of GBDaoGenerator.java (schema 92, Gadgetbridge a0948ee).

Each device gets its own night of one simulated person (device k uses night k), and `Expected` records, value by
value, what an importer must store for it, derived from the model's truth with the documented rules.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tracker.physiology import PersonSpec, simulate
from tracker.physiology.hypnogram import STAGE_OF_CODE

START_MS = 1_798_761_600_000  # 2027-01-01T00:00:00Z
MIN_MS = 60_000

# (column, type, not null, primary key)
Col = tuple[str, str, bool, bool]
ACTIVITY_KEYS: list[Col] = [("TIMESTAMP", "INTEGER", True, True), ("DEVICE_ID", "INTEGER", True, True),
                            ("USER_ID", "INTEGER", True, False)]  # fmt: skip
TIME_KEYS: list[Col] = ACTIVITY_KEYS  # same columns; the unit differs (ms), not the DDL


def _n(name: str, nullable: bool = False, kind: str = "INTEGER") -> Col:
    return (name, kind, not nullable, False)


ENTITIES: dict[str, list[Col]] = {
    "USER": [("_id", "INTEGER", False, True), _n("NAME", kind="TEXT"), _n("BIRTHDAY"), _n("GENDER")],
    "DEVICE": [("_id", "INTEGER", False, True), _n("NAME", kind="TEXT"), _n("MANUFACTURER", kind="TEXT"),
               ("IDENTIFIER", "TEXT UNIQUE", True, False), _n("TYPE"), _n("TYPE_NAME", kind="TEXT"),
               _n("MODEL", True, "TEXT"), _n("ALIAS", True, "TEXT"), _n("PARENT_FOLDER", True, "TEXT")],
    "MI_BAND_ACTIVITY_SAMPLE": ACTIVITY_KEYS + [_n("RAW_INTENSITY"), _n("STEPS"), _n("RAW_KIND"), _n("HEART_RATE")],
    "HUAMI_EXTENDED_ACTIVITY_SAMPLE": ACTIVITY_KEYS + [_n("RAW_INTENSITY"), _n("STEPS"), _n("RAW_KIND"),
                                                       _n("HEART_RATE"), _n("UNKNOWN1", True), _n("SLEEP", True),
                                                       _n("DEEP_SLEEP", True), _n("REM_SLEEP", True)],
    "HUAMI_STRESS_SAMPLE": TIME_KEYS + [_n("TYPE_NUM"), _n("STRESS")],
    "HUAMI_HEART_RATE_RESTING_SAMPLE": TIME_KEYS + [_n("UTC_OFFSET"), _n("HEART_RATE")],
    "HUAMI_HEART_RATE_MANUAL_SAMPLE": TIME_KEYS + [_n("UTC_OFFSET"), _n("HEART_RATE")],
    "XIAOMI_ACTIVITY_SAMPLE": ACTIVITY_KEYS + [_n("RAW_INTENSITY"), _n("STEPS"), _n("RAW_KIND"), _n("HEART_RATE"),
                                               _n("STRESS", True), _n("SPO2", True)],
    "XIAOMI_SLEEP_TIME_SAMPLE": TIME_KEYS + [_n("WAKEUP_TIME", True), _n("IS_AWAKE", True), _n("TOTAL_DURATION", True),
                                             _n("DEEP_SLEEP_DURATION", True), _n("LIGHT_SLEEP_DURATION", True),
                                             _n("REM_SLEEP_DURATION", True), _n("AWAKE_DURATION", True)],
    "HEART_PULSE_SAMPLE": TIME_KEYS,
    "XIAOMI_SLEEP_STAGE_SAMPLE": TIME_KEYS + [_n("STAGE", True)],
    "COLMI_HEART_RATE_SAMPLE": TIME_KEYS + [_n("HEART_RATE")],
    "COLMI_SLEEP_SESSION_SAMPLE": TIME_KEYS + [_n("WAKEUP_TIME", True)],
    "COLMI_SLEEP_STAGE_SAMPLE": TIME_KEYS + [_n("DURATION"), _n("STAGE")],
    "COLMI_HRV_VALUE_SAMPLE": TIME_KEYS + [_n("VALUE")],
    "GARMIN_ACTIVITY_SAMPLE": ACTIVITY_KEYS + [_n("RAW_INTENSITY"), _n("STEPS"), _n("RAW_KIND"), _n("HEART_RATE"),
                                               _n("DISTANCE_CM"), _n("ACTIVE_CALORIES")],
    "GARMIN_SLEEP_STAGE_SAMPLE": TIME_KEYS + [_n("STAGE")],
    "GARMIN_EVENT_SAMPLE": TIME_KEYS + [("EVENT", "INTEGER", True, True), _n("EVENT_TYPE", True), _n("DATA", True)],
    "GARMIN_HRV_VALUE_SAMPLE": TIME_KEYS + [_n("VALUE")],
    "GARMIN_HEART_RATE_RESTING_SAMPLE": TIME_KEYS + [_n("HEART_RATE")],
    "PINE_TIME_ACTIVITY_SAMPLE": ACTIVITY_KEYS + [_n("RAW_KIND"), _n("STEPS"), _n("HEART_RATE")],
    "BANGLE_JS_ACTIVITY_SAMPLE": ACTIVITY_KEYS + [_n("RAW_INTENSITY"), _n("STEPS"), _n("RAW_KIND"), _n("HEART_RATE")],
    "HUAWEI_ACTIVITY_SAMPLE": ACTIVITY_KEYS + [("OTHER_TIMESTAMP", "INTEGER", True, True),
                                               ("SOURCE", "INTEGER", True, True), _n("RAW_KIND"), _n("RAW_INTENSITY"),
                                               _n("STEPS"), _n("CALORIES"), _n("DISTANCE"), _n("SPO"), _n("HEART_RATE")],
    "PEBBLE_HEALTH_ACTIVITY_SAMPLE": ACTIVITY_KEYS + [("RAW_PEBBLE_HEALTH_DATA", "BLOB", False, False),
                                                      _n("RAW_INTENSITY"), _n("STEPS"), _n("HEART_RATE")],
}  # fmt: skip


def greendao_ddl(table: str, cols: list[Col]) -> str:
    """CREATE TABLE exactly as the fyg template renders it (spacing included)."""
    pks = [c for c, _, _, pk in cols if pk]
    if len(pks) > 1:
        body = "".join(
            f'"{c}" {t}{(" " + ("NOT NULL" if nn else "") + " ") if (nn or pk) else ""},'.replace(" NOT NULL ", "  NOT NULL ")
            if pk else f'"{c}" {t}{" NOT NULL " if nn else ""},'
            for c, t, nn, pk in cols
        )
        keys = " ,".join(f'"{k}"' for k in pks)
        return f'CREATE TABLE "{table}" ({body}PRIMARY KEY ({keys} ) ON CONFLICT REPLACE) WITHOUT ROWID;'
    parts = []
    for c, t, nn, pk in cols:
        constraint = "PRIMARY KEY" if pk else ("NOT NULL" if nn else "")
        if t.endswith(" UNIQUE"):
            t, constraint = t[: -len(" UNIQUE")], "NOT NULL UNIQUE"
        parts.append(f'"{c}" {t}{" " + constraint + " " if constraint else ""}')
    return f'CREATE TABLE "{table}" ({",".join(parts)});'


@dataclass
class Expected:
    hr: list[tuple[int, int]] = field(default_factory=list)
    rr: list[tuple[int, float]] = field(default_factory=list)
    sleep: list[tuple[int, int, str]] = field(default_factory=list)
    metrics: list[tuple[int, str, float]] = field(default_factory=list)


@dataclass(frozen=True)
class GbDeviceSpec:
    id: int
    type_name: str
    name: str
    mac: str
    family: str


DEVICES = (
    GbDeviceSpec(1, "MIBAND5", "Mi Smart Band 5", "C8:0F:10:00:00:01", "gb-huami"),
    GbDeviceSpec(2, "MIBAND7", "Xiaomi Smart Band 7", "C8:0F:10:00:00:02", "gb-zepp-os"),
    GbDeviceSpec(3, "MIBAND8", "Xiaomi Smart Band 8", "C8:0F:10:00:00:03", "gb-xiaomi"),
    GbDeviceSpec(4, "COLMI_R02", "R02_AC01", "C8:0F:10:00:00:04", "gb-colmi"),
    GbDeviceSpec(5, "GARMIN_VENU_3", "Venu 3", "C8:0F:10:00:00:05", "gb-garmin"),
    GbDeviceSpec(6, "PINETIME_JF", "InfiniTime", "C8:0F:10:00:00:06", "gb-pinetime"),
    GbDeviceSpec(7, "BANGLEJS", "Bangle.js 2", "C8:0F:10:00:00:07", "gb-banglejs"),
    GbDeviceSpec(8, "HUAWEIWATCHGT4", "HUAWEI WATCH GT 4", "C8:0F:10:00:00:08", "gb-huawei"),
    GbDeviceSpec(9, "MIBAND", "MI", "C8:0F:10:00:00:09", "gb-miband1"),
    GbDeviceSpec(10, "PEBBLE", "Pebble Time", "C8:0F:10:00:00:0A", "unsupported"),
)


class Night:
    """One night of the model on a minute grid: truth per minute from 2 h before bed to 2 h after waking."""

    def __init__(self, sim, index: int) -> None:  # type: ignore[no-untyped-def]
        bed_ms, hyp = sim.hypnogram(index)
        wake_ms = bed_ms + hyp.size * 30_000
        first = (bed_ms - 2 * 3_600_000) // MIN_MS * MIN_MS
        last = (wake_ms + 2 * 3_600_000) // MIN_MS * MIN_MS
        self.t_ms = np.arange(first, last, MIN_MS, dtype=np.int64)
        # the sim's minute grid is aligned to its start (a whole minute), so these bounds are valid
        self.hr = sim.heart_rate_1min(int(first), int(last))
        self.bed_ms, self.wake_ms = int(bed_ms), int(wake_ms)
        self.stage: list[str | None] = []
        for t in self.t_ms:
            if bed_ms <= t < wake_ms:
                self.stage.append(str(STAGE_OF_CODE[int(hyp[(t - bed_ms) // 30_000])]))
            else:
                self.stage.append(None)
        self.bed_min = int(self.t_ms[next(i for i, s in enumerate(self.stage) if s is not None)])
        self.wake_min = int(self.t_ms[max(i for i, s in enumerate(self.stage) if s is not None)]) + MIN_MS

    def runs(self, allowed: set[str]) -> list[tuple[int, int, str]]:
        """Contiguous minute runs of one stage among `allowed`; other minutes end a run."""
        out: list[tuple[int, int, str]] = []
        for t, s in zip(self.t_ms, self.stage, strict=True):
            if s in allowed:
                if out and out[-1][2] == s and out[-1][1] == t:
                    out[-1] = (out[-1][0], int(t) + MIN_MS, s)
                else:
                    out.append((int(t), int(t) + MIN_MS, s))
        return out

    def all_runs(self) -> list[tuple[int, int, str]]:
        return self.runs({"awake", "light", "deep", "rem"})


def build(path: Path, seed: int = 5) -> dict[int, Expected]:
    """Write the database; return what each device id must import to."""
    sim = simulate(PersonSpec(), START_MS, len(DEVICES) + 1, seed=seed)
    rng = np.random.default_rng(seed)
    conn = sqlite3.connect(path)
    for table, cols in ENTITIES.items():
        conn.execute(greendao_ddl(table, cols))
    conn.execute('INSERT INTO "USER" VALUES (1, "Ana", 0, 1)')
    for d in DEVICES:
        conn.execute('INSERT INTO "DEVICE" VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, NULL)',
                     (d.id, d.name, "test", d.mac, 0, d.type_name))  # fmt: skip
    expected = {d.id: Expected() for d in DEVICES}
    writers = {
        1: _huami, 2: _zepp, 3: _xiaomi, 4: _colmi, 5: _garmin, 6: _pinetime, 7: _bangle, 8: _huawei, 9: _miband1,
        10: _pebble,
    }  # fmt: skip
    for d in DEVICES:
        writers[d.id](conn, d.id, Night(sim, d.id), rng, expected[d.id], sim)
    # a table this program does not read, with rows: must be listed as skipped
    conn.executemany('INSERT INTO "HUAMI_STRESS_SAMPLE" VALUES (?, 1, 1, 0, ?)',
                     [(START_MS + i * MIN_MS, 30 + i) for i in range(5)])  # fmt: skip
    conn.commit()
    conn.close()
    return expected


def _valid(bpm: int) -> bool:
    return 20 <= bpm <= 250


def _huami(conn, dev, night, rng, exp, sim) -> None:  # type: ignore[no-untyped-def]
    code = {"light": 9, "deep": 11, "awake": 1, "rem": 9, None: 1}  # classic bands have no REM: the model's REM reads as light
    truth = ["light" if s == "rem" else (None if s == "awake" else s) for s in night.stage]
    rows, prev_kind = [], None
    for i, (t, s, hr) in enumerate(zip(night.t_ms, truth, night.hr, strict=True)):
        kind = code[s]
        raw = kind | int(rng.choice([0x00, 0x10, 0x50, 0x70]))  # high bits Gadgetbridge masks away
        if prev_kind == kind and i % 5 == 0:
            raw = int(rng.choice([0, 10, 16, 80, 96, 112]))  # "no change" / "ignore": repeat the previous kind
        not_worn = s is None and i % 97 == 0
        if not_worn:
            raw = 3
        bpm = int(hr) if hr > 0 else 255
        rows.append((int(t) // 1000, dev, 1, 10, 0, raw, bpm))
        if _valid(bpm) and not not_worn:
            exp.hr.append((int(t), bpm))
        prev_kind = kind if not not_worn else 3
    conn.executemany('INSERT INTO "MI_BAND_ACTIVITY_SAMPLE" VALUES (?, ?, ?, ?, ?, ?, ?)', rows)
    stages = [s for s in truth]
    exp.sleep.extend(_runs_of(night.t_ms, stages))


def _runs_of(t_ms, stages) -> list[tuple[int, int, str]]:  # type: ignore[no-untyped-def]
    out: list[tuple[int, int, str]] = []
    for t, s in zip(t_ms, stages, strict=True):
        if s is None:
            continue
        if out and out[-1][2] == s and out[-1][1] == t:
            out[-1] = (out[-1][0], int(t) + MIN_MS, s)
        else:
            out.append((int(t), int(t) + MIN_MS, s))
    return out


def _zepp(conn, dev, night, rng, exp, sim) -> None:  # type: ignore[no-untyped-def]
    rows = []
    for i, (t, s, hr) in enumerate(zip(night.t_ms, night.stage, night.hr, strict=True)):
        deep, rem = int(rng.integers(0, 43)), int(rng.integers(0, 56))  # below both thresholds: light
        kind = 120 if s in ("light", "deep", "rem") else 1
        if s == "rem":
            rem = int(rng.integers(56, 128))
        elif s == "deep":
            deep = int(rng.integers(43, 128))
        high = 0x80 if i % 3 == 0 else 0  # the top bit is masked off (& 0x7F)
        not_worn = s is None and i % 89 == 0
        if not_worn:
            kind = 115
        bpm = int(hr) if hr > 0 else 0
        rows.append((int(t) // 1000, dev, 1, 5, 0, kind, bpm, 0, 0, deep | high, rem | high))
        if _valid(bpm) and not not_worn:
            exp.hr.append((int(t), bpm))
    conn.executemany('INSERT INTO "HUAMI_EXTENDED_ACTIVITY_SAMPLE" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)', rows)
    exp.sleep.extend(night.runs({"light", "deep", "rem"}))
    manual_ms = night.wake_min + 90_250  # a spot check taken by hand, stamped in milliseconds
    conn.execute('INSERT INTO "HUAMI_HEART_RATE_MANUAL_SAMPLE" VALUES (?, ?, 1, 3600, 77)', (manual_ms, dev))
    exp.hr.append((manual_ms, 77))
    exp.hr.sort()
    conn.execute('INSERT INTO "HUAMI_HEART_RATE_RESTING_SAMPLE" VALUES (?, ?, 1, 3600, 52)', (night.wake_min, dev))
    exp.metrics.append((night.wake_min, "resting_hr_bpm", 52.0))


def _xiaomi(conn, dev, night, rng, exp, sim) -> None:  # type: ignore[no-untyped-def]
    rows = [(int(t) // 1000, dev, 1, 0, 0, 1, int(hr), None, None) for t, hr in zip(night.t_ms, night.hr, strict=True)]
    conn.executemany('INSERT INTO "XIAOMI_ACTIVITY_SAMPLE" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)', rows)
    exp.hr.extend((int(t), int(hr)) for t, hr in zip(night.t_ms, night.hr, strict=True) if _valid(int(hr)))
    conn.execute('INSERT INTO "XIAOMI_SLEEP_TIME_SAMPLE" VALUES (?, ?, 1, ?, 0, 0, 0, 0, 0, 0)',
                 (night.bed_min, dev, night.wake_min))  # fmt: skip
    code = {"awake": 5, "light": 3, "deep": 2, "rem": 4}
    runs = night.all_runs()
    for start, _end, s in runs:
        conn.execute('INSERT INTO "XIAOMI_SLEEP_STAGE_SAMPLE" VALUES (?, ?, 1, ?)', (start, dev, code[s]))
    conn.execute('INSERT INTO "XIAOMI_SLEEP_STAGE_SAMPLE" VALUES (?, ?, 1, 0)', (night.wake_min, dev))  # "not sleeping"
    exp.sleep.extend(runs)
    # beat to beat: 10 minutes of the model's beats at the band's 10-ms resolution, a re-sync jump in the middle
    t0 = night.bed_min + 3_600_000
    beat_ms, _rr = sim.rr(t0, t0 + 600_000)
    beats = sorted({int(round(b / 10.0)) * 10 for b in beat_ms})
    beats = [b for b in beats if not (t0 + 300_000 <= b < t0 + 340_000)]  # 40 s with no beats: not an interval
    conn.executemany('INSERT INTO "HEART_PULSE_SAMPLE" VALUES (?, ?, 1)', [(b, dev) for b in beats])
    exp.rr.extend((b, float(b - a)) for a, b in zip(beats, beats[1:], strict=False) if 200 <= b - a <= 3000)


def _colmi(conn, dev, night, rng, exp, sim) -> None:  # type: ignore[no-untyped-def]
    for t, hr in zip(night.t_ms[::5], night.hr[::5], strict=True):
        conn.execute('INSERT INTO "COLMI_HEART_RATE_SAMPLE" VALUES (?, ?, 1, ?)', (int(t), dev, int(hr)))
        if _valid(int(hr)):
            exp.hr.append((int(t), int(hr)))
    conn.execute('INSERT INTO "COLMI_SLEEP_SESSION_SAMPLE" VALUES (?, ?, 1, ?)', (night.bed_min, dev, night.wake_min))
    code = {"light": 2, "deep": 3, "rem": 4, "awake": 5}
    runs = night.all_runs()
    for start, end, s in runs:
        conn.execute('INSERT INTO "COLMI_SLEEP_STAGE_SAMPLE" VALUES (?, ?, 1, ?, ?)',
                     (start, dev, (end - start) // MIN_MS, code[s]))  # fmt: skip
    exp.sleep.extend(runs)
    for k in range(4):  # the ring's own HRV every 30 minutes; 0 = no value, not imported
        t, value = night.bed_min + k * 1_800_000, (0 if k == 2 else 30 + k)
        conn.execute('INSERT INTO "COLMI_HRV_VALUE_SAMPLE" VALUES (?, ?, 1, ?)', (t, dev, value))
        if value:
            exp.metrics.append((t, "device_hrv_ms", float(value)))


def _garmin(conn, dev, night, rng, exp, sim) -> None:  # type: ignore[no-untyped-def]
    rows = [(int(t) // 1000, dev, 1, 0, 0, 0, int(hr), 0, 0) for t, hr in zip(night.t_ms, night.hr, strict=True)]
    conn.executemany('INSERT INTO "GARMIN_ACTIVITY_SAMPLE" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)', rows)
    exp.hr.extend((int(t), int(hr)) for t, hr in zip(night.t_ms, night.hr, strict=True) if _valid(int(hr)))
    conn.execute('INSERT INTO "GARMIN_EVENT_SAMPLE" VALUES (?, ?, 1, 74, 0, NULL)', (night.bed_min, dev))
    conn.execute('INSERT INTO "GARMIN_EVENT_SAMPLE" VALUES (?, ?, 1, 74, 1, NULL)', (night.wake_min, dev))
    code = {"awake": 1, "light": 2, "deep": 3, "rem": 4}
    runs = night.all_runs()
    for _start, end, s in runs:  # stamped with the END of the stage
        conn.execute('INSERT INTO "GARMIN_SLEEP_STAGE_SAMPLE" VALUES (?, ?, 1, ?)', (end, dev, code[s]))
    exp.sleep.extend(runs)
    for k in range(6):
        t = night.bed_min + k * 300_000
        conn.execute('INSERT INTO "GARMIN_HRV_VALUE_SAMPLE" VALUES (?, ?, 1, ?)', (t, dev, 40 + k))
        exp.metrics.append((t, "rmssd_ms", float(40 + k)))
    conn.execute('INSERT INTO "GARMIN_HEART_RATE_RESTING_SAMPLE" VALUES (?, ?, 1, 49)', (night.wake_min, dev))
    exp.metrics.append((night.wake_min, "resting_hr_bpm", 49.0))


def _hr_only(table: str, make_row):  # type: ignore[no-untyped-def]
    def write(conn, dev, night, rng, exp, sim) -> None:  # type: ignore[no-untyped-def]
        rows = []
        for t, hr in zip(night.t_ms, night.hr, strict=True):
            bpm = int(hr) if hr > 0 else make_row.not_measured
            rows.append(make_row(int(t) // 1000, dev, bpm))
            if _valid(bpm):
                exp.hr.append((int(t), bpm))
        marks = ", ".join("?" * len(rows[0]))
        conn.executemany(f'INSERT INTO "{table}" VALUES ({marks})', rows)

    return write


def _pt_row(t, dev, bpm):  # type: ignore[no-untyped-def]
    return (t, dev, 1, 0, 0, bpm)


_pt_row.not_measured = 0  # type: ignore[attr-defined]


def _bj_row(t, dev, bpm):  # type: ignore[no-untyped-def]
    return (t, dev, 1, 0, 0, 1, bpm)


_bj_row.not_measured = 0  # type: ignore[attr-defined]


def _hw_row(t, dev, bpm):  # type: ignore[no-untyped-def]
    return (t, dev, 1, t + 59, 13, 1, 0, 0, 0, 0, -1, bpm)


_hw_row.not_measured = -1  # type: ignore[attr-defined]
_pinetime = _hr_only("PINE_TIME_ACTIVITY_SAMPLE", _pt_row)
_bangle = _hr_only("BANGLE_JS_ACTIVITY_SAMPLE", _bj_row)
_huawei = _hr_only("HUAWEI_ACTIVITY_SAMPLE", _hw_row)


def _miband1(conn, dev, night, rng, exp, sim) -> None:  # type: ignore[no-untyped-def]
    code = {"light": 5, "deep": 4}
    truth = ["light" if s == "rem" else (None if s == "awake" else s) for s in night.stage]
    rows = []
    for t, s, hr in zip(night.t_ms, truth, night.hr, strict=True):
        bpm = int(hr) if hr > 0 else 255
        rows.append((int(t) // 1000, dev, 1, 0, 0, code.get(s, 1) if s else 1, bpm))
        if _valid(bpm):
            exp.hr.append((int(t), bpm))
    conn.executemany('INSERT INTO "MI_BAND_ACTIVITY_SAMPLE" VALUES (?, ?, ?, ?, ?, ?, ?)', rows)
    exp.sleep.extend(_runs_of(night.t_ms, truth))


def _pebble(conn, dev, night, rng, exp, sim) -> None:  # type: ignore[no-untyped-def]
    conn.execute('INSERT INTO "PEBBLE_HEALTH_ACTIVITY_SAMPLE" VALUES (?, ?, 1, NULL, 0, 0, 70)', (night.bed_min // 1000, dev))
