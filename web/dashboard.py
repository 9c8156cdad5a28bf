"""Overview, Sleep, Evidence and Devices pages: thin views over `tracker.reports` and `tracker.devices`.

Each view picks the signed-in account's selected person, asks one service method for a frozen result
(`Reports.overview`, `.sleep`, `.evidence`; `Devices.list`) and renders it; charts fetch their data
from /api/v1 (web/static/charts.js). Nothing here opens a database session.

Devices: Scan, Pair, Sync now and Unpair go through `tracker.devices.require_collector()`, the
collector port the composition root plugs in (`tracker run`); in any other process (`tracker serve`
without Bluetooth, tests) `devices.collector` is None and the page says where Bluetooth runs. "Sync
now" starts a background job (web.sync_jobs) and returns at once; with scripts on, the page polls
/api/v1/devices/<id>/sync-status, without them it shows the job's state on reload.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy.exc

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from tracker.devices import DeviceInfo, parse_auth_key
from tracker.errors import Conflict, NotFound, UserError
from tracker.model import SessionStatus
from tracker.ports import ScanResult
from web.inputs import parse_id
from web.context import people, person_by_id, selected_person, services, user_id
from web.evidence_page import page as evidence_page
from web.hypnogram import HEIGHT, WIDTH, hypnogram
from web.sync_jobs import SyncJob, SyncJobs

logger = logging.getLogger(__name__)

bp = Blueprint("dashboard", __name__)
UPCOMING = 5
DAY_MS = 86_400_000
SCAN_SECONDS_DEFAULT = 8
SCAN_SECONDS_MAX = 30
NO_COLLECTOR = "Bluetooth runs in `tracker run`: scanning, pairing and syncing need that process."


@bp.get("/")
def overview() -> str:
    person = selected_person()
    result = upcoming = None
    if person is not None:
        result = services().reports.overview(person.id)
        upcoming = services().sessions.list(
            person.id, user_id=user_id(), statuses=[SessionStatus.PLANNED], from_ms=services().clock.now_ms(),
            limit=UPCOMING,
        )  # fmt: skip
    devices = services().devices
    mine = [d for d in devices.list(user_id=user_id()) if person is not None and d.person_id == person.id]
    device_values = services().device_metrics.summary(person.id) if person is not None else ()
    return render_template("overview.html", person=person, result=result, upcoming=upcoming or [],
                           bluetooth_problem=devices.bluetooth_problem(), device_errors=_device_errors(mine),
                           device_values=device_values)  # fmt: skip


def _device_errors(found: list) -> list[tuple[object, int, str]]:
    """(device, started_ms, error) of each device's last failed run, for the Devices page and the overview."""
    errors = services().devices.last_errors([d.id for d in found])
    return [(d, *errors[d.id]) for d in found if d.id in errors]


BROWSE_NIGHTS = 7


def _date_arg(name: str) -> dt.date | None:
    text = request.args.get(name, "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        abort(400, description=f"{name} must be a date YYYY-MM-DD, not {text!r}")


@bp.get("/sleep")
def sleep() -> str:
    """A week of nights ending on `?until=YYYY-MM-DD` (default: the last recorded night), newest first, each
    with its hypnogram and links to the sessions the day before; previous/next week and a date picker."""
    person = selected_person()
    result = services().reports.sleep(person.id) if person else None
    if not person or not result or not result.nights:
        return render_template("sleep.html", person=person, result=result, rows=[], width=WIDTH, height=HEIGHT)
    latest = result.nights[-1].night.label
    until = min(_date_arg("until") or latest, latest)
    first = until - dt.timedelta(days=BROWSE_NIGHTS - 1)
    zone = ZoneInfo(person.tz)
    # nights are labelled by the morning they end; their spans start the evening before (two days of slack)
    start_ms = int(dt.datetime.combine(first - dt.timedelta(days=2), dt.time(), zone).timestamp() * 1000)
    end_ms = int(dt.datetime.combine(until, dt.time(14), zone).timestamp() * 1000)
    reports = services().reports
    nights = [n for n in reports.nights_between(person.id, person.tz, start_ms, end_ms) if first <= n.label <= until]
    spans = reports.sleep_spans(person.id, start_ms, end_ms)
    done = services().sessions.list(person.id, user_id=user_id(), statuses=[SessionStatus.DONE],
                                    from_ms=start_ms - DAY_MS, to_ms=end_ms)  # fmt: skip
    before: dict[dt.date, list[Any]] = {}
    for s in done:  # a session on day D comes before the night labelled D + 1
        before.setdefault(dt.datetime.fromtimestamp(s.start_ms / 1000, zone).date() + dt.timedelta(days=1), []).append(s)
    rows = [(n, hypnogram(n.label, spans, person.tz), before.get(n.label, [])) for n in reversed(nights)]
    earlier = until - dt.timedelta(days=BROWSE_NIGHTS)
    later = until + dt.timedelta(days=BROWSE_NIGHTS) if until < latest else None
    return render_template(
        "sleep.html", person=person, result=result, rows=rows, width=WIDTH, height=HEIGHT, until=until, first=first,
        earlier=earlier, later=min(later, latest) if later else None, latest=latest,
    )  # fmt: skip


@bp.get("/evidence")
def evidence() -> str:
    person = selected_person()
    result = services().reports.evidence(person.id) if person else None
    view = computed_ms = None
    if result is not None:
        # the page reads the report as JSON (what GET /api/v1/report returns), so it shows nothing the JSON lacks
        reasons = {c.claim: c.unmeasured_reason for c in getattr(result, "claims", ()) if getattr(c, "unmeasured_reason", None)}
        keys = {c.claim: c.key for c in getattr(result, "claims", ())}
        view = evidence_page(result.report.to_dict(), reasons, keys)
        computed_ms = result.computed_ms
    return render_template("evidence.html", person=person, view=view, computed_ms=computed_ms)


# -- devices -----------------------------------------------------------------------------------------


def sync_jobs() -> SyncJobs:
    jobs: SyncJobs = current_app.extensions["sync_jobs"]  # made by create_app
    return jobs


def owned_device(device_id: int) -> DeviceInfo:
    """The account's device `device_id` (by id only), else 404: another account's id is "not found"."""
    info = services().devices.get(device_id, user_id=user_id())
    if info.id != device_id:  # `get` also matches names and addresses; a URL id must mean the id
        raise NotFound(f"no device {device_id}")
    return info


def _render_devices(scan: list[ScanResult] | None = None, error: str | None = None, status: int = 200,
                    scan_seconds: int = SCAN_SECONDS_DEFAULT) -> tuple[str, int]:  # fmt: skip
    person = selected_person()
    service = services().devices
    account_devices = service.list(user_id=user_id())
    found = [d for d in account_devices if d.person_id == person.id] if person else []
    jobs = {d.id: sync_jobs().latest(d.id) for d in found}
    # Scan results that are already paired say to whom (pairing again moves the device to another person).
    paired = {d.address.upper(): d.person_name or "" for d in account_devices}
    body = render_template(
        "devices.html", person=person, devices=found, jobs=jobs, collector=service.collector is not None,
        no_collector=NO_COLLECTOR, scan=scan, error=error, people=people(), scan_seconds=scan_seconds,
        scan_seconds_max=SCAN_SECONDS_MAX, paired=paired, bluetooth_problem=service.bluetooth_problem(),
        last_errors=service.last_errors([d.id for d in found]),
    )  # fmt: skip
    return body, status


def _back_to_devices() -> ResponseReturnValue:
    person = selected_person()
    return redirect(url_for("dashboard.devices", person=person.id if person else None))


@bp.get("/devices")
def devices() -> tuple[str, int]:
    """The selected person's paired devices (`Devices.list` is scoped by account, filtered by person here)."""
    return _render_devices()


def _collector_message(exc: Exception) -> str:
    if isinstance(exc, UserError):
        return str(exc)
    logger.exception("Bluetooth call failed")
    if isinstance(exc, sqlalchemy.exc.SQLAlchemyError):  # its text holds SQL and values: the log has it
        return "The device answered, but storing it failed; the details are in the server's log."
    return f"Bluetooth failed: {type(exc).__name__}: {exc}"


def _collector_status(exc: Exception) -> int:
    if isinstance(exc, Conflict):
        return 409
    return 400 if isinstance(exc, UserError) else 502


@bp.post("/devices/scan")
def scan() -> tuple[str, int]:
    text = request.form.get("seconds", "").strip() or str(SCAN_SECONDS_DEFAULT)
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= SCAN_SECONDS_MAX:
        return _render_devices(error=f"Scan time must be a whole number of seconds, 1-{SCAN_SECONDS_MAX}.", status=422)
    if services().devices.collector is None:
        return _render_devices(error=NO_COLLECTOR, status=503)
    try:
        found = services().devices.require_collector().scan(float(text))
    except Exception as exc:  # the radio's errors are messages on this page, not error pages
        return _render_devices(error=_collector_message(exc), status=400 if isinstance(exc, UserError) else 502)
    return _render_devices(scan=found, scan_seconds=int(text))


@bp.post("/devices/pair")
def pair() -> ResponseReturnValue:
    address = request.form.get("address", "").strip()
    person_text = request.form.get("person", "").strip()
    if not address:
        return _render_devices(error="Enter the device's address (from a scan).", status=422)
    person_id = parse_id(person_text)
    if person_id is None:
        return _render_devices(error="Choose the person who wears the device.", status=422)
    person = person_by_id(person_id)  # 404 for another account's person
    if services().devices.collector is None:
        return _render_devices(error=NO_COLLECTOR, status=503)
    try:
        auth_key = parse_auth_key(request.form.get("auth_key"))  # a band's key; never echoed back
        services().devices.check_pairable(address, person.id)  # another account's device: refused before any radio work
        collector = services().devices.require_collector()
        device_id = collector.pair(address, person.id, auth_key) if auth_key else collector.pair(address, person.id)
    except Exception as exc:
        return _render_devices(error=_collector_message(exc), status=_collector_status(exc))
    info = services().devices.get(device_id)
    flash(f"Paired {info.name} ({info.address}) for {person.name}.")
    return redirect(url_for("dashboard.devices", person=person.id))


@bp.post("/devices/<int:device_id>/sync")
def sync(device_id: int) -> ResponseReturnValue:
    """No-script fallback of "Sync now": start the job and come back to the page, which shows its state."""
    info = owned_device(device_id)
    if services().devices.collector is None:
        return _render_devices(error=NO_COLLECTOR, status=503)
    start_sync(info)
    flash(f"Sync of {info.name} started.")
    return _back_to_devices()


def start_sync(info: DeviceInfo) -> SyncJob:
    """Start (or join) the device's background sync; raises UserError when it cannot start."""
    if not info.paired:
        raise UserError(f"{info.name} is unpaired; pair it again to sync")
    collector = services().devices.require_collector()
    return sync_jobs().start(info.id, user_id(), collector.sync)


@bp.post("/devices/<int:device_id>/unpair")
def unpair(device_id: int) -> ResponseReturnValue:
    info = owned_device(device_id)
    if not info.paired:
        abort(409, description=f"{info.name} is already unpaired")
    services().devices.unpair(info.id, user_id=user_id())
    flash(f"Unpaired {info.name}. Its data stays; pair it again to resume syncing.")
    return _back_to_devices()
