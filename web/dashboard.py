"""Overview, Sleep, Evidence and Devices pages: thin views over services the composition root plugs in.

Extension points (`tracker.extras`, set by `tracker.cli` before `create_app` or at any time after):
- `extras["reports"]`: `overview(person_id)`, `session_detail(session_id)`, `nights(person_id)`,
  `evidence(person_id)`; each returns a result object (dataclass, mapping, or anything with `to_dict()`),
  or None when there is nothing to show yet.
- `extras["devices"]`: `list(user_id=...)` → the account's devices (objects with `person_id` and
  `to_dict()`, as `tracker.devices.Devices`); the page keeps the selected person's.
While a service is missing, or returns None or an empty collection, the page shows its "no data yet"
state — never made-up numbers. Until dedicated templates exist, results are shown by the generic
`_show.html` macro (dicts as definition lists, lists of dicts as tables).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, render_template

from tracker.model import SessionStatus
from tracker.people import PersonInfo
from web.context import extra, selected_person, services, user_id
from web.present import is_empty

bp = Blueprint("dashboard", __name__)
UPCOMING = 5


def call_extra(service: str, method: str, *args: Any) -> Any | None:
    """`tracker.extras[service].method(*args)`, or None while that service is not plugged in."""
    target = extra(service)
    fn: Callable[..., Any] | None = getattr(target, method, None) if target is not None else None
    if fn is None:
        return None
    result = fn(*args)
    return None if is_empty(result) else result


def _page(template: str, person: PersonInfo | None, service: str, method: str, **context: Any) -> str:
    result = call_extra(service, method, person.id) if person else None
    return render_template(template, person=person, result=result, plugged=extra(service) is not None, **context)


@bp.get("/")
def overview() -> str:
    person = selected_person()
    upcoming = []
    if person is not None:
        upcoming = services().sessions.list(
            person.id,
            user_id=user_id(),
            statuses=[SessionStatus.PLANNED],
            from_ms=services().clock.now_ms(),
            limit=UPCOMING,
        )
    return _page("overview.html", person, "reports", "overview", upcoming=upcoming)


@bp.get("/sleep")
def sleep() -> str:
    return _page("sleep.html", selected_person(), "reports", "nights")


@bp.get("/evidence")
def evidence() -> str:
    return _page("evidence.html", selected_person(), "reports", "evidence")


@bp.get("/devices")
def devices() -> str:
    """The selected person's paired devices; `Devices.list` is scoped by account, so filter by person here."""
    person = selected_person()
    service = extra("devices")
    found = None
    if person is not None and service is not None:
        # keyword call: a service whose list() takes something else fails loudly instead of mis-scoping
        found = [d for d in service.list(user_id=user_id()) if getattr(d, "person_id", None) == person.id] or None
    return render_template("devices.html", person=person, result=found, plugged=service is not None)
