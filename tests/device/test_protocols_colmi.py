"""Colmi ring protocol against real captured packets (vectors/colmi), the byte examples in
tahnok/colmi_r02_client's tests, Gadgetbridge's request, and property tests."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from device.protocols import DecodeError
from device.protocols.colmi import (
    BIG_DATA_NOTIFY_UUID,
    BIG_DATA_SERVICE_UUID,
    BIG_DATA_WRITE_UUID,
    CMD_BATTERY,
    CMD_HR_LOG,
    CMD_REAL_TIME_START,
    NOTIFY_UUID,
    SERVICE_UUID,
    WRITE_UUID,
    BatteryInfo,
    HeartRateLog,
    HeartRateLogParser,
    SleepDay,
    SleepHistoryParser,
    battery_request,
    decode_battery,
    decode_hr_log_request,
    decode_real_time_hr,
    decode_real_time_hr_request,
    decode_set_time_request,
    encode_battery_response,
    encode_hr_log,
    encode_no_hr_log,
    encode_real_time_hr_response,
    encode_set_time_response,
    encode_sleep_history,
    hr_log_request,
    make_packet,
    parse_packet,
    real_time_hr_request,
    set_time_request,
    sleep_history_request,
)

# tests/device/ → tests/, which holds data/vectors (copied from the shared research vectors)
VECTORS_DIR = Path(__file__).resolve().parents[1] / "data" / "vectors"
_HR_LOG_FILE: dict[str, Any] = json.loads((VECTORS_DIR / "colmi" / "heart_rate_log.json").read_text())
LOGS: list[dict[str, Any]] = _HR_LOG_FILE["logs"]


def _packets(log: dict[str, Any]) -> list[bytes]:
    return [bytes.fromhex(h) for h in log["packets_hex"]]


def _day_start_s(log: dict[str, Any]) -> int:
    return int(datetime.fromisoformat(log["expected"]["day_start_utc"]).timestamp())


def _valid_packets(command: int) -> st.SearchStrategy[bytes]:
    """Packets with a correct checksum, so fuzzing reaches past parse_packet."""
    return st.binary(min_size=14, max_size=14).map(lambda payload: make_packet(command, payload))


def test_uuids() -> None:
    assert SERVICE_UUID == "6e40fff0-b5a3-f393-e0a9-e50e24dcca9e"
    assert WRITE_UUID == "6e400002-b5a3-f393-e0a9-e50e24dcca9e"
    assert NOTIFY_UUID == "6e400003-b5a3-f393-e0a9-e50e24dcca9e"
    assert BIG_DATA_SERVICE_UUID == "de5bf728-d711-4e47-af26-65e3012a5dc7"
    assert BIG_DATA_WRITE_UUID == "de5bf72a-d711-4e47-af26-65e3012a5dc7"
    assert BIG_DATA_NOTIFY_UUID == "de5bf729-d711-4e47-af26-65e3012a5dc7"


# --- Packets ------------------------------------------------------------------------


def test_make_packet_checksum_matches_capture() -> None:
    assert make_packet(0x15, bytes([0x00, 0x18, 0x05])) == bytes.fromhex("15001805000000000000000000000032")


@given(st.integers(0, 255), st.binary(max_size=14))
def test_make_parse_round_trip(command: int, payload: bytes) -> None:
    packet = make_packet(command, payload)
    assert len(packet) == 16
    assert packet[15] == sum(packet[:15]) & 0xFF
    assert parse_packet(packet) == (command, payload + bytes(14 - len(payload)))


def test_make_packet_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError):
        make_packet(256)
    with pytest.raises(ValueError):
        make_packet(-1)
    with pytest.raises(ValueError):
        make_packet(1, bytes(15))


@pytest.mark.parametrize(
    "data",
    [b"", bytes(15), bytes(17), bytes.fromhex("15001805000000000000000000000033")],
)
def test_parse_packet_rejects_bad_length_and_checksum(data: bytes) -> None:
    with pytest.raises(DecodeError):
        parse_packet(data)


@given(st.binary(max_size=20))
def test_parse_packet_random_bytes_only_raise_decode_error(data: bytes) -> None:
    try:
        command, payload = parse_packet(data)
    except DecodeError:
        return
    assert bytes([command]) + payload == data[:15] and len(payload) == 14


# --- Set time -----------------------------------------------------------------------


def test_set_time_request_bytes() -> None:
    # tahnok/colmi_r02_client tests/test_set_time.py: 2024-01-01 00:00:00 → this packet
    expected = bytes.fromhex("01240101000000010000000000000028")
    assert set_time_request(datetime(2024, 1, 1)) == expected
    # an aware datetime is sent as its own wall clock, not converted to UTC
    assert set_time_request(datetime(2024, 1, 1, tzinfo=timezone(timedelta(hours=-4)))) == expected
    assert set_time_request(datetime(2031, 12, 29, 23, 59, 58)) == bytes.fromhex("0131122923595801") + bytes(7) + bytes(
        [(0x01 + 0x31 + 0x12 + 0x29 + 0x23 + 0x59 + 0x58 + 0x01) & 0xFF]
    )


def test_set_time_request_rejects_years_outside_the_century() -> None:
    with pytest.raises(ValueError):
        set_time_request(datetime(1999, 12, 31))
    with pytest.raises(ValueError):
        set_time_request(datetime(2100, 1, 1))


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31, 23, 59, 59)))
def test_set_time_round_trip(dt: datetime) -> None:
    assert decode_set_time_request(set_time_request(dt)) == dt.replace(microsecond=0)


@pytest.mark.parametrize(
    "payload",
    [bytes([0x24, 0x1A, 0x01]), bytes([0x24, 0x13, 0x01]), bytes([0x23, 0x02, 0x29]), bytes([0x24, 0x01, 0x01, 0x24])],
)
def test_set_time_request_decoder_rejects_bad_bcd_and_dates(payload: bytes) -> None:
    with pytest.raises(DecodeError):
        decode_set_time_request(make_packet(0x01, payload))


@given(st.binary(max_size=17) | _valid_packets(0x01))
def test_set_time_request_random_bytes_only_raise_decode_error(data: bytes) -> None:
    try:
        dt = decode_set_time_request(data)
    except DecodeError:
        return
    assert 2000 <= dt.year <= 2099


def test_set_time_response_is_the_captured_reply() -> None:
    # tahnok/colmi_r02_client tests/test_set_time.py test_parse_set_time_response
    assert encode_set_time_response() == bytes.fromhex("01000100220000000001003001001066")


# --- Battery ------------------------------------------------------------------------


def test_battery_request_and_captured_reply() -> None:
    assert battery_request() == bytes.fromhex("03000000000000000000000000000003")
    # tahnok/colmi_r02_client tests/test_battery.py: 64 %, not charging
    assert decode_battery(bytes.fromhex("03400000000000000000000000000043")) == BatteryInfo(64, False)


@given(st.integers(0, 100), st.booleans())
def test_battery_round_trip(level_pct: int, charging: bool) -> None:
    assert decode_battery(encode_battery_response(level_pct, charging)) == BatteryInfo(level_pct, charging)


def test_battery_rejects_bad_replies() -> None:
    with pytest.raises(DecodeError):
        decode_battery(make_packet(CMD_BATTERY, bytes([101])))
    with pytest.raises(DecodeError):
        decode_battery(make_packet(0x15, bytes([50])))
    with pytest.raises(ValueError):
        encode_battery_response(101, False)


@given(st.binary(max_size=17) | _valid_packets(CMD_BATTERY))
def test_battery_random_bytes_only_raise_decode_error(data: bytes) -> None:
    try:
        info = decode_battery(data)
    except DecodeError:
        return
    assert 0 <= info.level_pct <= 100


# --- Real-time heart rate -----------------------------------------------------------


def test_real_time_requests() -> None:
    assert real_time_hr_request(True) == make_packet(0x69, bytes([0x01, 0x01]))
    assert real_time_hr_request(False) == make_packet(0x6A, bytes([0x01, 0x00, 0x00]))
    assert decode_real_time_hr_request(real_time_hr_request(True)) is True
    assert decode_real_time_hr_request(real_time_hr_request(False)) is False
    assert decode_real_time_hr_request(make_packet(0x69, bytes([0x01, 0x03]))) is True  # continue
    with pytest.raises(DecodeError):
        decode_real_time_hr_request(make_packet(0x69, bytes([0x03, 0x01])))  # SpO2


def test_real_time_captured_replies() -> None:
    # tahnok/colmi_r02_client tests/test_real_time.py
    assert decode_real_time_hr(bytes.fromhex("6901004e0000000000000000000000b8")) == 78
    assert decode_real_time_hr(bytes.fromhex("6901010000000000000000000000006b")) is None  # error code 1


def test_real_time_no_reading_and_wrong_type() -> None:
    assert decode_real_time_hr(make_packet(CMD_REAL_TIME_START, bytes([0x01, 0x00, 0x00]))) is None
    assert decode_real_time_hr(make_packet(CMD_REAL_TIME_START, bytes([0x01, 0x02, 0x50]))) is None
    with pytest.raises(DecodeError):
        decode_real_time_hr(make_packet(CMD_REAL_TIME_START, bytes([0x03, 0x00, 0x62])))
    with pytest.raises(DecodeError):
        decode_real_time_hr(make_packet(CMD_BATTERY, bytes([0x01, 0x00, 0x50])))


@given(st.none() | st.integers(1, 255), st.integers(0, 255))
def test_real_time_round_trip(bpm: int | None, error_code: int) -> None:
    decoded = decode_real_time_hr(encode_real_time_hr_response(bpm, error_code))
    assert decoded == (bpm if error_code == 0 else None)


@given(st.binary(max_size=17) | _valid_packets(CMD_REAL_TIME_START))
def test_real_time_random_bytes_only_raise_decode_error(data: bytes) -> None:
    try:
        bpm = decode_real_time_hr(data)
    except DecodeError:
        return
    assert bpm is None or 1 <= bpm <= 255


@given(st.binary(max_size=17) | _valid_packets(0x69) | _valid_packets(0x6A))
def test_real_time_request_random_bytes_only_raise_decode_error(data: bytes) -> None:
    try:
        start = decode_real_time_hr_request(data)
    except DecodeError:
        return
    assert isinstance(start, bool)


# --- Heart-rate log -----------------------------------------------------------------


def test_hr_log_request_bytes() -> None:
    packet = hr_log_request(1723248000)  # 2024-08-10 00:00 as ring-clock seconds
    assert packet == make_packet(CMD_HR_LOG, bytes.fromhex("80adb666"))
    assert decode_hr_log_request(packet) == 1723248000
    with pytest.raises(ValueError):
        hr_log_request(-1)
    with pytest.raises(ValueError):
        hr_log_request(2**32)


@given(st.integers(0, 2**32 - 1))
def test_hr_log_request_round_trip(day_start_s: int) -> None:
    assert decode_hr_log_request(hr_log_request(day_start_s)) == day_start_s


@given(st.binary(max_size=17) | _valid_packets(CMD_HR_LOG))
def test_hr_log_request_random_bytes_only_raise_decode_error(data: bytes) -> None:
    try:
        day_start_s = decode_hr_log_request(data)
    except DecodeError:
        return
    assert 0 <= day_start_s < 2**32


@pytest.mark.parametrize("log", LOGS, ids=[log["name"] for log in LOGS])
def test_captured_hr_logs_decode_to_expected_values(log: dict[str, Any]) -> None:
    packets = _packets(log)
    assert len(packets) == log["expected"]["size"]
    parser = HeartRateLogParser()
    for packet in packets[:-1]:
        assert parser.feed(packet) is None
    result = parser.feed(packets[-1])
    assert result == HeartRateLog(
        day_start_s=_day_start_s(log),
        interval_min=log["expected"]["interval_min"],
        bpm=tuple(log["expected"]["heart_rates_bpm"]),
    )
    assert len(result.bpm) == 288


@pytest.mark.parametrize("log", LOGS, ids=[log["name"] for log in LOGS])
def test_encoding_expected_values_reproduces_captured_packets(log: dict[str, Any]) -> None:
    packets = encode_hr_log(_day_start_s(log), log["expected"]["heart_rates_bpm"])
    assert packets == _packets(log)


def test_raw_capture_file_decodes_to_expected_values() -> None:
    raw = (VECTORS_DIR / "colmi" / "heart_rate_log_1730412850.bin").read_bytes()
    assert len(raw) % 17 == 0
    records = [raw[i : i + 17] for i in range(0, len(raw), 17)]
    assert all(record[16:] == b"\n" for record in records)
    packets = [record[:16] for record in records]
    log = next(log for log in LOGS if log["name"] == "capture_1730412850")
    assert packets == _packets(log)
    parser = HeartRateLogParser()
    results = [parser.feed(packet) for packet in packets]
    assert results[:-1] == [None] * (len(packets) - 1)
    final = results[-1]
    assert final is not None
    assert final.day_start_s == 1730347200  # 2024-10-31T04:00:00Z
    assert final.bpm == tuple(log["expected"]["heart_rates_bpm"])
    assert final.readings()[0] == (1730347200 + 6 * 300, 104)


def test_no_data_packet_gives_an_empty_log() -> None:
    no_data = bytes.fromhex(_HR_LOG_FILE["no_data_packet_hex"])
    assert encode_no_hr_log() == no_data
    assert HeartRateLogParser(day_start_s=1723248000).feed(no_data) == HeartRateLog(1723248000, 5, ())
    assert HeartRateLogParser().feed(no_data) == HeartRateLog(0, 5, ())


def test_hr_log_parser_rejects_out_of_sequence_packets_and_recovers() -> None:
    packets = _packets(LOGS[1])
    parser = HeartRateLogParser()
    with pytest.raises(DecodeError):
        parser.feed(packets[1])  # data before header
    parser.feed(packets[0])
    parser.feed(packets[1])
    with pytest.raises(DecodeError):
        parser.feed(packets[3])  # packet 2 lost
    with pytest.raises(DecodeError):
        parser.feed(packets[2])  # the partial log was discarded
    with pytest.raises(DecodeError):
        parser.feed(make_packet(CMD_BATTERY, bytes([50])))  # another command
    with pytest.raises(DecodeError):
        parser.feed(make_packet(CMD_HR_LOG, bytes([0, 1, 5])))  # header announcing 1 packet
    with pytest.raises(DecodeError):
        parser.feed(make_packet(CMD_HR_LOG, bytes([0, 24, 7])))  # 7-min slots do not divide a day
    results = [parser.feed(packet) for packet in packets]
    assert results[-1] is not None and results[-1].bpm == tuple(LOGS[1]["expected"]["heart_rates_bpm"])


def test_hr_log_parser_restarts_on_a_new_header() -> None:
    packets = _packets(LOGS[0])
    parser = HeartRateLogParser()
    for packet in packets[:5]:
        parser.feed(packet)
    results = [parser.feed(packet) for packet in packets]
    assert results[-1] is not None and results[-1].bpm == tuple(LOGS[0]["expected"]["heart_rates_bpm"])


def test_encode_hr_log_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        encode_hr_log(0, [0] * 287)
    with pytest.raises(ValueError):
        encode_hr_log(0, [256] + [0] * 287)
    with pytest.raises(ValueError):
        encode_hr_log(0, [0] * 288, interval_min=7)
    with pytest.raises(ValueError):
        encode_hr_log(0, [0], interval_min=1440)  # the interval is a u8


@st.composite
def hr_logs(draw: st.DrawFn) -> HeartRateLog:
    interval_min = draw(st.sampled_from([5, 1, 10, 15, 30, 60, 240]))
    n_slots = 1440 // interval_min
    bpm = draw(st.lists(st.integers(0, 255), min_size=n_slots, max_size=n_slots))
    return HeartRateLog(draw(st.integers(0, 2**32 - 1)), interval_min, tuple(bpm))


@given(hr_logs())
def test_hr_log_round_trip(log: HeartRateLog) -> None:
    packets = encode_hr_log(log.day_start_s, log.bpm, log.interval_min)
    parser = HeartRateLogParser()
    results = [parser.feed(packet) for packet in packets]
    assert results[:-1] == [None] * (len(packets) - 1)
    assert results[-1] == log
    assert all(parse_packet(p)[1][0] == i for i, p in enumerate(packets))


@given(st.lists(st.binary(max_size=17) | _valid_packets(CMD_HR_LOG), max_size=30))
def test_hr_log_parser_random_bytes_only_raise_decode_error(packets: list[bytes]) -> None:
    parser = HeartRateLogParser()
    for packet in packets:
        try:
            log = parser.feed(packet)
        except DecodeError:
            continue
        if log is not None:
            assert len(log.bpm) in (0, 1440 // log.interval_min)


@given(st.lists(st.tuples(st.integers(0, 4), st.binary(min_size=13, max_size=13)), max_size=30))
def test_hr_log_parser_random_sequences_only_raise_decode_error(parts: list[tuple[int, bytes]]) -> None:
    """Small sub-types make header → data sequences likely, reaching the assembly code."""
    parser = HeartRateLogParser()
    for sub, rest in parts:
        try:
            parser.feed(make_packet(CMD_HR_LOG, bytes([sub]) + rest))
        except DecodeError:
            continue


# --- Sleep history ------------------------------------------------------------------


def _frame(body: bytes, crc: int = 0) -> bytes:
    return struct.pack("<BBHH", 0xBC, 0x27, len(body), crc) + body


# One night in Gadgetbridge's layout, written out by hand: days ago 1, 10 bytes follow,
# start 0x052C = 1324 (22:04), end 0x01BE = 446 (07:26), light 60, deep 30, awake 5.
ONE_NIGHT_BODY = bytes.fromhex("01 010a 2c05 be01 023c 031e 0505")
ONE_NIGHT = SleepDay(days_ago=1, start_min=1324, end_min=446, stages=(("light", 60), ("deep", 30), ("awake", 5)))


def test_sleep_history_request_bytes() -> None:
    # Gadgetbridge ColmiR0xDeviceSupport.fetchHistorySleep
    assert sleep_history_request() == bytes.fromhex("bc270100ff00ff")


def test_sleep_hand_made_frame_split_over_notifications() -> None:
    frame = _frame(ONE_NIGHT_BODY)
    parser = SleepHistoryParser()
    assert parser.feed(frame[:4]) is None  # header itself split
    assert parser.feed(frame[4:10]) is None
    assert parser.feed(frame[10:]) == [ONE_NIGHT]


def test_sleep_day_times_follow_gadgetbridge() -> None:
    assert ONE_NIGHT.start_offset_min == 1324 - 1440
    assert ONE_NIGHT.duration_min == 562
    assert ONE_NIGHT.bounds(date(2024, 11, 2)) == (datetime(2024, 10, 31, 22, 4), datetime(2024, 11, 1, 7, 26))
    after_midnight = SleepDay(days_ago=0, start_min=30, end_min=400, stages=())
    assert after_midnight.start_offset_min == 30
    assert after_midnight.bounds(date(2024, 11, 2)) == (datetime(2024, 11, 2, 0, 30), datetime(2024, 11, 2, 6, 40))


def test_sleep_empty_replies() -> None:
    assert SleepHistoryParser().feed(_frame(b"")) == []
    assert SleepHistoryParser().feed(_frame(b"\x00")) == []
    parser = SleepHistoryParser()
    (only,) = encode_sleep_history([])
    assert parser.feed(only) == []


def test_sleep_zero_minute_stages_are_dropped() -> None:
    body = bytes.fromhex("01 000a 0000 3c00 0200 033c 0400")
    assert SleepHistoryParser().feed(_frame(body)) == [SleepDay(0, 0, 60, (("deep", 60),))]


def test_sleep_rem_stage() -> None:
    body = bytes.fromhex("01 0006 0000 1e00 041e")
    assert SleepHistoryParser().feed(_frame(body)) == [SleepDay(0, 0, 30, (("rem", 30),))]


@pytest.mark.parametrize(
    "body",
    [
        bytes.fromhex("01 0006 0000 1e00 071e"),  # unknown stage code
        bytes.fromhex("01 0007 0000 1e00 021e00"),  # odd day byte count
        bytes.fromhex("01 0002 0000"),  # day byte count below 4
        bytes.fromhex("02 0006 0000 1e00 021e"),  # second day missing
        bytes.fromhex("01 0008 0000 1e00 021e"),  # day truncated
        bytes.fromhex("01 0004 a005 1e00"),  # start 1440 is not a minute of a day
        bytes.fromhex("01 0004 0000 1e00 ff"),  # bytes after the last day
    ],
)
def test_sleep_malformed_bodies_raise_decode_error(body: bytes) -> None:
    with pytest.raises(DecodeError):
        SleepHistoryParser().feed(_frame(body))


def test_sleep_parser_rejects_foreign_frames_and_recovers() -> None:
    parser = SleepHistoryParser()
    with pytest.raises(DecodeError):
        parser.feed(b"\x15\x00")  # not a big-data frame
    with pytest.raises(DecodeError):
        parser.feed(bytes.fromhex("bc2a0000ffff"))  # SpO2, not sleep
    with pytest.raises(DecodeError):
        parser.feed(_frame(ONE_NIGHT_BODY) + b"\x00")  # more bytes than announced
    assert parser.feed(_frame(ONE_NIGHT_BODY)) == [ONE_NIGHT]
    assert parser.feed(_frame(ONE_NIGHT_BODY)) == [ONE_NIGHT]  # ready for the next reply


def test_sleep_crc_is_checked_on_request() -> None:
    notifications = encode_sleep_history([ONE_NIGHT])
    frame = b"".join(notifications)
    assert SleepHistoryParser(verify_crc=True).feed(frame) == [ONE_NIGHT]
    assert SleepHistoryParser().feed(_frame(ONE_NIGHT_BODY, crc=0x1234)) == [ONE_NIGHT]
    with pytest.raises(DecodeError):
        SleepHistoryParser(verify_crc=True).feed(_frame(ONE_NIGHT_BODY, crc=0x1234))


def test_encode_sleep_history_layout_and_chunking() -> None:
    notifications = encode_sleep_history([ONE_NIGHT, ONE_NIGHT], mtu_payload=8)
    frame = b"".join(notifications)
    assert frame[:4] == bytes([0xBC, 0x27, 1 + 2 * 12, 0x00])
    assert frame[6:] == b"\x02" + ONE_NIGHT_BODY[1:] * 2
    assert [len(n) for n in notifications[:-1]] == [8] * (len(notifications) - 1)
    assert 1 <= len(notifications[-1]) <= 8


@pytest.mark.parametrize(
    "day",
    [
        SleepDay(256, 0, 0, ()),
        SleepDay(0, 1440, 0, ()),
        SleepDay(0, 0, 0, (("nap", 10),)),
        SleepDay(0, 0, 0, (("light", 0),)),
        SleepDay(0, 0, 0, (("light", 256),)),
        SleepDay(0, 0, 0, (("light", 1),) * 126),
    ],
)
def test_encode_sleep_history_rejects_unencodable_nights(day: SleepDay) -> None:
    with pytest.raises(ValueError):
        encode_sleep_history([day])


sleep_days = st.builds(
    SleepDay,
    days_ago=st.integers(0, 255),
    start_min=st.integers(0, 1439),
    end_min=st.integers(0, 1439),
    stages=st.lists(
        st.tuples(st.sampled_from(["light", "deep", "rem", "awake"]), st.integers(1, 255)), max_size=30
    ).map(tuple),
)


@given(st.lists(sleep_days, max_size=7), st.integers(1, 64))
def test_sleep_round_trip(days: list[SleepDay], mtu_payload: int) -> None:
    notifications = encode_sleep_history(days, mtu_payload=mtu_payload)
    assert all(len(n) <= mtu_payload for n in notifications)
    parser = SleepHistoryParser(verify_crc=True)
    results = [parser.feed(n) for n in notifications]
    assert results[:-1] == [None] * (len(notifications) - 1)
    assert results[-1] == days


@given(st.lists(st.binary(max_size=24), max_size=10))
def test_sleep_parser_random_bytes_only_raise_decode_error(notifications: list[bytes]) -> None:
    parser = SleepHistoryParser(verify_crc=False)
    for notification in notifications:
        try:
            parser.feed(notification)
        except DecodeError:
            continue


@given(st.binary(max_size=80), st.booleans())
def test_sleep_parser_random_bodies_only_raise_decode_error(body: bytes, verify_crc: bool) -> None:
    """A well-framed reply with a random body reaches the body decoder."""
    try:
        days = SleepHistoryParser(verify_crc=verify_crc).feed(_frame(body))
    except DecodeError:
        return
    assert days is not None
    assert all(0 <= d.start_min < 1440 and 0 <= d.end_min < 1440 for d in days)


def test_protocol_modules_import_no_bluetooth_stack() -> None:
    """The codecs stay pure: importing them must not pull in bleak or bumble."""
    code = (
        "import sys\n"
        "import device.protocols, device.protocols.errors, device.protocols.hrs\n"
        "import device.protocols.gatt_std, device.protocols.colmi\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('bleak', 'bumble'))\n"
        "print(','.join(loaded))\n"
    )
    repo_root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", code], cwd=repo_root, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
