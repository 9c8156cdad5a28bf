"""Any Heart Rate Service device (chest straps such as Polar H10 or Garmin HRM): live heart rate with RR
intervals, battery through the Battery Service, no stored history."""

from __future__ import annotations

from device.drivers.base import Capabilities, Driver
from device.protocols import hrs


class HrsDriver(Driver):
    family = "hrs"
    capabilities = Capabilities(live_capture=True, live_rr=True, history_sync=False, battery=True, clock=False)

    def matches(self, name: str | None, service_uuids: set[str]) -> bool:
        return hrs.HEART_RATE_SERVICE_UUID in service_uuids
