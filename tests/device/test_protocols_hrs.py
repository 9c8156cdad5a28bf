"""Heart Rate Service encoders/decoders against the test vectors (tests/data/vectors), bumble's encoder output
(research/ble.md §1.5) and property tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from device.protocols import DecodeError
from device.protocols.hrs import (
    BODY_SENSOR_LOCATION_UUID,
    HEART_RATE_CONTROL_POINT_UUID,
    HEART_RATE_MEASUREMENT_UUID,
    HEART_RATE_SERVICE_UUID,
    BodySensorLocation,
    HeartRateMeasurement,
    decode_body_sensor_location,
    decode_heart_rate_measurement,
    encode_heart_rate_measurement,
)

# tests/device/ → tests/, which holds data/vectors (copied from the shared research vectors)
VECTORS_DIR = Path(__file__).resolve().parents[1] / "data" / "vectors"
_HRM_VECTORS: list[dict[str, Any]] = json.loads((VECTORS_DIR / "hrs" / "heart_rate_measurement.json").read_text())[
    "vectors"
]
VALID = [v for v in _HRM_VECTORS if v["valid"]]
INVALID = [v for v in _HRM_VECTORS if not v["valid"]]


def _bytes(vector: dict[str, Any]) -> bytes:
    return bytes.fromhex(vector["hex"].replace(" ", ""))


def test_uuids_are_lower_case_128_bit_sig_uuids() -> None:
    assert HEART_RATE_SERVICE_UUID == "0000180d-0000-1000-8000-00805f9b34fb"
    assert HEART_RATE_MEASUREMENT_UUID == "00002a37-0000-1000-8000-00805f9b34fb"
    assert BODY_SENSOR_LOCATION_UUID == "00002a38-0000-1000-8000-00805f9b34fb"
    assert HEART_RATE_CONTROL_POINT_UUID == "00002a39-0000-1000-8000-00805f9b34fb"


def test_vector_file_has_the_expected_cases() -> None:
    assert {v["id"] for v in VALID} == {"N1", "N2", "N3", "N4", "M1", "I1"}
    assert [v["id"] for v in INVALID] == ["N5"]


@pytest.mark.parametrize("vector", VALID, ids=[v["id"] for v in VALID])
def test_valid_vectors_decode_to_expected_values(vector: dict[str, Any]) -> None:
    expected = vector["expected"]
    m = decode_heart_rate_measurement(_bytes(vector))
    assert m == HeartRateMeasurement(
        bpm=expected["bpm"],
        sensor_contact=expected["sensor_contact"],
        energy_expended_kj=expected["energy_expended_kj"],
        rr_ticks_1024=tuple(expected["rr_ticks_1024"]),
    )


@pytest.mark.parametrize("vector", VALID, ids=[v["id"] for v in VALID])
def test_valid_vectors_re_encode_to_the_same_bytes(vector: dict[str, Any]) -> None:
    data = _bytes(vector)
    assert encode_heart_rate_measurement(decode_heart_rate_measurement(data)) == data


@pytest.mark.parametrize("vector", INVALID, ids=[v["id"] for v in INVALID])
def test_invalid_vectors_are_rejected(vector: dict[str, Any]) -> None:
    with pytest.raises(DecodeError, match="RR"):
        decode_heart_rate_measurement(_bytes(vector))


def test_rr_ms_is_exact() -> None:
    m = decode_heart_rate_measurement(bytes.fromhex("16485401ec02"))  # M1
    assert m.rr_ms == (332.03125, 730.46875)
    assert HeartRateMeasurement(60, None, None, (1024, 1, 65535)).rr_ms == (1000.0, 0.9765625, 63999.0234375)


@pytest.mark.parametrize(
    ("m", "hex_"),
    [
        # research/ble.md §1.5 B1/B2: bytes produced by bumble's HeartRateMeasurement encoder
        (HeartRateMeasurement(72, True, 5, (512, 1024)), "1e4805000002 0004"),
        (HeartRateMeasurement(75, True, None, (819, 839)), "164b33034703"),
    ],
)
def test_encoder_matches_bumble(m: HeartRateMeasurement, hex_: str) -> None:
    assert encode_heart_rate_measurement(m) == bytes.fromhex(hex_.replace(" ", ""))


def test_encoder_switches_to_uint16_above_255() -> None:
    assert encode_heart_rate_measurement(HeartRateMeasurement(255, None, None, ())) == bytes([0x00, 0xFF])
    assert encode_heart_rate_measurement(HeartRateMeasurement(256, None, None, ())) == bytes([0x01, 0x00, 0x01])


def test_sensor_contact_bits() -> None:
    assert decode_heart_rate_measurement(bytes([0x00, 60])).sensor_contact is None
    assert decode_heart_rate_measurement(bytes([0x02, 60])).sensor_contact is None  # detected without supported
    assert decode_heart_rate_measurement(bytes([0x04, 60])).sensor_contact is False
    assert decode_heart_rate_measurement(bytes([0x06, 60])).sensor_contact is True


def test_reserved_flag_bits_are_ignored() -> None:
    assert decode_heart_rate_measurement(bytes([0xE0, 85])) == HeartRateMeasurement(85, None, None, ())


def test_many_rr_values_in_one_notification() -> None:
    ticks = tuple(range(700, 709))
    data = bytes([0x10, 70]) + b"".join(t.to_bytes(2, "little") for t in ticks)
    assert decode_heart_rate_measurement(data).rr_ticks_1024 == ticks


@pytest.mark.parametrize(
    "hex_",
    [
        "",  # empty
        "00",  # uint8 bpm missing
        "0155",  # uint16 bpm truncated
        "0855 32",  # energy expended truncated
        "1055",  # RR flag, no RR bytes
        "105521",  # odd RR bytes
        "10552100ff",  # odd RR bytes after a full one
        "005500",  # trailing byte without any flag
        "18553200",  # EE present, RR flag, no RR
    ],
)
def test_malformed_values_raise_decode_error(hex_: str) -> None:
    with pytest.raises(DecodeError):
        decode_heart_rate_measurement(bytes.fromhex(hex_.replace(" ", "")))


@pytest.mark.parametrize(
    "m",
    [
        HeartRateMeasurement(-1, None, None, ()),
        HeartRateMeasurement(65536, None, None, ()),
        HeartRateMeasurement(60, None, 65536, ()),
        HeartRateMeasurement(60, None, None, (65536,)),
    ],
)
def test_encoder_rejects_values_outside_wire_ranges(m: HeartRateMeasurement) -> None:
    with pytest.raises(ValueError):
        encode_heart_rate_measurement(m)


measurements = st.builds(
    HeartRateMeasurement,
    bpm=st.integers(0, 0xFFFF),
    sensor_contact=st.none() | st.booleans(),
    energy_expended_kj=st.none() | st.integers(0, 0xFFFF),
    rr_ticks_1024=st.lists(st.integers(0, 0xFFFF), max_size=12).map(tuple),
)


@given(measurements)
def test_encode_decode_round_trip(m: HeartRateMeasurement) -> None:
    data = encode_heart_rate_measurement(m)
    assert decode_heart_rate_measurement(data) == m
    assert (data[0] & 0x01 == 1) == (m.bpm > 255)


@given(st.binary(max_size=32))
def test_random_bytes_only_raise_decode_error(data: bytes) -> None:
    try:
        m = decode_heart_rate_measurement(data)
    except DecodeError:
        return
    # whatever decodes is a well-formed measurement that encodes back to the same fields
    assert decode_heart_rate_measurement(encode_heart_rate_measurement(m)) == m


@pytest.mark.parametrize("location", list(BodySensorLocation))
def test_body_sensor_location_known_values(location: BodySensorLocation) -> None:
    assert decode_body_sensor_location(bytes([location.value])) is location


def test_body_sensor_location_values() -> None:
    assert decode_body_sensor_location(b"\x01") is BodySensorLocation.CHEST
    assert decode_body_sensor_location(b"\x03") is BodySensorLocation.FINGER
    assert decode_body_sensor_location(b"\x06") is BodySensorLocation.FOOT


@pytest.mark.parametrize("data", [b"", b"\x01\x00", b"\x07", b"\xff"])
def test_body_sensor_location_rejects_bad_bytes(data: bytes) -> None:
    with pytest.raises(DecodeError):
        decode_body_sensor_location(data)


@given(st.binary(max_size=4))
def test_body_sensor_location_random_bytes_only_raise_decode_error(data: bytes) -> None:
    try:
        location = decode_body_sensor_location(data)
    except DecodeError:
        return
    assert len(data) == 1 and location.value == data[0]
