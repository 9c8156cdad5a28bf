"""Session input from the web: the HTML form (local date, time, minutes) and API JSON → `SessionFields`.

Both collect every problem at once into `ValidationError.errors` (field → message) so the form can show
each message next to its field and the API can answer 422 with the same map. Range rules stay in
`SessionFields.validate`; this module only parses text and JSON types.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from tracker.model import SessionKind
from tracker.sessions import (
    MAX_SESSION_MS,
    SELF_REPORTS,
    SessionFields,
    SessionInfo,
    ValidationError,
    normalize_technique,
)
from tracker.timefmt import TimeFormatError, from_ms, parse_local

MAX_MINUTES = MAX_SESSION_MS // 60_000
TEXT_LIMITS = {"therapist": 120, "notes": 4000}  # the column sizes (notes: a sane bound for a text field)
JSON_FIELDS = {
    "person", "start", "end", "minutes", "kind", "technique", "pressure", "areas", "therapist", "notes", *SELF_REPORTS,
}  # fmt: skip


def _int_text(text: str, lo: int, hi: int, label: str, errors: dict[str, str], key: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not re.fullmatch(r"[+-]?[0-9]{1,19}", text):  # ASCII digits: "²" passes \d, then int() fails
        errors[key] = f"{label} must be a whole number {lo}-{hi}"
        return None
    value = int(text)
    if not lo <= value <= hi:
        errors[key] = f"{label} must be {lo}-{hi}"
    return value


def _int_json(value: Any, lo: int, hi: int, label: str, errors: dict[str, str], key: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        errors[key] = f"{label} must be a whole number {lo}-{hi} or null"
        return None
    if not lo <= value <= hi:
        errors[key] = f"{label} must be {lo}-{hi}"
    return value


def _areas(text: str) -> tuple[str, ...]:
    # ";" is the stored separator; a comma is what people type
    return tuple(a.strip() for a in re.split(r"[;,]", text) if a.strip())


def _text(value: str | None, key: str, errors: dict[str, str]) -> str | None:
    value = (value or "").strip()
    if len(value) > TEXT_LIMITS[key]:
        errors[key] = f"{key} is longer than {TEXT_LIMITS[key]} characters"
    return value or None


def _validated(fields: SessionFields, errors: dict[str, str], rename: Mapping[str, str]) -> SessionFields:
    """Run the service's own rules too, so the person sees every message in one round trip."""
    try:
        fields.validate()
    except ValidationError as exc:
        for key, message in exc.errors.items():
            errors.setdefault(rename.get(key, key), message)
    if errors:
        raise ValidationError(errors)
    return fields


def _technique(value: str | None, errors: dict[str, str]) -> str | None:
    try:
        return normalize_technique(value)
    except ValidationError as exc:
        errors.update(exc.errors)
        return None


def _kind(value: str | None, errors: dict[str, str]) -> SessionKind:
    value = (value or "massage").strip().lower()
    if value not in tuple(SessionKind):
        errors["kind"] = "kind must be massage or rest"
        return SessionKind.MASSAGE
    return SessionKind(value)


# -- the HTML form ------------------------------------------------------------------------------------


def form_values(fields: SessionFields | None, tz: str) -> dict[str, str]:
    """The form's text values for an existing session (or blank for a new one)."""
    if fields is None:
        return {"kind": "massage", "minutes": "60"}
    start = from_ms(fields.start_ms, tz)
    values = {
        "start_date": start.strftime("%Y-%m-%d"),
        "start_time": start.strftime("%H:%M"),
        "minutes": str(round((fields.end_ms - fields.start_ms) / 60_000)),
        "kind": str(fields.kind),
        "technique": fields.technique or "",
        "pressure": "" if fields.pressure is None else str(fields.pressure),
        "areas": "; ".join(fields.areas),
        "therapist": fields.therapist or "",
        "notes": fields.notes or "",
    }
    for name in SELF_REPORTS:
        value = getattr(fields, name)
        values[name] = "" if value is None else str(value)
    return values


def fields_from_form(form: Mapping[str, str], tz: str) -> SessionFields:
    """Parse the session form; the start is wall-clock time in the person's zone `tz`."""
    errors: dict[str, str] = {}
    date, time = form.get("start_date", "").strip(), form.get("start_time", "").strip()
    start_ms = 0
    if not date or not time:
        errors["start"] = "enter the date and time the session starts"
    else:
        try:
            start_ms = parse_local(f"{date} {time}", tz)
        except TimeFormatError:
            errors["start"] = f"{date} {time} is not a date and time (e.g. 2027-03-28 and 10:00)"
    minutes = _int_text(form.get("minutes", ""), 1, MAX_MINUTES, "minutes", errors, "minutes")
    if minutes is None and "minutes" not in errors:
        errors["minutes"] = "enter how many minutes the session lasts"
    fields = SessionFields(
        start_ms=start_ms,
        end_ms=start_ms + (minutes or 1) * 60_000,
        kind=_kind(form.get("kind"), errors),
        technique=_technique(form.get("technique"), errors),
        pressure=_int_text(form.get("pressure", ""), 1, 5, "pressure", errors, "pressure"),
        areas=_areas(form.get("areas", "")),
        therapist=_text(form.get("therapist"), "therapist", errors),
        notes=_text(form.get("notes"), "notes", errors),
        **{n: _int_text(form.get(n, ""), 0, 10, n.replace("_", " "), errors, n) for n in SELF_REPORTS},
    )
    return _validated(fields, errors, {"end": "minutes"})


def reports_from_form(form: Mapping[str, str]) -> dict[str, int | None]:
    """The six self-reports of the "mark done" form (blank means not reported)."""
    errors: dict[str, str] = {}
    reports = {n: _int_text(form.get(n, ""), 0, 10, n.replace("_", " "), errors, n) for n in SELF_REPORTS}
    if errors:
        raise ValidationError(errors)
    return reports


# -- API JSON -----------------------------------------------------------------------------------------


def _time_json(value: Any, key: str, tz: str, errors: dict[str, str]) -> int | None:
    if not isinstance(value, str):
        errors[key] = f"{key} must be a string like 2027-03-28T10:00:00+02:00"
        return None
    try:
        return parse_local(value, tz)
    except TimeFormatError as exc:
        errors[key] = str(exc)
        return None


def fields_from_json(data: Mapping[str, Any], tz: str, base: SessionFields | None = None) -> SessionFields:
    """A new session (`base` None: start and end or minutes required) or `base` with changes applied.

    Times are ISO 8601; with an offset they are exact, without one they are the person's wall-clock
    time. Changing only `start` keeps the duration.
    """
    errors: dict[str, str] = {}
    unknown = set(data) - JSON_FIELDS
    if unknown:
        errors.update({k: "unknown field" for k in sorted(unknown)})
    changes: dict[str, Any] = {}
    start_ms = base.start_ms if base else None
    end_ms = base.end_ms if base else None
    if "start" in data:
        new_start = _time_json(data["start"], "start", tz, errors)
        if new_start is not None:
            if start_ms is not None and end_ms is not None:
                end_ms = new_start + (end_ms - start_ms)
            start_ms = new_start
    elif base is None:
        errors["start"] = "start is required"
    if "end" in data and "minutes" in data:
        errors["end"] = "give end or minutes, not both"
    elif "end" in data:
        end_ms = _time_json(data["end"], "end", tz, errors)
    elif "minutes" in data:
        minutes = _int_json(data["minutes"], 1, MAX_MINUTES, "minutes", errors, "minutes")
        if minutes is None and "minutes" not in errors:
            errors["minutes"] = "minutes must be a whole number"
        if minutes is not None and start_ms is not None:
            end_ms = start_ms + minutes * 60_000
    elif base is None:
        errors["end"] = "end or minutes is required"
    if "kind" in data:
        if not isinstance(data["kind"], str):
            errors["kind"] = "kind must be massage or rest"
        else:
            changes["kind"] = _kind(data["kind"], errors)
    if "technique" in data:
        value = data["technique"]
        if value is not None and not isinstance(value, str):
            errors["technique"] = "technique must be a string or null"
        else:
            changes["technique"] = _technique(value, errors)
    if "pressure" in data:
        changes["pressure"] = _int_json(data["pressure"], 1, 5, "pressure", errors, "pressure")
    if "areas" in data:
        value = data["areas"]
        if isinstance(value, str):
            changes["areas"] = _areas(value)
        elif isinstance(value, list) and all(isinstance(a, str) for a in value):
            changes["areas"] = tuple(a.strip() for a in value)
        else:
            errors["areas"] = "areas must be a list of strings"
    for key in ("therapist", "notes"):
        if key in data:
            if data[key] is not None and not isinstance(data[key], str):
                errors[key] = f"{key} must be a string or null"
            else:
                changes[key] = _text(data[key], key, errors)
    for name in SELF_REPORTS:
        if name in data:
            changes[name] = _int_json(data[name], 0, 10, name.replace("_", " "), errors, name)
    if errors or start_ms is None or end_ms is None:
        raise ValidationError(errors or {"start": "start and end are required"})
    fields = dataclasses.replace(base or SessionFields(start_ms, end_ms), start_ms=start_ms, end_ms=end_ms, **changes)
    return _validated(fields, errors, {})


def as_changes(fields: SessionFields) -> dict[str, Any]:
    """Every field as keyword arguments for `Sessions.update`."""
    return {f.name: getattr(fields, f.name) for f in dataclasses.fields(fields)}


def session_json(info: SessionInfo) -> dict[str, Any]:
    """The API's representation: the service's own dict plus ids and epoch ms for charts and scripts."""
    return {**info.to_dict(), "person_id": info.person_id, "start_ms": info.start_ms, "end_ms": info.end_ms}
