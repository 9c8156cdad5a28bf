"""The OpenAPI 3.1 description of /api/v1, written by hand next to the views it describes.

tests/web/test_openapi.py checks that every registered /api/v1 rule and method appears here, so a new
endpoint without documentation fails the suite.
"""

from __future__ import annotations

from typing import Any

from tracker.model import MetricKind
from tracker.sessions import SELF_REPORTS, TECHNIQUES

_ERROR = {"$ref": "#/components/schemas/Error"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    text = {
        400: "Bad input (the message says what to fix)",
        401: "Missing or invalid credentials",
        403: "CSRF token missing (cookie-authenticated writes need the X-CSRFToken header)",
        404: "Not found, or not one of this account's",
        409: "Conflicts with stored data (an overlapping session, a cancelled session)",
        422: "Invalid fields; `errors` maps each field to a message",
    }
    return {str(c): _json(_ERROR, text[c]) for c in codes}


def _param(name: str, where: str, schema: dict[str, Any], description: str, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": where, "required": required, "schema": schema, "description": description}


_SESSION_ID = _param("session_id", "path", {"type": "integer"}, "Session id", required=True)
_DEVICE_ID = _param("device_id", "path", {"type": "integer"}, "Device id", required=True)
_PERSON = _param("person", "query", {"type": "integer"}, "Person id (optional when the account manages one)")
_NUM_OR_NULL = {"type": ["number", "null"]}
_CI = {"type": ["array", "null"], "items": {"type": "number"}, "minItems": 2, "maxItems": 2, "description": "95 % CI"}


def _chart_schemas() -> dict[str, Any]:
    """Chart data shared by /nights and /sessions/{id}/chart: one x array per series, null = a gap."""
    return {
        "ChartSeries": {
            "type": "object",
            "properties": {
                "key": {"type": "string"},
                "name": {"type": "string"},
                "unit": {"type": "string"},
                "x": {"type": "array", "items": {"type": "integer"}, "description": "epoch ms"},
                "values": {"type": "array", "items": _NUM_OR_NULL, "description": "null breaks the line"},
            },
        },
        "ChartSpan": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "kind": {"type": "string", "description": "massage | rest (a session) or window (a capture window)"},
                "status": {"type": "string"},
                "label": {"type": "string"},
                "start_ms": {"type": "integer"},
                "end_ms": {"type": "integer"},
            },
        },
    }


def _device_schemas() -> dict[str, Any]:
    return {
        "Device": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "person_id": {"type": ["integer", "null"]},
                "person": {"type": ["string", "null"]},
                "address": {"type": "string"},
                "name": {"type": "string"},
                "family": {"type": "string", "description": "hrs (Heart Rate Service) | colmi"},
                "manufacturer": {"type": ["string", "null"]},
                "model": {"type": ["string", "null"]},
                "serial": {"type": ["string", "null"]},
                "firmware": {"type": ["string", "null"]},
                "battery_pct": {"type": ["integer", "null"]},
                "paired": {"type": "boolean"},
                "last_sync": {"type": ["string", "null"], "description": "ISO 8601, UTC"},
                "last_sync_status": {"type": ["string", "null"]},
                "sync_interval_min": {"type": ["integer", "null"]},
            },
        },
        "SyncJob": {
            "type": "object",
            "properties": {
                "job": {"type": ["string", "null"], "description": "token; null with state idle"},
                "device_id": {"type": "integer"},
                "state": {"type": "string", "enum": ["running", "done", "failed", "idle"]},
                "started": {"type": "string"},
                "finished": {"type": ["string", "null"]},
                "status_url": {"type": "string"},
                "outcome": {
                    "type": ["object", "null"],
                    "properties": {
                        "run_id": {"type": "integer"},
                        "status": {"type": "string", "enum": ["ok", "partial", "failed"]},
                        "heart_rate": {"type": "integer"},
                        "rr": {"type": "integer"},
                        "sleep": {"type": "integer"},
                        "malformed": {"type": "integer"},
                        "unavailable": {"type": "array", "items": {"type": "string"}},
                        "error": {"type": ["string", "null"]},
                        "device_hrv": {"type": "integer", "description": "HRV values the device computed itself "
                                       "(its own estimate, stored apart from RR-derived HRV)"},
                    },
                },
                "error": {"type": ["string", "null"]},
            },
        },
        "ScanResult": {
            "type": "object",
            "properties": {
                "address": {"type": "string"},
                "name": {"type": ["string", "null"]},
                "rssi": {"type": ["integer", "null"]},
                "family": {"type": ["string", "null"], "description": "hrs | colmi | null (not supported)"},
            },
        },
    }
_TIME = {"type": "string", "description": "epoch milliseconds, or ISO 8601 with an offset"}
_REPORT = {"type": ["integer", "null"], "minimum": 0, "maximum": 10}


def openapi_document(max_points: int) -> dict[str, Any]:
    from web.openapi_watches import import_watch_paths, import_watch_schemas  # it uses this module's helpers

    session_input = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "person": {"type": "integer", "description": "Person id; optional when the account manages one"},
            "start": {
                "type": "string",
                "description": "ISO 8601; without an offset it is the person's wall-clock time",
                "examples": ["2027-03-28T10:00:00+02:00", "2027-03-28 10:00"],
            },
            "end": {"type": "string", "description": "Like start; give end or minutes"},
            "minutes": {"type": "integer", "minimum": 1, "maximum": 720},
            "kind": {"type": "string", "enum": ["massage", "rest"]},
            "technique": {"type": ["string", "null"], "enum": [*TECHNIQUES, None]},
            "pressure": {"type": ["integer", "null"], "minimum": 1, "maximum": 5},
            "areas": {"type": "array", "items": {"type": "string"}},
            "therapist": {"type": ["string", "null"]},
            "notes": {"type": ["string", "null"]},
            **{name: _REPORT for name in SELF_REPORTS},
        },
    }
    session = {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "person_id": {"type": "integer"},
            "person": {"type": "string"},
            "status": {"type": "string", "enum": ["planned", "done", "cancelled"]},
            "kind": {"type": "string", "enum": ["massage", "rest"]},
            "start": {"type": "string", "description": "Local ISO 8601 with the person's offset"},
            "end": {"type": "string"},
            "start_ms": {"type": "integer"},
            "end_ms": {"type": "integer"},
            "minutes": {"type": "number"},
            "technique": {"type": ["string", "null"]},
            "pressure": {"type": ["integer", "null"]},
            "areas": {"type": "array", "items": {"type": "string"}},
            "therapist": {"type": ["string", "null"]},
            "notes": {"type": ["string", "null"]},
            **{name: _REPORT for name in SELF_REPORTS},
        },
    }
    session_ref = {"$ref": "#/components/schemas/Session"}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "massage-tracker API",
            "version": "1",
            "description": "Sessions and samples of the people the authenticated account manages.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}, {"cookie": []}],
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "tracker token create NAME"},
                "cookie": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "tracker_session",
                    "description": "The dashboard's session; writes need the X-CSRFToken header",
                },
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {"type": "string"},
                        "errors": {"type": "object", "additionalProperties": {"type": "string"}},
                    },
                },
                "Person": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "name": {"type": "string"},
                        "timezone": {"type": "string", "description": "IANA zone"},
                        "user": {"type": ["string", "null"]},
                    },
                },
                **_chart_schemas(),
                **_device_schemas(),
                **import_watch_schemas(),
                "SessionInput": session_input,
                "Session": session,
                "Samples": {
                    "type": "object",
                    "properties": {
                        "person": {"type": "integer"},
                        "kind": {"type": "string", "enum": ["heart_rate", "rr"]},
                        "from": {"type": "integer", "description": "epoch ms, inclusive"},
                        "to": {"type": "integer", "description": "epoch ms, exclusive"},
                        "total": {"type": "integer", "description": "samples stored in the range"},
                        "downsampled": {"type": "boolean"},
                        "max_points": {"type": "integer"},
                        "x": {"type": "array", "items": {"type": "integer"}, "description": "epoch ms"},
                        "series": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "name": {"type": "string"},
                                    "unit": {"type": "string"},
                                    "values": {"type": "array", "items": {"type": "number"}},
                                },
                            },
                        },
                    },
                },
            },
        },
        "paths": {
            **_new_paths(max_points),
            **import_watch_paths(),
            "/api/v1/people": {
                "get": {
                    "summary": "The people this account manages",
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {
                                    "people": {"type": "array", "items": {"$ref": "#/components/schemas/Person"}}
                                },
                            },
                            "People",
                        ),
                        **_errors(401),
                    },
                },
                "post": {
                    "summary": "Add a person to this account",
                    "description": "The name must be new within this account only; other accounts may use it too. "
                    "`timezone` defaults to the server's `[people] default_timezone`.",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["name"],
                                    "properties": {
                                        "name": {"type": "string", "minLength": 1, "maxLength": 80},
                                        "timezone": {"type": "string", "description": "IANA, e.g. Europe/Berlin"},
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "201": _json({"$ref": "#/components/schemas/Person"}, "Created"),
                        **_errors(400, 401, 403, 409, 422),
                    },
                },
            },
            "/api/v1/sessions": {
                "get": {
                    "summary": "Sessions, oldest first, one page at a time",
                    "description": "Pages of `limit` sessions (default 500) ordered by start time then id. "
                    "When more follow, `next_cursor` is set: pass it as `cursor` (with the same filters) for the "
                    "next page; it is null on the last page.",
                    "parameters": [
                        _param("person", "query", {"type": "integer"}, "Person id (default: all of the account's)"),
                        _param("status", "query", {"type": "string"}, "Comma-separated: planned,done,cancelled"),
                        _param("from", "query", _TIME, "Sessions ending after this time"),
                        _param("to", "query", _TIME, "Sessions starting before this time"),
                        _param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 5000},
                               "Page size (default 500)"),
                        _param("cursor", "query", {"type": "string", "pattern": "^-?[0-9]+\\.[0-9]+$"},
                               "`next_cursor` of the previous page"),
                    ],
                    "responses": {
                        "200": _json(
                            {"type": "object", "required": ["sessions", "next_cursor"], "properties": {
                                "sessions": {"type": "array", "items": session_ref},
                                "next_cursor": {"type": ["string", "null"],
                                                "description": "Cursor of the next page; null on the last"},
                            }},
                            "A page of sessions",
                        ),
                        **_errors(400, 401, 404),
                    },
                },
                "post": {
                    "summary": "Log a past session (done) or plan a future one (planned)",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SessionInput"}}},
                    },
                    "responses": {"201": _json(session_ref, "Created"), **_errors(400, 401, 403, 404, 409, 422)},
                },
            },
            "/api/v1/sessions/{session_id}": {
                "parameters": [_SESSION_ID],
                "get": {
                    "summary": "One session",
                    "responses": {"200": _json(session_ref, "The session"), **_errors(401, 404)},
                },
                "patch": {
                    "summary": "Change fields; changing only start keeps the duration",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SessionInput"}}},
                    },
                    "responses": {"200": _json(session_ref, "Updated"), **_errors(400, 401, 403, 404, 409, 422)},
                },
                "delete": {
                    "summary": "Cancel the session (kept, but left out of exports and analysis)",
                    "responses": {"200": _json(session_ref, "Cancelled"), **_errors(401, 403, 404)},
                },
            },
            "/api/v1/sessions/{session_id}/done": {
                "parameters": [_SESSION_ID],
                "post": {
                    "summary": "Mark done, optionally with self-reports (0-10)",
                    "requestBody": {
                        "required": False,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "additionalProperties": False,
                                    "properties": {name: _REPORT for name in SELF_REPORTS},
                                }
                            }
                        },
                    },
                    "responses": {"200": _json(session_ref, "Done"), **_errors(400, 401, 403, 404, 422)},
                },
            },
            "/api/v1/samples": {
                "get": {
                    "summary": f"One series in [from, to), downsampled by LTTB to at most {max_points} points",
                    "parameters": [
                        _param("person", "query", {"type": "integer"}, "Person id (optional with one person)"),
                        _param("kind", "query", {"type": "string", "enum": ["heart_rate", "rr"]}, "Which series", True),
                        _param("from", "query", _TIME, "Default: a week before `to`"),
                        _param("to", "query", _TIME, "Default: just after the last sample"),
                        _param(
                            "max_points",
                            "query",
                            {"type": "integer", "minimum": 1},
                            f"Point budget, clamped to 3-{max_points}",
                        ),
                    ],
                    "responses": {
                        "200": _json({"$ref": "#/components/schemas/Samples"}, "The series"),
                        **_errors(400, 401, 404),
                    },
                }
            },
        },
    }


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _array_of(key: str, item: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "object", "properties": {**extra, key: {"type": "array", "items": item}}}


def _new_paths(max_points: int) -> dict[str, Any]:
    """Nights, captures, the report, the session chart and devices (dashboard pages use these too)."""
    night = {
        "type": "object",
        "properties": {
            "night": {"type": "string", "format": "date", "description": "local date of the morning it ends"},
            "bed_start": {"type": "string"},
            "bed_end": {"type": "string"},
            "awakenings": {"type": "integer"},
            "stages_from_device": {"type": "boolean"},
            **{
                k: _NUM_OR_NULL
                for k in (
                    "time_in_bed_min", "tst_min", "sleep_efficiency_pct", "sleep_onset_latency_min", "waso_min",
                    "light_min", "deep_min", "rem_min", "resting_hr_bpm", "ln_rmssd_night",
                )
            },
        },
    }  # fmt: skip
    capture = {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "session_id": {"type": ["integer", "null"]},
            "phase": {"type": "string", "enum": ["pre", "during", "post", "adhoc"]},
            "status": {"type": "string", "enum": ["planned", "ok", "not_in_range", "insufficient_quality", "failed"]},
            "planned_start": {"type": "string"},
            "planned_end": {"type": "string"},
            "message": {"type": ["string", "null"]},
            "beats": {"type": ["integer", "null"]},
            "artifact_pct": _NUM_OR_NULL,
            "missing_s": _NUM_OR_NULL,
        },
    }
    report = {
        "type": "object",
        "description": "tracker.analysis.report.Report.to_dict(): no NaN, missing numbers are null",
        "properties": {
            "person": {"type": "string"},
            "timezone": {"type": "string"},
            "period": {"type": "object", "properties": {"start": {"type": "string"}, "end": {"type": "string"}}},
            "sessions": {"type": "object", "properties": {"massage": {"type": "integer"}, "rest": {"type": "integer"}}},
            "nights": {"type": "integer"},
            "primary_endpoint": {
                "type": "object",
                "properties": {
                    "metric": {"type": "string"},
                    "lag": {"type": "integer"},
                    "p_unadjusted": _NUM_OR_NULL,
                    "verdict": {"type": ["string", "null"]},
                    "estimate": _NUM_OR_NULL,
                    "ci95": _CI,
                    "mde": _NUM_OR_NULL,
                    "sessions_needed": {"type": ["integer", "null"]},
                    "reason": {"type": "string"},
                },
            },
            "design": {"type": "string", "enum": ["observational"]},
            "sessions_without_nights": {"type": "integer"},
            "rest_comparison": {
                "type": "object",
                "properties": {
                    "comparable": {"type": "boolean"},
                    "usable": {"type": "boolean"},
                    "start_diff_h": _NUM_OR_NULL,
                    "duration_ratio": _NUM_OR_NULL,
                    "rest_needed": {"type": "integer"},
                    "reason": {"type": "string"},
                },
            },
            "acute": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "metric": {"type": "string"},
                        "kind": {"type": "string", "enum": ["massage", "rest", "massage_minus_rest"]},
                        "n": {"type": "integer"},
                        "mean_change": _NUM_OR_NULL,
                        "ci95": _CI,
                        "p": _NUM_OR_NULL,
                        "q": _NUM_OR_NULL,
                        "verdict": {"type": "string"},
                        "statement": {"type": "string"},
                        "mde": _NUM_OR_NULL,
                        "sessions_needed": {"type": ["integer", "null"]},
                        "more_massage_needed": {"type": ["integer", "null"]},
                        "more_rest_needed": {"type": ["integer", "null"]},
                        "comparable": {"type": ["boolean", "null"]},
                        "reason": {"type": "string"},
                    },
                },
            },
            "nights_after": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "metric": {"type": "string"},
                        "lag": {"type": "integer"},
                        "primary": {"type": "boolean"},
                        "difference": _NUM_OR_NULL,
                        "ci95": _CI,
                        "p": _NUM_OR_NULL,
                        "q": _NUM_OR_NULL,
                        "mde": _NUM_OR_NULL,
                        "sessions_needed": {"type": ["integer", "null"]},
                        "verdict": {"type": "string"},
                        "adjusted_difference": _NUM_OR_NULL,
                        "weekday_information": _NUM_OR_NULL,
                        "reason": {"type": "string"},
                        "statement": {"type": "string"},
                    },
                },
            },
            "claims": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "claim": {"type": "string"},
                        "source": {"type": "string"},
                        "metrics": {"type": "array", "items": {"type": "string"}},
                        "verdict": {
                            "type": "string",
                            "enum": ["improved", "worsened", "no clear change", "not enough data", "not measured",
                                     "cannot separate from day of week", "cannot tell massage from lying still"],
                        },
                        "explanation": {"type": "string"},
                        "tested_as": {"type": ["string", "null"]},
                        "reason": {"type": "string"},
                        "rest_sessions_needed": {"type": ["integer", "null"]},
                        # rows in the family-wise (Holm) correction behind the claims; null when not measured
                        "outcomes_tested": {"type": ["integer", "null"]},
                        # rows called at their own level that did not survive that correction
                        "exploratory_hints": {"type": "array", "items": {"type": "string"}},
                    },
                },
            },
            "dose_response": {"type": ["object", "null"]},
            # issue 9 items 6-7 (tracker.trials): the primary endpoint's history and the person's latest trial
            "primary_endpoint_history": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "metric": {"type": "string"}, "lag": {"type": "integer"}, "set": {"type": "string"},
                        "set_ms": {"type": "integer"}, "sessions_done": {"type": "integer"},
                    },
                },
            },  # fmt: skip
            "trial": {
                "type": ["object", "null"],
                "description": "as `tracker trial show --json`: allocation, seed (text), deviations, analysis",
            },
        },
    }
    device_ref = _ref("Device")
    job_ref = _ref("SyncJob")
    return {
        "/api/v1/nights": {
            "get": {
                "summary": "Nights (noon to noon, local), oldest first, with chart series and session marks",
                "parameters": [
                    _PERSON,
                    _param("last", "query", {"type": "integer", "minimum": 1, "maximum": 2000}, "Only the newest N"),
                ],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "person": {"type": "integer"},
                                "timezone": {"type": "string"},
                                "nights": {"type": "array", "items": night},
                                "series": {"type": "array", "items": _ref("ChartSeries")},
                                "spans": {"type": "array", "items": _ref("ChartSpan")},
                            },
                        },
                        "Nights",
                    ),
                    **_errors(400, 401, 404),
                },
            }
        },
        "/api/v1/captures": {
            "get": {
                "summary": "A session's capture windows with status and quality",
                "parameters": [_param("session", "query", {"type": "integer"}, "Session id", True)],
                "responses": {
                    "200": _json(_array_of("captures", capture, session={"type": "integer"}), "Captures"),
                    **_errors(400, 401, 404),
                },
            }
        },
        "/api/v1/device-metrics": {
            "get": {
                "summary": "Values the person's devices computed themselves (their SDNN, RMSSD, resting HR, own HRV), "
                "labelled as the device's; never used by the report",
                "parameters": [
                    _PERSON,
                    _param("kind", "query", {"type": "string", "enum": [str(k) for k in MetricKind]}, "Only this kind"),
                    _param("from", "query", {"type": "string"}, "Start (ISO 8601 or epoch ms); default 30 days before to"),
                    _param("to", "query", {"type": "string"}, "End, exclusive (ISO 8601 or epoch ms); default now"),
                    _param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 10000}, "At most this many (10000)"),
                ],
                "responses": {
                    "200": _json(
                        _array_of(
                            "values",
                            {"type": "object", "properties": {
                                "t": {"type": "integer", "description": "epoch ms"}, "device": {"type": "string"},
                                "kind": {"type": "string"}, "label": {"type": "string"}, "unit": {"type": "string"},
                                "value": {"type": "number"},
                            }},
                            person={"type": "integer"}, truncated={"type": "boolean"},
                        ),
                        "Device-computed values, oldest first",
                    ),
                    **_errors(400, 401, 404),
                },
            }
        },
        "/api/v1/report": {
            "get": {
                "summary": "The evidence report on the claims (cached per person until any of its data changes)",
                "parameters": [_PERSON],
                "responses": {"200": _json(report, "The report"), **_errors(400, 401, 404)},
            }
        },
        "/api/v1/sessions/{session_id}/chart": {
            "parameters": [_SESSION_ID],
            "get": {
                "summary": f"HR and rolling lnRMSSD from the pre to the post window, ≤ {max_points} points per series",
                "parameters": [
                    _param("max_points", "query", {"type": "integer", "minimum": 1}, f"Clamped to 3-{max_points}")
                ],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "session": {"type": "integer"},
                                "timezone": {"type": "string"},
                                "from": {"type": "integer"},
                                "to": {"type": "integer"},
                                "max_points": {"type": "integer"},
                                "series": {"type": "array", "items": _ref("ChartSeries")},
                                "spans": {"type": "array", "items": _ref("ChartSpan")},
                            },
                        },
                        "Chart data",
                    ),
                    **_errors(400, 401, 404),
                },
            },
        },
        "/api/v1/devices": {
            "get": {
                "summary": "The account's paired devices, with battery and last sync",
                "parameters": [_param("person", "query", {"type": "integer"}, "Only this person's devices")],
                "responses": {"200": _json(_array_of("devices", device_ref), "Devices"), **_errors(400, 401, 404)},
            }
        },
        "/api/v1/devices/{device_id}": {
            "parameters": [_DEVICE_ID],
            "delete": {
                "summary": "Unpair (the device's data stays)",
                "responses": {"200": _json(device_ref, "Unpaired"), **_errors(401, 403, 404)},
            },
        },
        "/api/v1/devices/{device_id}/sync": {
            "parameters": [_DEVICE_ID],
            "post": {
                "summary": "Start a sync in the background (or join the running one); poll status_url",
                "responses": {
                    "202": {
                        **_json(job_ref, "Started"),
                        "headers": {"Location": {"schema": {"type": "string"}, "description": "The status URL"}},
                    },
                    **_errors(400, 401, 403, 404),
                    "503": _json(_ERROR, "No Bluetooth collector in this process (it runs in `tracker run`)"),
                },
            },
        },
        "/api/v1/devices/{device_id}/sync-status": {
            "parameters": [_DEVICE_ID],
            "get": {
                "summary": "A sync job's state and outcome counts; without job, the device's latest (or idle)",
                "parameters": [_param("job", "query", {"type": "string"}, "Token from POST .../sync")],
                "responses": {"200": _json(job_ref, "Job state"), **_errors(401, 404)},
            },
        },
        "/api/v1/devices/scan": {
            "post": {
                "summary": "Scan for wearables (blocks for the scan time)",
                "requestBody": {
                    "required": False,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {"seconds": {"type": "number", "minimum": 1, "maximum": 30}},
                            }
                        }
                    },
                },
                "responses": {
                    "200": _json(_array_of("devices", _ref("ScanResult")), "Found"),
                    **_errors(400, 401, 403, 422),
                    "503": _json(_ERROR, "No Bluetooth collector in this process (it runs in `tracker run`)"),
                },
            }
        },
        "/api/v1/devices/pair": {
            "post": {
                "summary": "Pair a device (from a scan) for a person",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["address"],
                                "properties": {"address": {"type": "string"}, "person": {"type": "integer"}},
                            }
                        }
                    },
                },
                "responses": {
                    "201": _json(device_ref, "Paired"),
                    **_errors(400, 401, 403, 404, 422),
                    "503": _json(_ERROR, "No Bluetooth collector in this process (it runs in `tracker run`)"),
                },
            }
        },
    }
