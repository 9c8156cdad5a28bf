"""The Data page's upload: streamed into the importer, a configurable size limit, progress, one result per
file naming the kind recognised, hostile files as messages (never a 500), and undo with counts first."""

from __future__ import annotations

import dataclasses
import io

import sqlalchemy as sa
from flask.testing import FlaskClient

from tests.web.test_data import _upload
from tracker.bootstrap import Tracker
from tracker.people import PersonInfo
from tracker.storage.models import HeartRateRow, RRRow

HR = "timestamp,bpm\n2027-03-28T10:00:00Z,61\n2027-03-28T10:00:01Z,62\n2027-03-28T10:00:02Z,63\n"


def _count(tracker: Tracker, model: type) -> int:
    with tracker.sessionmaker() as db:
        return int(db.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


def test_page_has_progress_and_the_limit(ana_client: FlaskClient) -> None:
    html = ana_client.get("/data").get_data(as_text=True)
    assert "data-upload" in html and 'class="upload-progress"' in html and "upload.js" in html
    assert "up to 2048 MB" in html
    js = ana_client.get("/static/upload.js")
    assert js.status_code == 200 and b"upload.addEventListener(\"progress\"" in js.data
    js.close()


def test_spreadsheet_file_and_failed_files_name_their_kind(ana_client: FlaskClient, tracker: Tracker) -> None:
    status, html = _upload(ana_client, {
        "export.csv": "timestamp;rr_ms\n2027-03-28T10:00:00Z;812,5\n",
        "heart_rate.csv": "timestamp,bpm\n2027-03-28T10:00:00Z,61\n9999-12-31T00:00:00+00:00,62\n",
        "big.csv": "timestamp,bpm\n2027-03-28T10:00:00Z,\"" + "x" * 200_000 + "\"\n",
    })  # fmt: skip
    assert status == 400  # some files failed: a message per file, not a 500
    assert '<td data-label="File">export.csv</td>\n      <td data-label="Recognised as">rr_intervals.csv</td>' in html
    assert '<td data-label="File">heart_rate.csv</td>\n      <td data-label="Recognised as">heart_rate.csv</td>' in html
    assert "heart_rate.csv:3: time &#39;9999-12-31T00:00:00+00:00&#39; outside 2000-01-01 to 2100-01-01" in html
    assert "big.csv:2: a field is longer than 128 KiB" in html
    assert _count(tracker, RRRow) == 1 and _count(tracker, HeartRateRow) == 0
    assert ana_client.get("/").status_code == 200 and ana_client.get("/data").status_code == 200


def test_size_limit_is_configurable_and_answers_413(ana_client: FlaskClient, tracker: Tracker) -> None:
    tracker.config = dataclasses.replace(tracker.config, web=dataclasses.replace(tracker.config.web, upload_max_mb=1))
    big = HR + "".join(f"2027-03-29T{h:02d}:{m:02d}:{s:02d}Z,70\n" for h in range(14) for m in range(60) for s in range(60))
    assert len(big) > 1024 * 1024
    status, html = _upload(ana_client, {"heart_rate.csv": big})
    assert status == 413
    assert _count(tracker, HeartRateRow) == 0
    status, _ = _upload(ana_client, {"heart_rate.csv": HR})
    assert status == 200 and _count(tracker, HeartRateRow) == 3


def test_upload_goes_to_the_importer_as_a_stream(ana_client: FlaskClient, tracker: Tracker, monkeypatch) -> None:
    """The view hands the importer the upload's file object, never bytes read whole."""
    from tracker.csv_import import CsvImport

    seen: list[object] = []
    original = CsvImport.import_stream

    def spy(self, person, display, raw):  # type: ignore[no-untyped-def]
        seen.append(raw)
        return original(self, person, display, raw)

    monkeypatch.setattr(CsvImport, "import_stream", spy)
    big = "timestamp,bpm\n" + "".join(f"2027-03-29T{h:02d}:{m:02d}:{s:02d}Z,70\n" for h in range(10) for m in range(60) for s in range(60))
    status, _ = _upload(ana_client, {"heart_rate.csv": big})
    assert status == 200
    assert len(big) > 500 * 1024  # above this Werkzeug spools a part to a temporary file, not to memory
    assert len(seen) == 1 and not isinstance(seen[0], (bytes, io.BytesIO))
    assert hasattr(seen[0], "fileno")


def test_undo_shows_counts_first_then_deletes_exactly_that_run(
    ana_client: FlaskClient, bo_client: FlaskClient, tracker: Tracker, ana: PersonInfo
) -> None:
    _upload(ana_client, {"heart_rate.csv": HR})
    status, html = _upload(ana_client, {"heart_rate.csv": HR + "2027-03-28T10:00:03Z,64\n"})
    assert status == 200 and _count(tracker, HeartRateRow) == 4
    runs = [r for r in tracker.devices.runs() if r.kind == "import"]
    second = runs[0].id
    assert f"/data/runs/{second}/undo" in html  # the result row links to undo
    page = ana_client.get(f"/data/runs/{second}/undo").get_data(as_text=True)
    assert "<li>1 heart-rate samples</li>" in page and "Delete 1 rows" in page
    assert _count(tracker, HeartRateRow) == 4  # showing the counts deleted nothing
    assert bo_client.get(f"/data/runs/{second}/undo").status_code == 404  # another account's run
    assert bo_client.post(f"/data/runs/{second}/undo").status_code == 404
    response = ana_client.post(f"/data/runs/{second}/undo")
    assert response.status_code == 200
    assert f"Import {second} (heart_rate.csv) undone: deleted 1 heart-rate" in response.get_data(as_text=True)
    assert _count(tracker, HeartRateRow) == 3
