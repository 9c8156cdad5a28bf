"""The Data page: CSV export (zip and single files) and CSV upload with per-file results naming file:line."""

from __future__ import annotations

import io
import zipfile

from flask.testing import FlaskClient

from tests.tracker.test_interchange import FILES
from tracker.bootstrap import Tracker
from tracker.people import PersonInfo
from web.data import display_name


def _upload(client: FlaskClient, files: dict[str, str | bytes], person: PersonInfo | None = None) -> tuple[int, str]:
    data = {"files": [(io.BytesIO(t.encode() if isinstance(t, str) else t), name) for name, t in files.items()]}
    url = "/data/import" + (f"?person={person.id}" if person else "")
    response = client.post(url, data=data, content_type="multipart/form-data")
    return response.status_code, response.get_data(as_text=True)


def test_data_page_offers_import_and_export(ana_client: FlaskClient) -> None:
    html = ana_client.get("/data").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in html and 'name="files"' in html and "multiple" in html
    assert "/data/export.zip" in html and "/data/export/heart_rate.csv" in html


def test_import_all_four_files_then_export_them_back(
    ana_client: FlaskClient, tracker: Tracker, ana: PersonInfo
) -> None:
    status, html = _upload(ana_client, FILES)
    assert status == 200
    for name, rows in {"heart_rate.csv": 4, "rr_intervals.csv": 3, "sleep_stages.csv": 5, "sessions.csv": 3}.items():
        assert f'<td data-label="File">{name}</td>' in html
        assert f'<td data-label="Stored">{rows}</td>' in html

    response = ana_client.get("/data/export.zip")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/zip"
    assert response.headers["Content-Disposition"] == 'attachment; filename="Ana-export.zip"'
    with zipfile.ZipFile(io.BytesIO(response.data)) as zf:
        assert sorted(zf.namelist()) == sorted([*FILES, "device_metrics.csv"])  # the last: export only
        exported = {name: zf.read(name).decode() for name in zf.namelist()}
    assert exported == tracker.interchange.export_texts(ana)
    assert "2027-03-28T01:59:59.250+01:00,57" in exported["heart_rate.csv"]

    single = ana_client.get("/data/export/sessions.csv")
    assert single.status_code == 200 and single.headers["Content-Type"].startswith("text/csv")
    assert single.get_data(as_text=True) == exported["sessions.csv"]
    # re-import is idempotent and says so
    status, html = _upload(ana_client, {"heart_rate.csv": FILES["heart_rate.csv"]})
    assert status == 200 and "4 already stored" in html


def test_export_date_range_and_bad_dates(ana_client: FlaskClient, ana: PersonInfo, tracker: Tracker) -> None:
    _upload(ana_client, {"heart_rate.csv": FILES["heart_rate.csv"]})
    text = ana_client.get("/data/export/heart_rate.csv?from=2027-03-28&to=2027-03-28").get_data(as_text=True)
    assert text.count("\n") == 4  # header + the three readings on the 28th, local time
    assert ana_client.get("/data/export.zip?from=28.03.2027").status_code == 400
    assert ana_client.get("/data/export.zip?from=2027-03-28&to=2027-03-01").status_code == 400
    assert ana_client.get("/data/export/passwords.csv").status_code == 404


def test_a_bad_row_names_file_and_line_and_stores_nothing_from_that_file(
    ana_client: FlaskClient, tracker: Tracker, ana: PersonInfo
) -> None:
    bad_hr = "timestamp,bpm\n2027-03-01T10:00:00Z,60\n2027-03-01T10:00:01Z,600\n"
    status, html = _upload(ana_client, {"heart_rate.csv": bad_hr, "rr_intervals.csv": FILES["rr_intervals.csv"]})
    assert status == 400
    assert "heart_rate.csv:3: bpm 600 outside 20-250" in html
    assert '<tr class="failed">' in html and '<tr class="ok">' in html
    exported = tracker.interchange.export_texts(ana)
    assert exported["heart_rate.csv"] == "timestamp,bpm\n"  # nothing from the bad file
    assert exported["rr_intervals.csv"].count("\n") == 4  # the good file still imported


def test_unrecognised_and_undecodable_files(ana_client: FlaskClient) -> None:
    status, html = _upload(
        ana_client, {"notes.csv": "a,b\n1,2\n", "latin1.csv": "timestamp,bpm\n\xe9".encode("latin-1")}
    )
    assert status == 400
    assert "notes.csv:1: unrecognised header" in html
    assert "latin1.csv:2: not UTF-8 text" in html


def test_upload_names_lose_client_paths(ana_client: FlaskClient) -> None:
    status, html = _upload(ana_client, {"../home/ana/heart_rate.csv": "timestamp,bpm\nnot a time,60\n"})
    assert status == 400
    assert "heart_rate.csv:2: unparseable time" in html and "home" not in html
    assert display_name("C:\\Users\\ana\\rr_intervals.csv", 0) == "rr_intervals.csv"
    assert display_name("", 1) == "upload-2.csv"


def test_import_without_files_is_400(ana_client: FlaskClient) -> None:
    response = ana_client.post("/data/import", data={}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Choose at least one CSV file" in response.get_data(as_text=True)


def test_data_of_another_account_is_out_of_reach(ana_client: FlaskClient, tracker: Tracker, bo: PersonInfo) -> None:
    assert ana_client.get(f"/data/export.zip?person={bo.id}").status_code == 404
    status, _ = _upload(ana_client, {"heart_rate.csv": FILES["heart_rate.csv"]}, person=bo)
    assert status == 404
    assert tracker.interchange.export_texts(bo)["heart_rate.csv"] == "timestamp,bpm\n"
