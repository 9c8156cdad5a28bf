"""Smoke test of benchmarks/clinic_data.py on a tiny set (2 people x 10 days, one x 12 days with overnight RR).

The benchmarks themselves never run in the suite; this only checks that the data set they measure is
what it says: every row went in through the product's write paths and the stored nights exist.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
import sqlalchemy as sa

from tracker.storage.models import HeartRateRow, MassageSession, NightSummary, RRRow, SleepRow

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "clinic_data.py"


@pytest.fixture(scope="module")
def clinic_data() -> ModuleType:
    saved = list(sys.path)
    spec = importlib.util.spec_from_file_location("bench_clinic_data", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path[:] = saved  # the module drops benchmarks/ from sys.path; leave the suite's path alone
    return module


def tiny(clinic_data: ModuleType) -> object:
    return clinic_data.Params(people=2, days=10, sessions=3, long_days=12, long_sessions=2, overnight_rr_h=1.0)


def test_builds_the_set_through_the_product(clinic_data: ModuleType, database_url: str, tmp_path: Path) -> None:
    manifest = clinic_data.build(database_url, tmp_path / "db", tiny(clinic_data), log=lambda _m: None)
    people = manifest["people"]
    assert [p["user"] for p in people] == ["clinic", "clinic", "longterm"]
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            def count(model: type, pid: int) -> int:
                return int(conn.scalar(sa.select(sa.func.count()).select_from(model).where(model.person_id == pid)))

            for p in people:
                assert count(HeartRateRow, p["id"]) == p["heart_rate"] > 10 * 1000  # ~1,400 worn minutes a day
                assert count(SleepRow, p["id"]) == p["sleep"] > 0
                assert count(RRRow, p["id"]) == p["rr_sessions"] + p["rr_overnight"]
                assert count(MassageSession, p["id"]) == p["sessions"]
                assert count(NightSummary, p["id"]) == p["nights"] >= p["days"] - 2
                # nightly lnRMSSD needs RR at night: only the long-history person wears the strap then
                ln = conn.scalars(sa.select(NightSummary.ln_rmssd_night).where(NightSummary.person_id == p["id"])).all()
                with_hrv = sum(x is not None for x in ln)
                if p["overnight_rr_h"]:
                    assert p["rr_overnight"] > 3000 * p["days"] // 2 and with_hrv >= len(ln) // 2
                else:
                    assert p["rr_overnight"] == 0 and with_hrv == 0
            # two 5-minute windows per session, about a beat a second
            assert all(p["rr_sessions"] > p["sessions"] * 2 * 200 for p in people)
    finally:
        engine.dispose()


def test_second_call_reuses_the_cache(clinic_data: ModuleType, tmp_path: Path) -> None:
    params = tiny(clinic_data)
    first = clinic_data.ensure(params, tmp_path, log=lambda _m: None)
    second = clinic_data.ensure(params, tmp_path, log=lambda _m: None)
    assert second == first
    assert Path(first["directory"], "tracker.db").exists()
    assert str(tmp_path) in first["url"]  # under the data dir given, not the repository
