"""The OpenAPI 3.1 description of /api/v1, written by hand next to the views it describes.

tests/web/test_openapi.py checks that every registered /api/v1 rule and method appears here, so a new
endpoint without documentation fails the suite.
"""

from __future__ import annotations

from typing import Any

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
_TIME = {"type": "string", "description": "epoch milliseconds, or ISO 8601 with an offset"}
_REPORT = {"type": ["integer", "null"], "minimum": 0, "maximum": 10}


def openapi_document(max_points: int) -> dict[str, Any]:
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
                }
            },
            "/api/v1/sessions": {
                "get": {
                    "summary": "Sessions, oldest first",
                    "parameters": [
                        _param("person", "query", {"type": "integer"}, "Person id (default: all of the account's)"),
                        _param("status", "query", {"type": "string"}, "Comma-separated: planned,done,cancelled"),
                        _param("from", "query", _TIME, "Sessions ending after this time"),
                        _param("to", "query", _TIME, "Sessions starting before this time"),
                        _param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 5000}, "At most"),
                    ],
                    "responses": {
                        "200": _json(
                            {"type": "object", "properties": {"sessions": {"type": "array", "items": session_ref}}},
                            "Sessions",
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
