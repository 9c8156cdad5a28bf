"""Which device's samples a chart or an analysis uses, when a person wore more than one.

Every device's samples are kept (the sample key includes `device_key`), so a band and a ring worn on the
same night both keep their values. Mixing them in one series would double-count and interleave two
sensors' noise, so each reader takes ONE source per metric and period, by this rule:

    the source with the most samples of that metric in that period wins; on a tie a device wins over a
    file import (device_key 0), then the lower device id.

A chest strap sends beat-to-beat RR and a value every second, so during a capture it outnumbers a band's
or ring's minute values and is chosen; overnight, where only the ring recorded, the ring is chosen. The
period is what the reader asks for: a chart's range, a night, a session's capture window.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

RULE = (
    "One source per metric and period: the device with the most samples in the period "
    "(a beat-to-beat strap before a band's or ring's minute values); ties go to a device over a file "
    "import, then the lower device id."
)


@dataclass(frozen=True, slots=True)
class SourceChoice:
    device_key: int  # 0: rows from a file import with no device
    samples: int  # how many samples it has in the period
    others: int  # how many other sources had samples in the period


def choose_source(
    db: so.Session, model: Any, time_col: Any, person_id: int, from_ms: int | None, to_ms: int | None
) -> SourceChoice | None:
    """The source `model`'s readers should use for [from_ms, to_ms); None when there are no samples."""
    where = [model.person_id == person_id]
    if from_ms is not None:
        where.append(time_col >= from_ms)
    if to_ms is not None:
        where.append(time_col < to_ms)
    n = sa.func.count().label("n")
    rows = db.execute(sa.select(model.device_key, n).where(*where).group_by(model.device_key)).all()
    if not rows:
        return None
    key, count = min(((int(k), int(c)) for k, c in rows), key=lambda kc: rank(*kc))
    return SourceChoice(key, count, len(rows) - 1)


def source_label(db: so.Session, device_key: int) -> str:
    """A person-readable name for a source."""
    from tracker.storage.models import Device

    if device_key == 0:
        return "imported files"
    device = db.get(Device, device_key)
    return f"device {device_key}" if device is None else device.name


DAY_MS = 86_400_000
NOON_MS = 12 * 3_600_000  # days run noon to noon (UTC), so a night is never split between two sources


def rank(key: int, count: int) -> tuple[int, bool, int]:
    """Sort key of a source under RULE: most samples, then a device over a file import, then lower id."""
    return (-count, key == 0, key)


def one_source_per_day(rows: Sequence[tuple[Any, ...]], t_index: int = 0) -> list[tuple[Any, ...]]:
    """Rows (..., device_key last) of several sources → each noon-to-noon day's rows from one source
    (RULE applied per day), without the device_key column. For a long range (a person's whole history),
    so a ring's nights and a band's nights each count where only that device was worn."""
    counts: dict[tuple[int, int], int] = {}
    for row in rows:
        pair = ((row[t_index] - NOON_MS) // DAY_MS, row[-1])
        counts[pair] = counts.get(pair, 0) + 1
    best: dict[int, tuple[int, int]] = {}
    for (day, key), n in counts.items():
        if day not in best or rank(key, n) < rank(*best[day]):
            best[day] = (key, n)
    return [row[:-1] for row in rows if best[(row[t_index] - NOON_MS) // DAY_MS][0] == row[-1]]
