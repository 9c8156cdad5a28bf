"""The People page: the signed-in account's people, and a form to add one (name and time zone).

`POST /api/v1/people` does the same for scripts (web.api). A name needs to be new only within the
account: another account may have its own "Mum", and a clash message speaks only of this account
(`People.add` reads no other account's rows to decide).
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from tracker.errors import Conflict, UserError
from tracker.timefmt import TimeFormatError, zone
from web.context import current_user, people, services

bp = Blueprint("people", __name__, url_prefix="/people")


def _page(values: dict[str, str], errors: dict[str, str] | None = None, status: int = 200) -> tuple[str, int]:
    return render_template("people.html", people=people(), values=values, errors=errors or {}), status


@bp.get("")
def index() -> tuple[str, int]:
    return _page({"tz": services().config.people.default_timezone})


@bp.post("")
def add() -> ResponseReturnValue:
    values = {"name": request.form.get("name", ""), "tz": request.form.get("tz", "").strip()}
    tz = values["tz"] or services().config.people.default_timezone
    try:
        zone(tz)
    except TimeFormatError as exc:
        return _page(values, {"tz": f"{exc} (e.g. Europe/Berlin)"}, 422)
    user = current_user()
    assert user is not None  # behind sign-in
    try:
        person = services().people.add(values["name"], tz, user_name=user.name)
    except Conflict as exc:
        return _page(values, {"name": str(exc)}, 409)
    except UserError as exc:  # an empty or overlong name
        return _page(values, {"name": str(exc)}, 422)
    flash(f"Added {person.name} ({person.tz}).")
    return redirect(url_for("dashboard.overview", person=person.id))
