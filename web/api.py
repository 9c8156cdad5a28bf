"""The REST API under /api/v1 (JSON in, JSON out) and its OpenAPI document at /api/openapi.json.

Authentication: `Authorization: Bearer <token>` (made with `tracker token create`), or the browser's
session cookie — then writes need the CSRF token in the `X-CSRFToken` header (web.security).
Errors are `{"error": message}` (plus `errors` per field on 422): 400 bad input, 401 no or bad
credentials, 403 CSRF, 404 missing or another account's, 409 conflict, 422 validation.
Every query is scoped to the authenticated account's people.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, abort, g, jsonify, request, url_for

from tracker.model import SessionStatus
from tracker.people import PersonInfo
from tracker.sessions import SELF_REPORTS, ValidationError
from tracker.timefmt import TimeFormatError, parse_iso_ms
from tracker import queries
from web.context import people, person_by_id, services, user_id
from web.downsample import MAX_POINTS, clamp_points, lttb
from web.openapi import openapi_document
from web.security import has_bearer
from web.session_input import as_changes, fields_from_json, session_json

bp = Blueprint("api", __name__, url_prefix="/api/v1")
docs_bp = Blueprint("api_docs", __name__, url_prefix="/api")

DEFAULT_SPAN_MS = 7 * 24 * 3600 * 1000  # a chart with no range asked for shows the last week of data
# Above this many rows in the range, the database averages into buckets first (see queries.read_samples),
# 10 buckets per output point so LTTB still has shape to choose from.
PREAGGREGATE_ROWS = 200_000
BUCKETS_PER_POINT = 10
MAX_SESSIONS = 5000


def _unauthorized(message: str) -> Response:
    response = jsonify({"error": message})
    response.status_code = 401
    response.headers["WWW-Authenticate"] = 'Bearer realm="tracker"'
    return response


@bp.before_request
def authenticate() -> Response | None:
    if has_bearer():
        token = request.headers["Authorization"].partition(" ")[2].strip()
        g.user = services().users.by_token(token) if token else None
        if g.user is None:
            return _unauthorized("invalid API token")
        g.pop("people", None)  # the token's account decides, never a cookie sent alongside
        return None
    if g.get("user") is None:
        return _unauthorized("sign in, or send Authorization: Bearer <token> (tracker token create)")
    return None


# -- request parsing ---------------------------------------------------------------------------------


def _json_object() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(400, description="send a JSON object with Content-Type: application/json")
    return data


def _time_arg(name: str) -> int | None:
    """A query-string time: epoch milliseconds, or ISO 8601 with an offset."""
    text = request.args.get(name, "").strip()
    if not text:
        return None
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    try:
        return parse_iso_ms(text)
    except TimeFormatError as exc:
        abort(400, description=f"{name}: {exc} (or epoch milliseconds)")


def _int_arg(name: str, lo: int, hi: int) -> int | None:
    text = request.args.get(name, "").strip()
    if not text:
        return None
    if not re.fullmatch(r"\d+", text) or not lo <= int(text) <= hi:
        abort(400, description=f"{name} must be a whole number {lo}-{hi}")
    return int(text)


def _person(value: Any, *, required: bool = True) -> PersonInfo | None:
    """The account's person with id `value`; when absent, its only person (else 400 when required)."""
    if value is None or value == "":
        mine = people()
        if len(mine) == 1:
            return mine[0]
        if not required:
            return None
        if not mine:
            abort(404, description="this account manages no people yet (tracker person add --user)")
        abort(400, description="person is required (this account manages several; see GET /api/v1/people)")
    if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str) and value.isdigit())):
        abort(400, description="person must be a numeric id")
    return person_by_id(int(value))


# -- people ------------------------------------------------------------------------------------------


@bp.get("/people")
def list_people() -> Response:
    return jsonify({"people": [p.to_dict() | {"id": p.id} for p in people()]})


# -- sessions ----------------------------------------------------------------------------------------


@bp.get("/sessions")
def list_sessions() -> Response:
    person = _person(request.args.get("person"), required=False)
    statuses = None
    if request.args.get("status"):
        names = [s.strip() for s in request.args["status"].split(",") if s.strip()]
        bad = [s for s in names if s not in tuple(SessionStatus)]
        if bad:
            abort(400, description=f"unknown status {', '.join(bad)} (planned, done, cancelled)")
        statuses = [SessionStatus(s) for s in names]
    found = services().sessions.list(
        person.id if person else None,
        user_id=user_id(),
        statuses=statuses,
        from_ms=_time_arg("from"),
        to_ms=_time_arg("to"),
        limit=_int_arg("limit", 1, MAX_SESSIONS) or MAX_SESSIONS,
    )
    return jsonify({"sessions": [session_json(s) for s in found]})


@bp.post("/sessions")
def create_session() -> tuple[Response, int, dict[str, str]]:
    data = _json_object()
    person = _person(data.get("person"))
    assert person is not None
    fields = fields_from_json(data, person.tz)
    info = services().sessions.create(person.id, fields, user_id=user_id())
    return jsonify(session_json(info)), 201, {"Location": url_for("api.get_session", session_id=info.id)}


@bp.get("/sessions/<int:session_id>")
def get_session(session_id: int) -> Response:
    return jsonify(session_json(services().sessions.get(session_id, user_id=user_id())))


@bp.patch("/sessions/<int:session_id>")
def update_session(session_id: int) -> Response:
    data = _json_object()
    if "person" in data:
        raise ValidationError({"person": "a session cannot move to another person; cancel it and create one"})
    sessions = services().sessions
    current = sessions.get(session_id, user_id=user_id())
    fields = fields_from_json(data, current.tz, base=current.fields)
    return jsonify(session_json(sessions.update(session_id, user_id=user_id(), **as_changes(fields))))


@bp.delete("/sessions/<int:session_id>")
def cancel_session(session_id: int) -> Response:
    """Cancel (kept, greyed in the list, left out of exports and analysis) rather than erase."""
    return jsonify(session_json(services().sessions.cancel(session_id, user_id=user_id())))


@bp.post("/sessions/<int:session_id>/done")
def complete_session(session_id: int) -> Response:
    data = _json_object() if request.content_length else {}
    unknown = set(data) - set(SELF_REPORTS)
    errors = {k: "unknown field (self-reports only)" for k in sorted(unknown)}
    for name in set(data) & set(SELF_REPORTS):
        value = data[name]
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10):
            errors[name] = f"{name.replace('_', ' ')} must be a whole number 0-10 or null"
    if errors:
        raise ValidationError(errors)
    info = services().sessions.complete(session_id, user_id=user_id(), **data)
    return jsonify(session_json(info))


# -- samples (charts) --------------------------------------------------------------------------------


@bp.get("/samples")
def samples() -> Response:
    """One series of the person's samples in [from, to), at most `max_points` (≤ 2000) points by LTTB."""
    person = _person(request.args.get("person"))
    assert person is not None
    kind = queries.SAMPLE_KINDS.get(request.args.get("kind", ""))
    if kind is None:
        abort(400, description=f"kind must be one of {', '.join(queries.SAMPLE_KINDS)}")
    max_points = clamp_points(_int_arg("max_points", 1, 1_000_000))
    db = services().sessionmaker
    from_ms, to_ms = _time_arg("from"), _time_arg("to")
    if from_ms is None or to_ms is None:
        extent = queries.sample_extent(db, person.id, kind)
        last = extent[1] + 1 if extent else services().clock.now_ms()
        to_ms = to_ms if to_ms is not None else last
        from_ms = from_ms if from_ms is not None else max(extent[0] if extent else 0, to_ms - DEFAULT_SPAN_MS)
    if to_ms <= from_ms:
        abort(400, description="to must be after from")
    total = queries.count_samples(db, person.id, kind, from_ms, to_ms)
    bucket_ms = None
    if total > PREAGGREGATE_ROWS:
        bucket_ms = max(1, -(-(to_ms - from_ms) // (max_points * BUCKETS_PER_POINT)))
    t_ms, values = queries.read_samples(db, person.id, kind, from_ms, to_ms, bucket_ms)
    t_ms, values = lttb(t_ms, values, max_points)
    return jsonify(
        {
            "person": person.id,
            "kind": kind.name,
            "from": from_ms,
            "to": to_ms,
            "total": total,
            "downsampled": len(t_ms) < total,
            "max_points": max_points,
            "x": t_ms.tolist(),
            "series": [{"name": kind.label, "unit": kind.unit, "values": values.tolist()}],
        }
    )


# -- OpenAPI -----------------------------------------------------------------------------------------


@docs_bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document(max_points=MAX_POINTS))
