"""Values a device computed itself (`device_metric`): read back for the overview, the API and the export.

These are the device's own numbers by the device's own method (Apple Watch's SDNN, Garmin's overnight RMSSD,
a Colmi ring's 30-minute "HRV" of unpublished method). They are shown labelled as the device's and never
enter the analysis: the Evidence page computes its own nightly and session figures from the stored heart rate
and beat-to-beat RR, by conventions the README states. Each kind
carries a sentence that says what it is and why it is not compared with our RMSSD.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from tracker.model import MetricKind
from tracker.storage.models import Device, DeviceMetric

DAY_MS = 86_400_000
RECENT_DAYS = 14  # the overview's "recent median" looks this far back from the latest value
LIST_LIMIT = 10_000  # the API's page size ceiling

# kind -> (label, unit, what it is)
KINDS: dict[str, tuple[str, str, str]] = {
    MetricKind.SDNN_MS: (
        "Device's own SDNN", "ms",
        "SDNN over about a minute (Apple Health's \"HRV\"): a different statistic from RMSSD, not comparable with it.",
    ),
    MetricKind.RMSSD_MS: (
        "Device's own RMSSD", "ms",
        "The device's overnight RMSSD estimate, by its own artefact handling and window: close to ours in kind, "
        "but not computed from beats we can check.",
    ),
    MetricKind.RESTING_HR_BPM: (
        "Device's own resting heart rate", "bpm",
        "The device's resting heart rate by its own definition (ours: the lowest 5-minute mean heart rate during a night's sleep).",
    ),
    MetricKind.DEVICE_HRV_MS: (
        "Device's own HRV value", "ms",
        "A number the device calls HRV, every 30 minutes; its method is not published, so it is shown, not analysed.",
    ),
}  # fmt: skip


def describe(kind: str) -> tuple[str, str, str]:
    """(label, unit, note) of a kind; an unknown kind (a newer importer's) is still labelled as the device's."""
    return KINDS.get(kind, (f"Device's own {kind}", "", "A value the device computed itself; not analysed."))


@dataclass(frozen=True, slots=True)
class DeviceMetricSummary:
    """One device's one kind of value: how many, the latest, and the median of its last `RECENT_DAYS` days."""

    device: str
    kind: str
    label: str
    unit: str
    note: str
    count: int
    last_t_ms: int
    last_value: float
    recent_median: float
    recent_count: int


class DeviceMetrics:
    def __init__(self, sessionmaker: so.sessionmaker[so.Session]) -> None:
        self._db = sessionmaker

    def summary(self, person_id: int) -> tuple[DeviceMetricSummary, ...]:
        """Per (device, kind): counts and latest time from the index, then only the last days' values."""
        m = DeviceMetric
        with self._db() as db:
            groups = db.execute(
                sa.select(m.device_id, Device.name, m.kind, sa.func.count(), sa.func.max(m.t_ms))
                .join(Device, Device.id == m.device_id)
                .where(m.person_id == person_id)
                .group_by(m.device_id, Device.name, m.kind)
                .order_by(m.kind, Device.name)
            ).all()
            out = []
            for device_id, name, kind, count, last_ms in groups:
                values = db.execute(
                    sa.select(m.t_ms, m.value)
                    .where(m.person_id == person_id, m.device_id == device_id, m.kind == kind,
                           m.t_ms > last_ms - RECENT_DAYS * DAY_MS)  # fmt: skip
                    .order_by(m.t_ms)
                ).all()
                recent = [float(v) for _t, v in values]
                label, unit, note = describe(kind)
                out.append(
                    DeviceMetricSummary(name, kind, label, unit, note, int(count), int(last_ms), recent[-1],
                                        statistics.median(recent), len(recent))  # fmt: skip
                )
        return tuple(out)

    def between(self, person_id: int, from_ms: int, to_ms: int, kind: str | None = None,
                limit: int = LIST_LIMIT) -> list[dict[str, Any]]:  # fmt: skip
        """The values in [from_ms, to_ms) (oldest first, at most `limit`), each with its device and label."""
        m = DeviceMetric
        stmt = (
            sa.select(m.t_ms, Device.name, m.kind, m.value)
            .join(Device, Device.id == m.device_id)
            .where(m.person_id == person_id, m.t_ms >= from_ms, m.t_ms < to_ms)
            .order_by(m.t_ms, m.kind, m.device_id)
            .limit(limit)
        )
        if kind is not None:
            stmt = stmt.where(m.kind == kind)
        with self._db() as db:
            rows = db.execute(stmt).all()
        return [
            {"t": int(t), "device": name, "kind": k, "label": describe(k)[0], "unit": describe(k)[1], "value": float(v)}
            for t, name, k, v in rows
        ]
