"""Accounts stay apart on the web: pairing another account's device is refused (409), scans reveal no owners.

The collector port is the small fake of test_devices_and_api (its pair() stores through the real
`Devices.upsert`, where the check lives); the real collector is covered in tests/device/test_accounts_apart.py.
"""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.web.test_devices_and_api import FakeCollector, collector  # noqa: F401  (fixture)
from tracker.bootstrap import Tracker
from tracker.people import PersonInfo

RING = "C4:7C:8D:6A:11:99"


def test_pairing_a_device_of_another_account_is_refused_on_the_page_and_the_api(
    tracker: Tracker, ana_client: FlaskClient, bo_client: FlaskClient, ana: PersonInfo, bo: PersonInfo,
    collector: FakeCollector,  # noqa: F811
) -> None:
    assert ana_client.post("/devices/pair", data={"address": RING, "person": ana.id}).status_code == 302
    before = len(collector.calls)

    page = bo_client.post("/devices/pair", data={"address": RING.lower(), "person": bo.id})
    assert page.status_code == 409
    assert "another account" in page.get_data(as_text=True)
    api = bo_client.post("/api/v1/devices/pair", json={"address": RING, "person": bo.id})
    assert api.status_code == 409 and "another account" in api.get_json()["error"]
    assert len(collector.calls) == before  # refused before any radio work

    (device,) = tracker.devices.list()
    assert device.person_id == ana.id
    assert bo_client.get("/api/v1/devices").get_json()["devices"] == []


def test_scan_results_do_not_reveal_other_accounts_devices_or_owners(
    ana_client: FlaskClient, bo_client: FlaskClient, ana: PersonInfo, bo: PersonInfo,
    collector: FakeCollector,  # noqa: F811
) -> None:
    assert ana_client.post("/devices/pair", data={"address": RING, "person": ana.id}).status_code == 302
    html = bo_client.post("/devices/scan", data={"seconds": "1"}).get_data(as_text=True)
    assert RING in html and "paired to" not in html and "Ana" not in html
    body = bo_client.post("/api/v1/devices/scan", json={"seconds": 1}).get_data(as_text=True)
    assert "Ana" not in body and "person" not in body
    # the owner's own page does say so
    assert "paired to Ana" in ana_client.post("/devices/scan", data={"seconds": "1"}).get_data(as_text=True)


def test_an_overlong_or_binary_address_is_a_clear_error(
    ana_client: FlaskClient, ana: PersonInfo, collector: FakeCollector  # noqa: F811
) -> None:
    response = ana_client.post("/api/v1/devices/pair", json={"address": "A" * 65, "person": ana.id})
    assert response.status_code == 400 and "address" in response.get_json()["error"]
    response = ana_client.post("/devices/pair", data={"address": "AA\x01BB", "person": ana.id})
    assert response.status_code == 400
