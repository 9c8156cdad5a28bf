"""Streaming CSV import: all-or-nothing per file without holding it, spreadsheet separators and decimal
commas, hostile fields and times as `file:line: reason`, runs with undo and warnings (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.tracker.test_interchange import FILES, _write
from tracker.bootstrap import Tracker
from tracker.cli import main
from tracker.ingest import Provenance
from tracker.model import Source
from tracker.storage.models import HeartRateRow, MassageSession, RRRow, Run, SleepRow

T0_MS = 1_803_902_400_000  # 2027-03-01T12:00:00Z, the tests' "now"


def _count(tracker: Tracker, model: type) -> int:
    with tracker.sessionmaker() as db:
        return int(db.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


def _hr_lines(n: int, start_s: int = 1_803_000_000) -> list[str]:
    return [f"{_iso(start_s + i)},{60 + i % 40}" for i in range(n)]


def _iso(t_s: int) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(t_s, dt.timezone.utc).isoformat().replace("+00:00", "Z")


def test_bad_row_after_many_chunks_stores_nothing_from_that_file(tracker: Tracker, tmp_path: Path) -> None:
    ana = tracker.people.add("Ana", "UTC")
    lines = _hr_lines(50_000)  # more than a chunk of the per-chunk path: the whole file is one unit
    lines[45_000] = lines[45_000].replace(",", ",999")
    path = tmp_path / "heart_rate.csv"
    path.write_text("timestamp,bpm\n" + "\n".join(lines) + "\n", encoding="utf-8")
    result = tracker.interchange.import_paths(ana, [path])
    assert result.files[0].error == f"{path}:45002: bpm 999{lines[45_000].split(',999')[1]} outside 20-250"
    assert result.files[0].kind == "heart_rate.csv"
    assert _count(tracker, HeartRateRow) == 0
    # the fixed file imports whole
    lines[45_000] = lines[45_000].replace(",999", ",")
    path.write_text("timestamp,bpm\n" + "\n".join(lines) + "\n", encoding="utf-8")
    result = tracker.interchange.import_paths(ana, [path])
    assert result.ok and result.files[0].inserted == 50_000 and _count(tracker, HeartRateRow) == 50_000


def test_semicolons_and_decimal_commas_import(tracker: Tracker, tmp_path: Path) -> None:
    ana = tracker.people.add("Ana", "UTC")
    src = _write(tmp_path / "de", {
        "rr_intervals.csv": "timestamp;rr_ms\r\n2027-03-28T10:00:00Z;812,5\r\n2027-03-28T10:00:01Z;1023,4375\r\n",
        "herz.csv": "\ufefftimestamp;bpm\n2027-03-28T10:00:00Z;61\n",  # recognised by its header, BOM and all
        "schlaf.csv": "start\tend\tstage\n2027-03-28T01:00:00Z\t2027-03-28T02:00:00Z\tdeep\n",
    })  # fmt: skip
    result = tracker.interchange.import_paths(ana, [src])
    assert result.ok, result
    assert sorted(f.kind for f in result.files) == ["heart_rate.csv", "rr_intervals.csv", "sleep_stages.csv"]
    with tracker.sessionmaker() as db:
        assert sorted(db.scalars(sa.select(RRRow.rr_ms))) == [812.5, 1023.4375]
        assert list(db.scalars(sa.select(HeartRateRow.bpm))) == [61]
        assert list(db.scalars(sa.select(SleepRow.stage))) == ["deep"]


def test_separator_is_named_when_a_file_fails(tracker: Tracker, tmp_path: Path) -> None:
    ana = tracker.people.add("Ana", "UTC")
    src = _write(tmp_path / "x", {
        "a.csv": "zeit;puls\n2027-03-28T10:00:00Z;61\n",
        "rr_intervals.csv": "timestamp,rr_ms\n2027-03-28T10:00:00Z,812,5\n",  # a decimal comma in a comma file
        "heart_rate.csv": "timestamp;bpm\n2027-03-28T10:00:00Z,61\n",
    })  # fmt: skip
    by_name = {Path(f.path).name: f for f in tracker.interchange.import_paths(ana, [src]).files}
    assert by_name["a.csv"].error == f"{src / 'a.csv'}:1: unrecognised header 'zeit;puls' (read with separator semicolon ';'; see the README for the four formats)"
    assert by_name["a.csv"].kind == "unknown"
    assert by_name["rr_intervals.csv"].error == f"{src / 'rr_intervals.csv'}:2: expected 2 columns separated by comma ',', got 3"
    assert by_name["rr_intervals.csv"].kind == "rr_intervals.csv"  # the kind is named even for a failed file
    assert by_name["heart_rate.csv"].error == f"{src / 'heart_rate.csv'}:2: expected 2 columns separated by semicolon ';', got 1"


def test_quoted_decimal_comma_in_a_comma_file_says_why(tracker: Tracker, tmp_path: Path) -> None:
    ana = tracker.people.add("Ana", "UTC")
    src = _write(tmp_path / "x", {"rr_intervals.csv": 'timestamp,rr_ms\n2027-03-28T10:00:00Z,"812,5"\n'})
    result = tracker.interchange.import_paths(ana, [src])
    assert result.files[0].error == f"{src / 'rr_intervals.csv'}:2: rr_ms '812,5' is not a number (a decimal comma needs a ';'-separated file)"


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("timestamp,bpm\n2027-03-28T10:00:00Z,60\n9999-12-31T23:59:59+00:00,61\n", 3,
         "time '9999-12-31T23:59:59+00:00' outside 2000-01-01 to 2100-01-01"),
        ("timestamp,bpm\n0001-01-01T00:00:00+14:00,61\n", 2, "time '0001-01-01T00:00:00+14:00' outside 2000-01-01 to 2100-01-01"),
        ("timestamp,bpm\n2027-03-28T10:00:00Z,60\n2027-03-28T10:00:01Z," + "7" * (128 * 1024 + 1) + "\n", 3,
         "a field is longer than 128 KiB"),
    ],
)  # fmt: skip
def test_hostile_values_are_file_line_errors_and_never_stored(
    tracker: Tracker, tmp_path: Path, text: str, line: int, reason: str
) -> None:
    ana = tracker.people.add("Ana", "UTC")
    src = _write(tmp_path / "x", {"heart_rate.csv": text, "rr_intervals.csv": "timestamp,rr_ms\n2027-03-28T10:00:00Z,800\n"})
    files = tracker.interchange.import_paths(ana, [src]).files
    by_name = {Path(f.path).name: f for f in files}
    assert by_name["heart_rate.csv"].error == f"{src / 'heart_rate.csv'}:{line}: {reason}"
    assert by_name["rr_intervals.csv"].error is None  # the next file still imported
    assert _count(tracker, HeartRateRow) == 0 and _count(tracker, RRRow) == 1
    # the person's pages still work (nothing implausible was stored)
    assert tracker.interchange.export_texts(ana)["heart_rate.csv"] == "timestamp,bpm\n"


def test_cli_long_field_exits_2_without_traceback_and_imports_the_next_file(config_file: Path, tmp_path: Path, capsys) -> None:
    assert main(["--config", str(config_file), "init"]) == 0
    main(["--config", str(config_file), "person", "add", "Ana", "--tz", "UTC"])
    src = _write(tmp_path / "in", {
        "heart_rate.csv": "timestamp,bpm\n2027-03-28T10:00:00Z,\"" + "x" * 200_000 + "\"\n",
        "rr_intervals.csv": "timestamp,rr_ms\n2027-03-28T10:00:00Z,800\n",
    })  # fmt: skip
    capsys.readouterr()
    assert main(["--config", str(config_file), "import", str(src), "--person", "Ana"]) == 2
    out = capsys.readouterr()
    assert f"{src / 'heart_rate.csv'}:2: a field is longer than 128 KiB" in out.err and "Traceback" not in out.err
    assert "rr_intervals.csv: 1 rows, 1 new (rr_intervals.csv), run " in out.out


def test_undo_deletes_exactly_what_that_run_stored(tracker: Tracker, tmp_path: Path) -> None:
    ana = tracker.people.add("Ana", "UTC")
    first = _write(tmp_path / "a", {"heart_rate.csv": "timestamp,bpm\n" + "\n".join(_hr_lines(10)) + "\n"})
    second = _write(tmp_path / "b", {"heart_rate.csv": "timestamp,bpm\n" + "\n".join(_hr_lines(15)) + "\n",
                                     "sessions.csv": FILES["sessions.csv"]})  # fmt: skip
    run_a = tracker.interchange.import_paths(ana, [first]).files[0].run_id
    res_b = tracker.interchange.import_paths(ana, [second]).files
    hr_b = next(f for f in res_b if f.kind == "heart_rate.csv")
    ses_b = next(f for f in res_b if f.kind == "sessions.csv")
    assert hr_b.inserted == 5 and ses_b.inserted == 3
    # rows stored without this run (e.g. by a sync) at other instants are not its to delete
    tracker.ingest.heart_rate([(1_803_000_100_000, 70)], Provenance(ana.id, Source.HISTORY))
    runs = tracker.import_runs
    assert runs.stored(hr_b.run_id).heart_rate == 5
    assert runs.stored(ses_b.run_id).sessions == 3
    done = runs.undo(hr_b.run_id)
    assert (done.heart_rate, done.sessions) == (5, 0)
    assert _count(tracker, HeartRateRow) == 10 + 1
    assert runs.undo(ses_b.run_id).sessions == 3 and _count(tracker, MassageSession) == 0
    assert runs.stored(run_a).heart_rate == 10
    with tracker.sessionmaker() as db:
        assert db.get(Run, hr_b.run_id).status == "undone"
    # re-importing after an undo stores the rows again (idempotent, not blocked)
    assert tracker.interchange.import_paths(ana, [second]).files[0].inserted == 5


def test_undo_is_refused_for_another_account_and_for_syncs(tracker: Tracker, tmp_path: Path) -> None:
    from tracker.errors import NotFound, UserError

    u1, u2 = tracker.users.add("u1", None), tracker.users.add("u2", None)
    ana = tracker.people.add("Ana", "UTC", "u1")
    src = _write(tmp_path / "a", {"heart_rate.csv": "timestamp,bpm\n" + "\n".join(_hr_lines(3)) + "\n"})
    run_id = tracker.interchange.import_paths(ana, [src]).files[0].run_id
    with pytest.raises(NotFound):
        tracker.import_runs.undo(run_id, user_id=u2.id)
    assert _count(tracker, HeartRateRow) == 3
    assert tracker.import_runs.undo(run_id, user_id=u1.id).heart_rate == 3
    with tracker.sessionmaker.begin() as db:
        sync = Run(kind="sync", person_id=ana.id, started_ms=0, status="ok")
        db.add(sync)
        db.flush()
        sync_id = sync.id
    with pytest.raises(UserError, match="not an import"):
        tracker.import_runs.stored(sync_id)


def test_cli_runs_lists_the_import_and_undo_shows_counts_first(config_file: Path, tmp_path: Path, capsys) -> None:
    cfg = ["--config", str(config_file)]
    main([*cfg, "init"])
    main([*cfg, "person", "add", "Ana", "--tz", "UTC"])
    src = _write(tmp_path / "in", {"heart_rate.csv": "timestamp,bpm\n" + "\n".join(_hr_lines(4)) + "\n"})
    assert main([*cfg, "import", str(src), "--person", "Ana"]) == 0
    run_id = int(capsys.readouterr().out.rsplit("run ", 1)[1])
    assert main([*cfg, "runs"]) == 0
    assert "heart_rate.csv" in capsys.readouterr().out
    # without --yes and no terminal: the counts, then a message, nothing deleted
    assert main([*cfg, "import", "--undo", str(run_id)]) == 2
    out = capsys.readouterr()
    assert "stored rows still there: 4 heart-rate" in out.out and "add --yes" in out.err
    assert main([*cfg, "import", "--undo", str(run_id), "--yes"]) == 0
    assert f"run {run_id} undone: deleted 4 heart-rate" in capsys.readouterr().out
    assert main([*cfg, "import", "--undo", "9999", "--yes"]) == 2
    assert "no run 9999" in capsys.readouterr().err


def test_future_or_far_data_import_with_a_warning(tracker: Tracker, tmp_path: Path) -> None:
    ana = tracker.people.add("Ana", "UTC")
    now_s = T0_MS // 1000
    base = _write(tmp_path / "a", {"heart_rate.csv": "timestamp,bpm\n" + "\n".join(_hr_lines(3, now_s - 86_400)) + "\n"})
    assert tracker.interchange.import_paths(ana, [base]).files[0].warning is None
    future = _write(tmp_path / "b", {"heart_rate.csv": "timestamp,bpm\n" + "\n".join(_hr_lines(3, now_s + 30 * 86_400)) + "\n"})
    res = tracker.interchange.import_paths(ana, [future]).files[0]
    assert res.inserted == 3 and res.warning is not None and "future" in res.warning
    far = _write(tmp_path / "c", {"heart_rate.csv": "timestamp,bpm\n" + "\n".join(_hr_lines(3, now_s - 3 * 365 * 86_400)) + "\n"})
    res = tracker.interchange.import_paths(ana, [far]).files[0]
    assert res.inserted == 3 and res.warning is not None and "days from the person's other data" in res.warning
    with tracker.sessionmaker() as db:
        assert db.get(Run, res.run_id).detail == res.warning


def test_staged_write_takes_iterators_and_several_sources(tracker: Tracker) -> None:
    """The API the file importers use: one all-or-nothing unit over generators."""
    from tracker.storage.models import Device

    ana = tracker.people.add("Ana", "UTC")
    with tracker.sessionmaker.begin() as db:
        band = Device(person_id=ana.id, address="CC", name="Band", family="hrs", paired_ms=0, bonded=False)
        db.add(band)
        db.flush()
        band_id = band.id
    with tracker.ingest.staged() as batch:
        batch.heart_rate(((T0_MS + i * 1000, 60) for i in range(100)), Provenance(ana.id, Source.IMPORT, band_id))
        batch.heart_rate(((T0_MS + i * 1000, 61) for i in range(100)), Provenance(ana.id, Source.IMPORT))
        batch.rr(iter([(T0_MS, 800.0)]), Provenance(ana.id, Source.IMPORT, band_id))
        batch.sleep(iter([(T0_MS, T0_MS + 60_000, "rem")]), Provenance(ana.id, Source.IMPORT, band_id))
    assert (batch.counts.heart_rate, batch.counts.rr, batch.counts.sleep) == (200, 1, 1)

    def bad() -> object:
        yield (T0_MS + 10**7, 60)
        raise ValueError("row 2 is bad")

    with pytest.raises(ValueError, match="row 2"), tracker.ingest.staged() as batch:
        batch.rr(iter([(T0_MS + 10**7, 900.0)]), Provenance(ana.id, Source.IMPORT))
        batch.heart_rate(bad(), Provenance(ana.id, Source.IMPORT))  # type: ignore[arg-type]
    assert _count(tracker, HeartRateRow) == 200 and _count(tracker, RRRow) == 1
