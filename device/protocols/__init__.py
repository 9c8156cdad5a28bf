"""Pure byte encoders and decoders for the wearables' Bluetooth protocols.

One module per protocol: ``hrs`` (Heart Rate Service), ``gatt_std`` (Battery,
Device Information, Current Time), ``colmi`` (Colmi R0x smart rings). These
modules import no Bluetooth stack (no bleak, no bumble): they map bytes to frozen
values and back, so that the collector, the emulator and the benchmarks share one
definition of each format, tested against captured bytes. Every decoder raises
only :class:`DecodeError` for bad input.
"""

from __future__ import annotations

from device.protocols.errors import DecodeError

__all__ = ["DecodeError"]
