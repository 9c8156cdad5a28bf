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

from tracker.devices import DeviceInfo, parse_auth_key
from tracker.errors import Conflict, UserError
from tracker.model import SessionStatus
from tracker.people import PersonInfo
from tracker.ports import CollectorPort
from tracker.sessions import SELF_REPORTS, ValidationError
from tracker.timefmt import TimeFormatError, check_plausible_ms, parse_iso_ms, zone
from web.context import people, person_by_id, services, user_id
from web.dashboard import NO_COLLECTOR, SCAN_SECONDS_DEFAULT, SCAN_SECONDS_MAX, owned_device, start_sync, sync_jobs
from web.inputs import MAX_ID, loads_bounded, parse_id
from web.downsample import MAX_POINTS
from web.openapi import openapi_document
from web.security import has_bearer
from web.session_input import as_changes, fields_from_json, session_json
from web.sync_jobs import SyncJob

bp = Blueprint("api", __name__, url_prefix="/api/v1")
docs_bp = Blueprint("api_docs", __name__, url_prefix="/api")

MAX_SESSIONS = 5000
SESSIONS_PAGE = 500  # default page of GET /sessions; `next_cursor` fetches the following one


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
    """The body as a JSON object: bounded size and depth, no NaN/Infinity (web.inputs), else 400."""
    if not request.is_json:
        abort(400, description="send a JSON object with Content-Type: application/json")
    try:
        data = loads_bounded(request.get_data(cache=True))
    except ValueError as exc:
        abort(400, description=f"send a JSON object with Content-Type: application/json ({exc})")
    if not isinstance(data, dict):
        abort(400, description="send a JSON object with Content-Type: application/json")
    return data


def _time_arg(name: str) -> int | None:
    """A query-string time: epoch milliseconds, or ISO 8601 with an offset."""
    text = request.args.get(name, "").strip()
    if not text:
        return None
    try:
        t_ms = int(text) if re.fullmatch(r"-?[0-9]{1,19}", text) else parse_iso_ms(text)
        return check_plausible_ms(t_ms, name)
    except TimeFormatError as exc:
        abort(400, description=f"{name}: {exc} (ISO 8601 with an offset, or epoch milliseconds)")


def _int_arg(name: str, lo: int, hi: int) -> int | None:
    text = request.args.get(name, "").strip()
    if not text:
        return None
    if not re.fullmatch(r"[0-9]{1,19}", text) or not lo <= int(text) <= hi:
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
    person_id = value if isinstance(value, int) and not isinstance(value, bool) else None
    if isinstance(value, str):
        person_id = parse_id(value)
    if person_id is None or not 0 < person_id <= MAX_ID:
        abort(400, description="person must be a numeric id")
    return person_by_id(person_id)


# -- people ------------------------------------------------------------------------------------------


@bp.get("/people")
def list_people() -> Response:
    return jsonify({"people": [p.to_dict() | {"id": p.id} for p in people()]})


@bp.post("/people")
def create_person() -> tuple[Response, int]:
    """A new person in this account; the name must be new here only (other accounts are never consulted)."""
    data = _json_object()
    name, tz = data.get("name"), data.get("timezone", services().config.people.default_timezone)
    errors = {key: f"{key} must be a string" for key, value in (("name", name), ("timezone", tz))
              if not isinstance(value, str)}  # fmt: skip
    if isinstance(tz, str):
        try:
            zone(tz)
        except TimeFormatError as exc:
            errors["timezone"] = str(exc)
    if errors:
        raise ValidationError(errors)
    try:
        person = services().people.add(name, tz, user_name=g.user.name)
    except Conflict:
        raise  # 409, naming this account's clash only
    except UserError as exc:  # an empty or overlong name
        raise ValidationError({"name": str(exc)}) from None
    return jsonify(person.to_dict()), 201


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
    cursor = _cursor_arg()
    limit = _int_arg("limit", 1, MAX_SESSIONS) or SESSIONS_PAGE
    found = services().sessions.list(
        person.id if person else None,
        user_id=user_id(),
        statuses=statuses,
        from_ms=_time_arg("from"),
        to_ms=_time_arg("to"),
        limit=limit + 1,  # one more than asked tells whether another page follows
        after=cursor,
    )
    page = found[:limit]
    following = f"{page[-1].start_ms}.{page[-1].id}" if len(found) > limit else None
    return jsonify({"sessions": [session_json(s) for s in page], "next_cursor": following})


def _cursor_arg() -> tuple[int, int] | None:
    """The `cursor` of GET /sessions: "<start_ms>.<id>" of the previous page's last session (`next_cursor`)."""
    text = request.args.get("cursor", "").strip()
    if not text:
        return None
    start, _, ident = text.partition(".")
    if not (start.lstrip("-").isascii() and start.lstrip("-").isdigit() and ident.isascii() and ident.isdigit()):
        abort(400, description="cursor: use the next_cursor of the previous page")
    value = (int(start), int(ident))
    if not all(-(2**63) <= v < 2**63 for v in value):
        abort(400, description="cursor: out of range")
    return value


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


# -- devices ------------------------------------------------------------------------------------------


def _device_json(d: DeviceInfo) -> dict[str, Any]:
    return {"id": d.id, "person_id": d.person_id, **d.to_dict()}


def _collector() -> CollectorPort:
    collector = services().devices.collector
    if collector is None:
        abort(503, description=NO_COLLECTOR)
    return collector


def _job_json(job: SyncJob, device: DeviceInfo) -> dict[str, Any]:
    body = job.to_dict()
    body["status_url"] = url_for("api.sync_status", device_id=device.id, job=job.token)
    return body


@bp.get("/devices")
def list_devices() -> Response:
    person = _person(request.args.get("person"), required=False)
    found = services().devices.list(user_id=user_id())
    if person is not None and request.args.get("person"):
        found = [d for d in found if d.person_id == person.id]
    return jsonify({"devices": [_device_json(d) for d in found]})


@bp.delete("/devices/<int:device_id>")
def unpair_device(device_id: int) -> Response:
    info = owned_device(device_id)
    return jsonify(_device_json(services().devices.unpair(info.id, user_id=user_id())))


@bp.post("/devices/<int:device_id>/sync")
def sync_device(device_id: int) -> tuple[Response, int, dict[str, str]]:
    """Start a background sync (or join the running one); poll the status URL for the outcome."""
    info = owned_device(device_id)
    _collector()
    job = start_sync(info)
    body = _job_json(job, info)
    return jsonify(body), 202, {"Location": body["status_url"]}


@bp.get("/devices/<int:device_id>/sync-status")
def sync_status(device_id: int) -> Response:
    """A job's state (`?job=`), else the device's latest job, else "idle" with the last stored sync."""
    info = owned_device(device_id)
    jobs = sync_jobs()
    token = request.args.get("job", "").strip()
    job = jobs.get(token) if token else jobs.latest(info.id)
    if token and (job is None or job.device_id != info.id or job.user_id != user_id()):
        abort(404, description=f"no sync job {token!r} for device {device_id}")
    if job is None:
        return jsonify({"job": None, "device_id": info.id, "state": "idle", "last_sync": info.to_dict()["last_sync"],
                        "last_sync_status": info.last_sync_status})  # fmt: skip
    return jsonify(_job_json(job, info))


@bp.post("/devices/scan")
def scan_devices() -> Response:
    data = _json_object() if request.content_length else {}
    seconds = data.get("seconds", SCAN_SECONDS_DEFAULT)
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 1 <= seconds <= SCAN_SECONDS_MAX:
        raise ValidationError({"seconds": f"seconds must be a number 1-{SCAN_SECONDS_MAX}"})
    found = _collector().scan(float(seconds))
    return jsonify({"devices": [r.to_dict() for r in found]})


@bp.post("/devices/pair")
def pair_device() -> tuple[Response, int]:
    data = _json_object()
    address = data.get("address")
    if not isinstance(address, str) or not address.strip():
        raise ValidationError({"address": "address is required (from a scan)"})
    person = _person(data.get("person"))
    assert person is not None
    auth_key = data.get("auth_key")  # a band's key: stored, never in a response
    if auth_key is not None and not isinstance(auth_key, str):
        raise ValidationError({"auth_key": "auth_key must be 32 hexadecimal digits"})
    key = parse_auth_key(auth_key)
    services().devices.check_pairable(address, person.id)  # 409 before any radio work (another account's device)
    device_id = _collector().pair(address.strip(), person.id, key) if key else _collector().pair(address.strip(), person.id)
    return jsonify(_device_json(services().devices.get(device_id))), 201


# -- OpenAPI -----------------------------------------------------------------------------------------


@docs_bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document(max_points=MAX_POINTS))


from web import api_charts, api_watches  # noqa: E402,F401  (their routes join this blueprint; they import the helpers above)
