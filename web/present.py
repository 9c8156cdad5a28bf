"""How values look on pages: local times in the person's zone, and plain structures for service results.

`plain()` turns whatever a plugged-in service returns (dataclasses, enums, mappings, sequences, objects
with `to_dict()`) into dicts, lists and scalars, so the generic templates in `templates/_show.html` can
show a result before a dedicated template exists for it.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Mapping
from typing import Any

from flask import Flask

from tracker.timefmt import from_ms

MAX_DEPTH = 6
EPOCH_MS_FROM = 100_000_000_000  # 1973-03-03: smaller `_ms` values are durations, not instants


def local_time(t_ms: int | None, tz: str, fmt: str = "%a %d %b %Y %H:%M") -> str:
    if t_ms is None:
        return ""
    return from_ms(t_ms, tz).strftime(fmt)


def plain(value: Any, tz: str | None = None, depth: int = 0) -> Any:
    """JSON-like view of a service result (bounded depth, so a cyclic object cannot hang a page).

    With `tz`, mapping entries named `*_ms` holding epoch times are shown as local times (the project's
    naming rule: `_ms` integers of this size are instants; durations carry `_s`/`_min`).
    """
    if depth > MAX_DEPTH:
        return str(value)
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 3)
    if isinstance(value, enum.Enum):
        return str(value.value)
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return plain(to_dict(), tz, depth + 1)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _entry(str(k), v, tz, depth) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v, tz, depth + 1) for v in value]
    tolist = getattr(value, "tolist", None)  # numpy arrays and scalars
    if callable(tolist):
        return plain(tolist(), tz, depth + 1)
    return str(value)


def _entry(key: str, value: Any, tz: str | None, depth: int) -> Any:
    if tz and key.endswith("_ms") and isinstance(value, int) and not isinstance(value, bool) and value >= EPOCH_MS_FROM:
        return local_time(value, tz, "%Y-%m-%d %H:%M")
    return plain(value, tz, depth + 1)


def is_empty(value: Any) -> bool:
    """A service answer that has nothing to show: None, or an empty collection."""
    return value is None or (isinstance(value, list | tuple | dict | set) and not value)


def register_filters(app: Flask) -> None:
    app.jinja_env.filters["local"] = local_time
    app.jinja_env.filters["plain"] = plain
    app.jinja_env.tests["mapping"] = lambda v: isinstance(v, Mapping)
    app.jinja_env.tests["listing"] = lambda v: isinstance(v, list)
