"""`tracker hrv` and `tracker report` through the CLI."""

import json
from pathlib import Path

import pytest

from tests.conftest import REPO, VECTORS
from tracker.cli import main

HRV_KEYS = [
    "n_beats", "n_flagged", "flagged_pct", "quality_ok", "mean_nn_ms", "sdnn_ms", "rmssd_ms", "ln_rmssd",
    "sdsd_ms", "pnn50_pct", "pnn20_pct", "mean_hr_bpm", "vlf_ms2", "lf_ms2", "hf_ms2", "lf_hf", "lf_nu",
    "hf_nu", "sd1_ms", "sd2_ms", "sd1_sd2", "dfa_alpha1", "stress_index",
]  # fmt: skip


def test_hrv_json_matches_the_reference(capsys) -> None:
    nk = json.loads((VECTORS / "hrv/results/neurokit2_0.2.13.json").read_text())["results"]["hrv_time(default)"]
    assert main(["hrv", str(VECTORS / "hrv/rr_clean.csv"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert list(out) == HRV_KEYS
    assert out["rmssd_ms"] == pytest.approx(nk["HRV_RMSSD"], abs=1e-9)
    assert out["sdnn_ms"] == pytest.approx(nk["HRV_SDNN"], abs=1e-9)
    assert out["vlf_ms2"] is None  # 270 s of data: too short for VLF, reported as null, never invented


def test_hrv_raw_skips_the_gate_and_one_value_per_line_works(tmp_path: Path, capsys) -> None:
    rr = [line for line in (VECTORS / "hrv/rr_artifacts.csv").read_text().splitlines()[1:] if line]
    plain = tmp_path / "rr.txt"
    plain.write_text("\n".join(rr) + "\n")
    assert main(["hrv", str(plain), "--json"]) == 0
    gated = json.loads(capsys.readouterr().out)
    assert main(["hrv", str(plain), "--raw", "--json"]) == 0
    raw = json.loads(capsys.readouterr().out)
    assert gated["n_flagged"] == 6 and gated["rmssd_ms"] == pytest.approx(29.98, abs=0.01)
    assert raw["n_flagged"] == 0 and raw["rmssd_ms"] > 90  # the artefacts inflate it, as other tools show
    assert main(["hrv", str(plain)]) == 0
    assert "RMSSD" in capsys.readouterr().out


def test_hrv_bad_file_names_the_line(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("800\n810\nabc\n")
    assert main(["hrv", str(bad)]) == 2
    assert f"{bad}:3: 'abc' is not a number" in capsys.readouterr().err


def test_report_json_has_the_documented_keys(config_file: Path, capsys) -> None:
    run = lambda *a: main(["--config", str(config_file), *a])  # noqa: E731
    assert run("init") == 0
    assert run("person", "add", "Ana", "--tz", "Europe/Berlin") == 0
    assert run("import", str(REPO / "tracker/data/example"), "--person", "Ana") == 0
    capsys.readouterr()
    assert run("report", "--json") == 0
    report = json.loads(capsys.readouterr().out)
    for key in ("person", "timezone", "period", "sessions", "nights", "primary_endpoint", "acute",
                "nights_after", "claims"):  # fmt: skip
        assert key in report
    assert report["primary_endpoint"] == {"metric": "ln_rmssd_night", "lag": 1} | {
        k: v for k, v in report["primary_endpoint"].items() if k not in ("metric", "lag")
    }
    assert report["nights"] == 3
    claims = {c["claim"]: c for c in report["claims"]}
    assert any(c["verdict"] == "not measured" for c in claims.values())  # listed, never dropped
    assert {"claim", "source", "metrics", "verdict", "explanation"} <= set(next(iter(claims.values())))
    assert run("report") == 0
    assert "Evidence report for Ana" in capsys.readouterr().out
