"""Colmi ring HRV history (command 0x39): request, reply sequence, both directions.

The ring computes an HRV value of its own every 30 minutes and keeps about a week of them. What the
number is (RMSSD over which window, from which beats) is not published: Gadgetbridge calls it only
"HRV value, in milliseconds" (``model/HrvValueSample.java``), so we store it as the device's own
estimate (``tracker.model.MetricKind.DEVICE_HRV_MS``), never as an RMSSD of ours.

No real capture of this exchange exists here. Facts learned from (no code copied) Freeyourgadget/
Gadgetbridge @a0948ee (AGPL-3.0, read as a source of facts only):
``devices/colmi/ColmiR0xConstants.java`` (``CMD_SYNC_HRV = 0x39``),
``devices/colmi/ColmiR0xPacketHandler.java`` (``historicalHRV``),
``service/devices/colmi/ColmiR0xDeviceSupport.java`` (``fetchHistoryHRV``, the 0x39 case of
``onCharacteristicChanged``, ``buildPacket``).

Request (16-byte command packet, framing and checksum as in ``device.protocols.colmi``):
  byte 0      0x39
  bytes 1-4   u32 LE days ago (0 = today); Gadgetbridge asks for 0, 1, ... 6, one day per request
Reply: a sequence of 0x39 packets, packet number in byte 1:
  0xFF        the only packet when the ring has no HRV history for that day
  0           header: byte 2 = number of packets N including this header; the rest is not read
  1           byte 2 unknown (Gadgetbridge: "contains something"; not read), bytes 3-14 = slots 0-11
  2..N-1      bytes 2-14 = 13 slots each, continuing from slot 12
Slots are u8 milliseconds, 0 = no value, one per 30 minutes from the ring's local midnight of the
requested day (slot i starts at i × 30 min). The reply carries no date: the day is the one asked
for. Gadgetbridge treats packet 4 as the last (N = 5): 12 + 3 × 13 = 51 slots, of which a day has 48;
slots 48-50 would lie in the next day and are dropped.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

from device.protocols.colmi import make_packet, parse_packet
from device.protocols.errors import DecodeError

__all__ = [
    "CMD_HRV_HISTORY",
    "HRV_HISTORY_DAYS",
    "HRV_SLOTS_PER_DAY",
    "HRV_SLOT_MIN",
    "HrvDay",
    "HrvHistoryParser",
    "decode_hrv_history_request",
    "encode_hrv_history",
    "encode_no_hrv_history",
    "hrv_history_request",
]

CMD_HRV_HISTORY = 0x39  # Gadgetbridge CMD_SYNC_HRV
HRV_SLOT_MIN = 30
HRV_SLOTS_PER_DAY = 1440 // HRV_SLOT_MIN  # 48
HRV_HISTORY_DAYS = 7  # days ago 0..6, as far back as Gadgetbridge asks
_NO_DATA = 0xFF
_FIRST_SLOTS = 12  # packet 1: bytes 3-14
_SLOTS_PER_PACKET = 13  # packets 2..: bytes 2-14
_UINT32_MAX = 0xFFFF_FFFF


@dataclass(frozen=True, slots=True)
class HrvDay:
    """The ring's HRV values for one day, ``days_ago`` days before the ring's today.

    ``hrv_ms[i]`` is the value of the slot starting ``i × 30`` minutes after the ring's local midnight
    of that day, 0 when there is none; 48 values, or none at all when the ring answered "no data".
    """

    days_ago: int
    hrv_ms: tuple[int, ...]

    def readings(self) -> tuple[tuple[int, int], ...]:
        """(slot start in minutes after local midnight, ms) for every slot with a value."""
        return tuple((i * HRV_SLOT_MIN, v) for i, v in enumerate(self.hrv_ms) if v)


def hrv_history_request(days_ago: int) -> bytes:
    """Ask for the HRV history of the day ``days_ago`` days before the ring's today."""
    if not 0 <= days_ago <= _UINT32_MAX:
        raise ValueError(f"days_ago {days_ago} outside u32")
    return make_packet(CMD_HRV_HISTORY, struct.pack("<I", days_ago))


def decode_hrv_history_request(packet: bytes) -> int:
    """Ring side: the days-ago value of an HRV history request."""
    command, payload = parse_packet(packet)
    if command != CMD_HRV_HISTORY:
        raise DecodeError(f"colmi HRV request: expected command 0x39, got {command:#04x}")
    days_ago: int = struct.unpack_from("<I", payload, 0)[0]
    return days_ago


class HrvHistoryParser:
    """Reassembles the packet sequence of one HRV history reply.

    Feed every 0x39 notification in arrival order; ``feed`` returns None until the last packet (as
    the header announced), then the :class:`HrvDay` for ``days_ago``. A "no data" packet yields an
    empty day. Packets out of sequence, other commands and a header announcing fewer than 2 packets
    raise DecodeError and discard the partial day; a new header starts over.
    """

    def __init__(self, days_ago: int) -> None:
        self.days_ago = days_ago
        self.reset()

    def reset(self) -> None:
        """Forget any partial day."""
        self._next = 0
        self._count = 0
        self._slots: list[int] = []

    def feed(self, packet: bytes) -> HrvDay | None:
        """Consume one notification; return the day once its last packet has arrived."""
        try:
            return self._feed(packet)
        except DecodeError:
            self.reset()
            raise

    def _feed(self, packet: bytes) -> HrvDay | None:
        command, payload = parse_packet(packet)
        if command != CMD_HRV_HISTORY:
            raise DecodeError(f"colmi HRV history: expected command 0x39, got {command:#04x}")
        number = payload[0]
        if number == _NO_DATA:
            self.reset()
            return HrvDay(self.days_ago, ())
        if number == 0:
            self.reset()
            if payload[1] < 2:
                raise DecodeError(f"colmi HRV history: header announces {payload[1]} packets")
            self._count, self._next = payload[1], 1
            return None
        if number != self._next:
            raise DecodeError(f"colmi HRV history: packet {number} arrived, expected {self._next}")
        self._slots.extend(payload[2:14] if number == 1 else payload[1:14])
        self._next += 1
        if number < self._count - 1:
            return None
        slots = self._slots[:HRV_SLOTS_PER_DAY] + [0] * max(0, HRV_SLOTS_PER_DAY - len(self._slots))
        self.reset()
        return HrvDay(self.days_ago, tuple(slots))


def encode_hrv_history(hrv_ms: Sequence[int]) -> list[bytes]:
    """Ring side: the five packets for one day of 48 values (0-255 ms, 0 = none).

    Bytes Gadgetbridge does not read (header bytes 3-14, packet 1 byte 2, slots 48-50) are sent as 0.
    """
    if len(hrv_ms) != HRV_SLOTS_PER_DAY:
        raise ValueError(f"need {HRV_SLOTS_PER_DAY} slots, got {len(hrv_ms)}")
    for value in hrv_ms:
        if not 0 <= value <= 0xFF:
            raise ValueError(f"HRV {value} ms outside 0..255")
    data_packets = 1 + -(-(HRV_SLOTS_PER_DAY - _FIRST_SLOTS) // _SLOTS_PER_PACKET)  # 4
    capacity = _FIRST_SLOTS + (data_packets - 1) * _SLOTS_PER_PACKET  # 51
    slots = bytes(hrv_ms) + bytes(capacity - HRV_SLOTS_PER_DAY)
    packets = [
        make_packet(CMD_HRV_HISTORY, bytes([0, data_packets + 1])),
        make_packet(CMD_HRV_HISTORY, bytes([1, 0]) + slots[:_FIRST_SLOTS]),
    ]
    for number in range(2, data_packets + 1):
        start = _FIRST_SLOTS + (number - 2) * _SLOTS_PER_PACKET
        packets.append(make_packet(CMD_HRV_HISTORY, bytes([number]) + slots[start : start + _SLOTS_PER_PACKET]))
    return packets


def encode_no_hrv_history() -> bytes:
    """Ring side: the single reply meaning "no HRV history for that day"."""
    return make_packet(CMD_HRV_HISTORY, bytes([_NO_DATA]))
