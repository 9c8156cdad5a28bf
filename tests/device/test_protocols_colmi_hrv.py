"""Colmi ring HRV history (0x39) codec.

No real capture of this exchange exists: the packets below are written out by hand from the layout in
Gadgetbridge's source (Freeyourgadget/Gadgetbridge @a0948ee, AGPL-3.0, read for facts only:
``devices/colmi/ColmiR0xPacketHandler.java`` ``historicalHRV`` and ``service/devices/colmi/
ColmiR0xDeviceSupport.java`` ``fetchHistoryHRV``), see tests/data/README.md. They check that our decoder
reads the bytes where Gadgetbridge reads them; they cannot prove a real ring sends exactly this.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from device.protocols import DecodeError
from device.protocols.colmi import make_packet
from device.protocols.colmi_hrv import (
    CMD_HRV_HISTORY,
    HRV_SLOTS_PER_DAY,
    HrvDay,
    HrvHistoryParser,
    decode_hrv_history_request,
    encode_hrv_history,
    encode_no_hrv_history,
    hrv_history_request,
)


def _hand(hex_without_checksum: str) -> bytes:
    """A 16-byte packet from 15 bytes of hex, with the checksum computed here (sum & 0xFF)."""
    body = bytes.fromhex(hex_without_checksum.replace(" ", ""))
    assert len(body) == 15
    return body + bytes([sum(body) & 0xFF])


# One day written out by hand: header (5 packets), packet 1 with an unknown byte 2 (0x2a, must be ignored)
# and slots 0-11, packets 2-4 with 13 slots each. Slot values: 00:00 → 41 ms, 00:30 none, 01:00 → 52 ms, ...
HAND_DAY = [
    _hand("39 00 05 00 00 00 00 00 00 00 00 00 00 00 00"),
    _hand("39 01 2a 29 00 34 30 2f 00 00 00 00 00 00 00"),  # slots 0-11: 41, 0, 52, 48, 47, 0 ...
    _hand("39 02 00 00 00 00 00 00 00 00 00 00 00 00 1e"),  # slots 12-24: slot 24 (12:00) = 30
    _hand("39 03 00 00 00 00 00 00 00 00 00 00 00 00 00"),  # slots 25-37
    _hand("39 04 00 00 00 00 00 00 00 00 00 3c 00 00 00"),  # slots 38-50: slot 47 (23:30) = 60; 48-50 dropped
]


def test_request_is_command_0x39_with_days_ago_as_u32_le() -> None:
    assert hrv_history_request(0) == _hand("39 00 00 00 00 00 00 00 00 00 00 00 00 00 00")
    assert hrv_history_request(3) == bytes.fromhex("39 03 00 00 00 00 00 00 00 00 00 00 00 00 00 3c")
    assert decode_hrv_history_request(hrv_history_request(6)) == 6
    with pytest.raises(ValueError):
        hrv_history_request(-1)
    with pytest.raises(DecodeError):
        decode_hrv_history_request(make_packet(0x15, b"\x03"))


def test_hand_written_day_decodes_to_slots_from_local_midnight() -> None:
    parser = HrvHistoryParser(days_ago=2)
    results = [parser.feed(p) for p in HAND_DAY]
    assert results[:-1] == [None] * 4
    day = results[-1]
    assert isinstance(day, HrvDay) and day.days_ago == 2 and len(day.hrv_ms) == HRV_SLOTS_PER_DAY
    assert day.readings() == ((0, 41), (60, 52), (90, 48), (120, 47), (720, 30), (1410, 60))


def test_bytes_past_the_day_are_dropped_not_moved_into_it() -> None:
    last = _hand("39 04 00 00 00 00 00 00 00 00 00 00 63 63 63")  # slots 48-50 only
    parser = HrvHistoryParser(0)
    for packet in HAND_DAY[:-1]:
        parser.feed(packet)
    day = parser.feed(last)
    assert day is not None and 99 not in day.hrv_ms and len(day.hrv_ms) == 48


def test_no_data_is_a_single_0xff_packet_and_an_empty_day() -> None:
    assert encode_no_hrv_history() == _hand("39 ff 00 00 00 00 00 00 00 00 00 00 00 00 00")
    assert HrvHistoryParser(5).feed(encode_no_hrv_history()) == HrvDay(5, ())


def test_encoder_reproduces_the_hand_written_day_and_round_trips() -> None:
    slots = [0] * 48
    slots[0], slots[2], slots[3], slots[4], slots[24], slots[47] = 41, 52, 48, 47, 30, 60
    packets = encode_hrv_history(slots)
    assert packets[0] == HAND_DAY[0]
    assert packets[1][:2] + packets[1][3:15] == HAND_DAY[1][:2] + HAND_DAY[1][3:15]  # byte 2 is ours: 0
    assert packets[2:] == HAND_DAY[2:]
    parser = HrvHistoryParser(1)
    assert [parser.feed(p) for p in packets][-1] == HrvDay(1, tuple(slots))


def test_a_short_header_count_ends_early_and_pads_with_no_value() -> None:
    parser = HrvHistoryParser(0)
    assert parser.feed(_hand("39 00 02 00 00 00 00 00 00 00 00 00 00 00 00")) is None
    day = parser.feed(HAND_DAY[1])
    assert day is not None and day.readings()[:2] == ((0, 41), (60, 52)) and len(day.hrv_ms) == 48


@pytest.mark.parametrize(
    ("packets", "match"),
    [
        ([HAND_DAY[0], HAND_DAY[2]], "packet 2 arrived, expected 1"),
        ([HAND_DAY[1]], "packet 1 arrived, expected 0"),
        ([_hand("39 00 01 00 00 00 00 00 00 00 00 00 00 00 00")], "announces 1 packets"),
        ([make_packet(0x15, b"\x00\x18\x05")], "expected command 0x39"),
        ([HAND_DAY[0][:-1] + bytes([(HAND_DAY[0][-1] + 1) & 0xFF])], "checksum"),
    ],
)
def test_malformed_sequences_raise_and_reset(packets: list[bytes], match: str) -> None:
    parser = HrvHistoryParser(0)
    with pytest.raises(DecodeError, match=match):
        for packet in packets:
            parser.feed(packet)
    # after the error the parser takes a whole fresh day
    assert [parser.feed(p) for p in HAND_DAY][-1] is not None


def test_encoder_rejects_what_does_not_fit() -> None:
    with pytest.raises(ValueError):
        encode_hrv_history([0] * 47)
    with pytest.raises(ValueError):
        encode_hrv_history([256] + [0] * 47)


@given(st.lists(st.integers(0, 255), min_size=48, max_size=48), st.integers(0, 6))
def test_round_trip_any_day(slots: list[int], days_ago: int) -> None:
    parser = HrvHistoryParser(days_ago)
    out = [parser.feed(p) for p in encode_hrv_history(slots)]
    assert out[:-1] == [None] * 4 and out[-1] == HrvDay(days_ago, tuple(slots))


@given(st.lists(st.binary(min_size=14, max_size=14), min_size=1, max_size=8))
def test_fuzz_only_decode_errors(payloads: list[bytes]) -> None:
    parser = HrvHistoryParser(0)
    for payload in payloads:
        try:
            day = parser.feed(make_packet(CMD_HRV_HISTORY, payload))
        except DecodeError:
            continue
        assert day is None or len(day.hrv_ms) in (0, 48)
