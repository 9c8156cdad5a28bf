"""The OpenAPI description of /api/v1/import-watches (web.api_watches), merged into web.openapi's document."""

from __future__ import annotations

from typing import Any

from web.openapi import _ERROR, _errors, _json, _param, _ref

_TIME = {"type": ["string", "null"], "description": "ISO 8601, UTC; null: not yet"}


def import_watch_schemas() -> dict[str, Any]:
    return {
        "ImportWatch": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "person_id": {"type": "integer"},
                "person": {"type": "string"},
                "path": {"type": "string", "description": "absolute, with symlinks and '..' resolved"},
                "created": {"type": "string", "description": "ISO 8601, UTC"},
                "last_check": _TIME,
                "last_import": _TIME,
                "last_result": {"type": ["string", "null"],
                                "description": "e.g. '2 files imported: 1440 new of 1500 rows'"},
                "last_error": {"type": ["string", "null"],
                               "description": "what the latest check found wrong; null: fine"},
                "url": {"type": "string"},
            },
        },
    }


def import_watch_paths() -> dict[str, Any]:
    watch = _ref("ImportWatch")
    watch_id = _param("watch_id", "path", {"type": "integer"}, "Watched path id", required=True)
    no_roots = "Bad input, or no [import] watch_roots on this server (then nothing can be added)"
    return {
        "/api/v1/import-watches": {
            "get": {
                "summary": "Paths `tracker run` re-imports when they change (a Gadgetbridge export, a FIT folder)",
                "parameters": [_param("person", "query", {"type": "integer"}, "Only this person's")],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "watch_roots": {
                                    "type": "array", "items": {"type": "string"},
                                    "description": "paths must lie under one of these; empty: none may be added",
                                },
                                "interval_min": {"type": "integer", "description": "how often they are checked"},
                                "watches": {"type": "array", "items": watch},
                            },
                        },
                        "Watched paths",
                    ),
                    **_errors(400, 401, 404),
                },
            },
            "post": {
                "summary": "Watch a file or folder for a person (only under [import] watch_roots, symlinks resolved)",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["path"],
                                "properties": {
                                    "path": {"type": "string", "description": "absolute", "maxLength": 1024},
                                    "person": {"type": "integer",
                                               "description": "optional when the account manages one"},
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "201": {
                        **_json(watch, "Watched"),
                        "headers": {"Location": {"schema": {"type": "string"}, "description": "The watch's URL"}},
                    },
                    **_errors(401, 403, 404, 409),
                    "400": _json(_ERROR, no_roots),
                    "422": _json(_ERROR, "The path is not absolute, or outside [import] watch_roots (errors.path)"),
                },
            },
        },
        "/api/v1/import-watches/{watch_id}": {
            "parameters": [watch_id],
            "get": {
                "summary": "One watched path",
                "responses": {"200": _json(watch, "Watched path"), **_errors(401, 404)},
            },
            "delete": {
                "summary": "Stop watching (what it imported stays; each import run can be undone)",
                "responses": {"200": _json(watch, "No longer watched"), **_errors(401, 403, 404)},
            },
        },
    }  # fmt: skip
