"""The Data page's exports are streamed (a generator body, flat memory) and formula-safe."""

from __future__ import annotations

import io
import zipfile

from flask.testing import FlaskClient

from tracker.bootstrap import Tracker
from tracker.people import PersonInfo
from tracker.sessions import SessionFields


def test_web_exports_are_streamed_and_safe(ana_client: FlaskClient, ana: PersonInfo, tracker: Tracker) -> None:
    s0 = 1_800_000_000_000
    tracker.sessions.create(ana.id, SessionFields(s0, s0 + 3_600_000, notes="=cmd|' /C calc'!A0"))
    from tracker.ingest import Provenance
    from tracker.model import Source

    tracker.ingest.heart_rate([(s0 + i * 60_000, 60 + i % 5) for i in range(45_000)], Provenance(ana.id, Source.IMPORT))
    response = ana_client.get(f"/data/export.zip?person={ana.id}")
    assert response.status_code == 200 and response.is_streamed
    zf = zipfile.ZipFile(io.BytesIO(response.get_data()))
    assert zf.testzip() is None
    sessions = zf.read("sessions.csv").decode()
    assert "'=cmd|" in sessions and ",=cmd" not in sessions
    assert zf.read("heart_rate.csv").decode() == tracker.interchange.export_texts(ana)["heart_rate.csv"]
    one = ana_client.get(f"/data/export/heart_rate.csv?person={ana.id}")
    assert one.is_streamed and one.get_data().decode().count("\n") == 45_001
    assert ana_client.get(f"/data/export.zip?person={ana.id}&from=2027-02-02&to=2027-02-01").status_code == 400


def test_data_page_loads_the_progress_script(ana_client: FlaskClient) -> None:
    page = ana_client.get("/data").get_data(as_text=True)
    assert "export.js" in page and "data-export-progress" in page and "data-progress-text" in page
    script = ana_client.get("/static/export.js")
    assert script.status_code == 200 and b"getReader" in script.get_data()
