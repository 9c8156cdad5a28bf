"""Huami band protocol, pure: bytes in, values out. Vectors derived from research/ble.md §4 (Gadgetbridge's
source text; no real capture exists), including its own AES self-test vector."""

from __future__ import annotations

import datetime as dt

import pytest

from device.protocols import huami
from device.protocols import huami_activity as act
from device.protocols.errors import DecodeError

UTC1 = dt.timezone(dt.timedelta(hours=1))


def test_aes_challenge_matches_the_research_self_test_vector() -> None:
    key = b"0123456789@ABCDE"
    random = bytes(range(16))
    assert huami.encrypt_random(key, random).hex() == "f5003494346bffac69990bf7f317e5db"
    assert huami.key_response(key, random) == bytes.fromhex("8300f5003494346bffac69990bf7f317e5db")


def test_auth_requests_and_replies() -> None:
    assert huami.random_request() == bytes.fromhex("8200020100")  # Mi Band 4-6
    assert huami.random_request(crypt_flags=0, auth_flags=0x08) == bytes.fromhex("0208")
    challenge = huami.decode_auth_reply(bytes.fromhex("108201") + bytes(range(16)))
    assert (challenge.step, challenge.status, challenge.random) == (2, 1, bytes(range(16)))
    assert huami.decode_auth_reply(bytes.fromhex("100301")).status == huami.STATUS_OK
    assert huami.decode_auth_reply(bytes.fromhex("108304")).status == huami.AUTH_STATUS_FAILED
    with pytest.raises(DecodeError):
        huami.decode_auth_reply(bytes.fromhex("108201") + bytes(5))
    with pytest.raises(DecodeError):
        huami.decode_auth_reply(bytes.fromhex("200301"))


def test_auth_key_parsing() -> None:
    assert huami.parse_auth_key("0x" + "ab" * 16) == bytes([0xAB] * 16)
    assert huami.parse_auth_key(" " + "0F" * 16 + " ") == bytes([0x0F] * 16)
    for bad in ("", "ab" * 15, "zz" * 16, "ab" * 17):
        with pytest.raises(ValueError, match="auth key"):
            huami.parse_auth_key(bad)


def test_fetch_since_matches_the_research_example() -> None:
    # since 2024-01-15 22:00 at UTC+1 → 01 01 E8 07 01 0F 16 00 00 04
    since = dt.datetime(2024, 1, 15, 22, 0, tzinfo=UTC1)
    assert huami.fetch_start_request(since) == bytes.fromhex("0101e807010f16000004")
    kind, back = huami.decode_fetch_start_request(huami.fetch_start_request(since))
    assert kind == huami.DATA_TYPE_ACTIVITY and back == since


def test_fetch_start_reply_in_the_band_zone() -> None:
    start = dt.datetime(2024, 1, 15, 22, 1, 0, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30)))
    raw = huami.encode_fetch_start_reply(120, start)
    assert raw[:3] == bytes.fromhex("100101") and len(raw) == 15
    reply = huami.decode_fetch_start_reply(raw)
    assert reply.ok and reply.count == 120 and reply.start == start
    assert reply.start.timestamp() == dt.datetime(2024, 1, 15, 16, 31, tzinfo=dt.UTC).timestamp()
    assert huami.decode_fetch_start_reply(huami.encode_fetch_start_reply(0, None)).start is None
    assert not huami.decode_fetch_start_reply(bytes.fromhex("100102")).ok
    with pytest.raises(DecodeError):
        huami.decode_fetch_start_reply(bytes.fromhex("1001010a000000"))


def test_current_time_and_battery() -> None:
    local = dt.datetime(2027, 3, 1, 8, 30, 5, tzinfo=dt.timezone(dt.timedelta(hours=-7)))
    raw = huami.encode_current_time(local)
    assert raw == bytes.fromhex("eb07030108" "1e05" "01" "0000" "e4")  # Monday; -7 h = -28 quarters
    assert huami.decode_current_time(raw) == local
    assert huami.decode_battery(bytes.fromhex("0f4b00")) == 75
    with pytest.raises(DecodeError):
        huami.decode_battery(bytes.fromhex("0fff"))


def test_sample_size_by_model() -> None:
    assert huami.sample_size("Mi Smart Band 5") == 8
    assert huami.sample_size("Amazfit Band 5") == 8
    assert huami.sample_size("Mi Band 6") == 8
    assert huami.sample_size("Mi Smart Band 4") == 4
    assert huami.sample_size("Amazfit Bip S") == 4


def test_activity_stream_counter_and_samples() -> None:
    payload = act.encode_samples([(0x79, 10, 0, 60), (0x01, 40, 12, 0xFF), (0x7B, 2, 0, 55)], 8)
    packets = act.encode_stream(payload, 19)
    stream = act.ActivityStream()
    for p in packets:
        stream.feed(p)
    samples = act.decode_samples(bytes(stream.buffer), 8, 1_000_000)
    assert [(s.t_ms, s.kind & 0x0F, s.steps, s.hr) for s in samples] == [
        (1_000_000, 9, 0, 60), (1_060_000, 1, 12, 255), (1_120_000, 11, 0, 55)]  # fmt: skip
    assert act.heart_rate_rows(samples) == [(1_000_000, 60), (1_120_000, 55)]  # 255: not measured
    broken = act.ActivityStream()
    broken.feed(packets[0])
    with pytest.raises(DecodeError, match="packet 0 where 1"):
        broken.feed(packets[0])
    with pytest.raises(DecodeError):
        act.decode_samples(payload[:-3], 8, 0)
    # the illustrative 4-byte sample of research/ble.md §4.3: 79 0A 00 3C
    s = act.decode_samples(bytes.fromhex("790a003c"), 4, 0)[0]
    assert (s.kind & 0x0F, s.intensity, s.steps, s.hr) == (9, 10, 0, 60)


def _samples(kinds: list[int]) -> list[act.Sample]:
    return [act.Sample(i * 60_000, k, 0, 0, 0xFF) for i, k in enumerate(kinds)]


def test_heart_rate_validity_rule() -> None:
    assert [act.valid_heart_rate(v) for v in (0, 9, 10, 250, 251, 255)] == [False, False, True, True, False, False]


def test_sleep_kinds_forward_fill_light_deep_and_awake_in_the_night() -> None:
    # awake-ish activity, light, "no change" (0x10 → 0), deep, "ignore" (10), 3 min of activity, light, then a day
    kinds = [0x01, 0x79, 0x10, 0x7B, 0x7A, 0x01, 0x01, 0x01, 0x79] + [0x01] * 90 + [0x79]
    rows = act.sleep_rows(_samples(kinds))
    assert rows[:4] == [
        (60_000, 180_000, "light"),  # 0x10 & 0x0F = 0 → filled with light
        (180_000, 300_000, "deep"),  # 10 → filled with deep
        (300_000, 480_000, "awake"),  # woken in the night
        (480_000, 540_000, "light"),
    ]
    assert rows[4] == (99 * 60_000, 100 * 60_000, "light")  # 90 min apart: a new sleep, not awake
    assert act.fill_kinds(_samples([0x00, 0x0A]), previous=11) == [11, 11]
    assert act.sleep_rows(_samples([0x01, 0x03, 0x06])) == []


def test_detection_by_family() -> None:
    from device.drivers import detect

    assert detect("Mi Smart Band 5", [huami.SERVICE_UUID]).family == "huami"
    assert detect("Amazfit Band 5", []).family == "huami"
    # a band also offers the Heart Rate Service: the vendor family wins over the generic strap
    assert detect("Mi Band 4", ["0000180d-0000-1000-8000-00805f9b34fb", huami.AUTH_SERVICE_UUID]).family == "huami"
    assert detect("Polar H10 1234", ["0000180d-0000-1000-8000-00805f9b34fb"]).family == "hrs"
    for ring in ("R02_1199", "R06_AB", "R09_0C3F", "R10_1", "COLMI R03"):
        assert detect(ring, []).family == "colmi"
    assert detect("Headphones", []) is None
