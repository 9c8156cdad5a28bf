"""The values devices computed themselves: shown labelled on the overview, served by the API, exported.

They were stored (Colmi ring HRV, Apple's SDNN, Garmin's overnight HRV) but nothing read them back, so a
user could not see them nor take them away. Each test below failed before they were read back.
"""

from __future__ import annotations

import csv
import io
import zipfile

from flask.testing import FlaskClient

from tracker.bootstrap import Tracker
from tracker.ingest import Provenance
from tracker.model import MetricKind, Source
from tracker.people import PersonInfo

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS


def _store(tracker: Tracker, person: PersonInfo, address: str, name: str, rows: list[tuple[int, str, float]]) -> None:
    device = tracker.devices.upsert(address, person.id, name=name, family="colmi")
    tracker.ingest.device_metrics(rows, Provenance(person.id, Source.HISTORY, device.id))


def _ring_values(tracker: Tracker) -> list[tuple[int, str, float]]:
    now_ms = tracker.clock.now_ms()
    # 20 days of one value a day, 40..59 ms; the last 14 days hold 46..59 (median 52.5)
    return [(now_ms - (19 - d) * DAY_MS - HOUR_MS, str(MetricKind.DEVICE_HRV_MS), 40.0 + d) for d in range(20)]


def test_overview_shows_device_values_labelled_as_the_devices(tracker: Tracker, ana: PersonInfo,
                                                              ana_client: FlaskClient) -> None:  # fmt: skip
    _store(tracker, ana, "C4:7C:8D:6A:11:99", "R02_1199", _ring_values(tracker))
    html = ana_client.get(f"/?person={ana.id}").get_data(as_text=True)
    assert 'id="device-values"' in html
    assert "Device&#39;s own HRV value" in html or "Device's own HRV value" in html
    assert "not published" in html  # what it is and why it is not analysed
    row = html.split('data-kind="device_hrv_ms"', 1)[1].split("</tr>", 1)[0]
    assert "R02_1199" in row and "59" in row and "52.5" in row and ">20<" in row


def test_overview_without_device_values_has_no_section(tracker: Tracker, ana: PersonInfo,
                                                       ana_client: FlaskClient) -> None:  # fmt: skip
    assert 'id="device-values"' not in ana_client.get(f"/?person={ana.id}").get_data(as_text=True)


def test_api_serves_values_with_labels_and_only_the_accounts_own(tracker: Tracker, ana: PersonInfo, bo: PersonInfo,
                                                                 ana_client: FlaskClient) -> None:  # fmt: skip
    _store(tracker, ana, "C4:7C:8D:6A:11:99", "R02_1199", _ring_values(tracker))
    _store(tracker, bo, "C4:7C:8D:6A:11:98", "R02_1198", [(tracker.clock.now_ms() - HOUR_MS, str(MetricKind.SDNN_MS), 33.0)])
    body = ana_client.get(f"/api/v1/device-metrics?person={ana.id}").get_json()
    assert [v["value"] for v in body["values"]] == [40.0 + d for d in range(20)]
    assert {v["label"] for v in body["values"]} == {"Device's own HRV value"}
    assert {v["device"] for v in body["values"]} == {"R02_1199"}
    assert body["truncated"] is False
    limited = ana_client.get(f"/api/v1/device-metrics?person={ana.id}&limit=5").get_json()
    assert len(limited["values"]) == 5 and limited["truncated"] is True
    assert ana_client.get(f"/api/v1/device-metrics?person={bo.id}").status_code == 404
    assert ana_client.get(f"/api/v1/device-metrics?person={ana.id}&kind=sdnn_ms").get_json()["values"] == []
    bad = ana_client.get(f"/api/v1/device-metrics?person={ana.id}&kind=rmssd")
    assert bad.status_code == 400 and "kind must be one of" in bad.get_json()["error"]


def test_export_zip_and_cli_files_carry_device_values(tracker: Tracker, ana: PersonInfo,
                                                      ana_client: FlaskClient) -> None:  # fmt: skip
    _store(tracker, ana, "C4:7C:8D:6A:11:99", "=R02 ring", _ring_values(tracker))
    data = ana_client.get(f"/data/export.zip?person={ana.id}").get_data()
    text = zipfile.ZipFile(io.BytesIO(data)).read("device_metrics.csv").decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["timestamp", "device", "kind", "value"]
    assert len(rows) == 21
    assert rows[1][1] == "'=R02 ring"  # a device name is formula-safe like every free text
    assert [r[3] for r in rows[1:]] == [str(40 + d) for d in range(20)]
    assert text == tracker.interchange.export_texts(ana)["device_metrics.csv"]


def test_export_folder_imports_back_with_device_values_skipped_and_said(tracker: Tracker, ana: PersonInfo,
                                                                        bo: PersonInfo, tmp_path) -> None:  # fmt: skip
    _store(tracker, ana, "C4:7C:8D:6A:11:99", "R02_1199", _ring_values(tracker))
    counts = tracker.interchange.export_dir(ana, tmp_path / "out")
    assert counts["device_metrics.csv"] == 20
    result = tracker.interchange.import_paths(bo, [tmp_path / "out"])
    assert result.ok
    skipped = [f for f in result.files if f.path.endswith("device_metrics.csv")]
    assert len(skipped) == 1 and skipped[0].run_id is None and "not imported" in (skipped[0].warning or "")
    alone = tracker.interchange.import_paths(bo, [tmp_path / "out" / "device_metrics.csv"])
    assert not alone.ok and "not imported" in (alone.files[0].error or "")
