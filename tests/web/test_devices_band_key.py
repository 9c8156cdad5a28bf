"""The pairing form's band-key field: the key reaches the collector, is never shown back, and a malformed key
is a message (400), on the page and the API."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.web.seed import Seeded
from tests.web.test_devices_and_api import FakeCollector, collector, seeded  # noqa: F401 - fixtures
from tracker.bootstrap import Tracker

KEY = "0x" + "9e" * 16


def test_band_key_from_the_form_and_the_api(ana_client: FlaskClient, tracker: Tracker, collector: FakeCollector,
                                            seeded: Seeded) -> None:  # fmt: skip
    got: list[bytes | None] = []

    def pair(address: str, person_id: int, auth_key: bytes | None = None) -> int:
        got.append(auth_key)
        return tracker.devices.upsert(address, person_id, name="Mi Smart Band 5", family="huami",
                                      auth_key=None if auth_key is None else auth_key.hex()).id  # fmt: skip

    collector.pair = pair  # type: ignore[method-assign]
    page = ana_client.get(f"/devices?person={seeded.person.id}").get_data(as_text=True)
    assert 'name="auth_key"' in page
    response = ana_client.post("/devices/pair", data={"address": "C4:7C:8D:6A:11:55", "person": str(seeded.person.id),
                                                      "auth_key": KEY})  # fmt: skip
    assert response.status_code == 302 and got == [bytes([0x9E] * 16)]
    html = ana_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "9e9e9e" not in html.lower()
    bad = ana_client.post("/devices/pair", data={"address": "C4:7C:8D:6A:11:55", "person": str(seeded.person.id),
                                                 "auth_key": "secretsecret"})  # fmt: skip
    text = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "auth key must be 32 hexadecimal digits" in text and "secretsecret" not in text
    api = ana_client.get("/api/v1/devices").get_data(as_text=True)
    assert "9e9e9e" not in api.lower() and "auth_key" not in api
    assert len(got) == 1
