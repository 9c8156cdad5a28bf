"""One driver per device family, behind one interface (`device.drivers.base.Driver`).

Detection order matters: a Huami band also offers the standard Heart Rate Service, so the vendor families
are asked before the generic strap.
"""

from __future__ import annotations

from device.drivers.base import Capabilities, Driver, PairContext, SyncContext, SyncCounts
from device.drivers.colmi import ColmiDriver
from device.drivers.hrs import HrsDriver
from device.drivers.huami import HuamiDriver

DRIVERS: tuple[Driver, ...] = (ColmiDriver(), HuamiDriver(), HrsDriver())
_BY_FAMILY = {d.family: d for d in DRIVERS}

__all__ = ["DRIVERS", "Capabilities", "Driver", "PairContext", "SyncContext", "SyncCounts", "detect", "driver_for"]


def detect(name: str | None, service_uuids: list[str] | tuple[str, ...]) -> Driver | None:
    """The driver of a device, from its advertised name and service UUIDs (or its GATT services)."""
    uuids = {u.lower() for u in service_uuids}
    for driver in DRIVERS:
        if driver.matches(name, uuids):
            return driver
    return None


def driver_for(family: str) -> Driver:
    try:
        return _BY_FAMILY[family]
    except KeyError:
        raise ValueError(f"no driver for device family {family!r}") from None
