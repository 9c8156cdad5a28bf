"""How values look on pages: local times in the person's zone, numbers with units, metric names.

Jinja filters: `local` (epoch ms → local time), `num` (fixed decimals, "—" when missing), `hm` (minutes →
"7 h 05 min"), `token` (a verdict or status as a CSS class fragment), `metric`/`unit` (a metric's label
and unit). `plain()` turns any service result into dicts, lists and scalars (the generic `show` macro
in `_macros.html`, kept for quick views of new results).
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


# How metrics are named on pages: (label, unit).
METRICS: dict[str, tuple[str, str]] = {
    "hr_bpm": ("Heart rate", "bpm"),
    "ln_rmssd": ("HRV (lnRMSSD)", "ln(ms)"),
    "pain": ("Pain rating", "points"),
    "stress": ("Stress rating", "points"),
    "mood": ("Mood rating", "points"),
    "sbp_mmhg": ("Systolic blood pressure", "mmHg"),
    "dbp_mmhg": ("Diastolic blood pressure", "mmHg"),
    "ln_rmssd_night": ("Night HRV (lnRMSSD)", "ln(ms)"),
    "resting_hr_bpm": ("Resting heart rate at night", "bpm"),
    "tst_min": ("Total sleep", "min"),
    "sleep_efficiency_pct": ("Sleep efficiency", "%"),
    "waso_min": ("Awake after falling asleep", "min"),
    "deep_min": ("Deep sleep (device estimate)", "min"),
    "rem_min": ("REM sleep (device estimate)", "min"),
}
KINDS = {"massage": "massage", "rest": "rest", "massage_minus_rest": "massage − rest"}
ORDINALS = {1: "first", 2: "second", 3: "third"}


def metric_label(metric: str) -> str:
    return METRICS.get(metric, (metric.replace("_", " "), ""))[0]


def metric_unit(metric: str) -> str:
    return METRICS.get(metric, ("", ""))[1]


def num(value: float | int | None, digits: int = 1, signed: bool = False) -> str:
    """A number for a table cell: fixed decimals, a dash when missing (never "None" or "nan")."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def hours_minutes(minutes: float | None) -> str:
    """Durations as people read them, the one format on every page: "7 h 05 min", "45 min"."""
    return duration(minutes)


def duration(minutes: float | None, signed: bool = False) -> str:
    """A duration in minutes: "7 h 05 min" from an hour up, "45 min" below; `signed` for differences."""
    if minutes is None or not math.isfinite(minutes):
        return "—"
    total = round(abs(minutes))
    sign = ("+" if minutes > 0 else "−") if signed and total else ""
    text = f"{total // 60} h {total % 60:02d} min" if total >= 60 else f"{total} min"
    return sign + text


def measured(value: float | None, unit: str, signed: bool = False) -> str:
    """A measurement with its unit, one style everywhere: durations as "7 h 05 min", a difference of a
    percentage (sleep efficiency) in points, ln(ms) with two decimals, everything else with one."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if unit == "min":
        return duration(value, signed=signed)
    if unit == "%":
        return f"{num(value, 1, signed)} points" if signed else f"{num(value, 1)} %"
    return f"{num(value, 2 if unit == 'ln(ms)' else 1, signed)} {unit}".rstrip()


def css_token(text: object) -> str:
    """A value (verdict, status) as a class-name fragment: "no clear change" → "no-clear-change"."""
    return "".join(c if c.isalnum() else "-" for c in str(text).lower())


def register_filters(app: Flask) -> None:
    app.jinja_env.filters["local"] = local_time
    app.jinja_env.filters["num"] = num
    app.jinja_env.filters["hm"] = hours_minutes
    app.jinja_env.filters["token"] = css_token
    app.jinja_env.filters["metric"] = metric_label
    app.jinja_env.filters["unit"] = metric_unit
    app.jinja_env.globals.update(KINDS=KINDS, ORDINALS=ORDINALS)
    app.jinja_env.filters["plain"] = plain
    app.jinja_env.filters["duration"] = duration
    app.jinja_env.filters["measured"] = measured
    # charts format dates and numbers in this locale ("" = the browser's); see web/static/charts.js
    app.jinja_env.globals["web_locale"] = app.extensions["tracker"].config.web.locale if "tracker" in app.extensions else ""
    app.jinja_env.tests["mapping"] = lambda v: isinstance(v, Mapping)
    app.jinja_env.tests["listing"] = lambda v: isinstance(v, list)
