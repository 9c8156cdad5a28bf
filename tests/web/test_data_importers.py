"""The Data page accepts a Gadgetbridge database, an Apple Health export.zip and FIT files, per-file results."""

from __future__ import annotations

import io
from pathlib import Path

import sqlalchemy as sa
from flask.testing import FlaskClient

from tests.tracker.importers import apple_fixture, gb_fixture
from tracker.bootstrap import Tracker
from tracker.people import PersonInfo
from tracker.storage.models import HeartRateRow, Run


def test_upload_gadgetbridge_apple_and_a_bomb(ana_client: FlaskClient, tracker: Tracker, ana: PersonInfo,
                                              tmp_path: Path) -> None:  # fmt: skip
    gb = tmp_path / "Gadgetbridge"
    expected = gb_fixture.build(gb)
    apple = tmp_path / "export.zip"
    apple_exp = apple_fixture.build(apple, as_zip=True)
    data = {"files": [(io.BytesIO(gb.read_bytes()), "Gadgetbridge"), (io.BytesIO(apple.read_bytes()), "export.zip"),
                      (io.BytesIO(apple_fixture.BOMB.encode()), "bomb.xml")]}  # fmt: skip
    response = ana_client.post("/data/import", data=data, content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 400  # the bomb failed; the others imported
    assert '<td data-label="File">Gadgetbridge [R02_AC01]</td>' in html and ">gadgetbridge<" in html
    assert '<td data-label="File">export.zip</td>' in html and ">apple-health<" in html
    assert "bomb.xml: refused: the file declares XML entities" in html
    assert "tracker-upload-" not in html  # results name the uploaded file, never the temporary path
    with tracker.sessionmaker() as db:
        n_hr = db.scalar(sa.select(sa.func.count()).select_from(HeartRateRow).where(HeartRateRow.person_id == ana.id))
        origins = set(db.scalars(sa.select(Run.origin)))
    assert n_hr == sum(len(e.hr) for e in expected.values()) + len(apple_exp.hr)
    assert not any("tracker-upload-" in (o or "") and Path(o.split(" [")[0]).exists() for o in origins)
