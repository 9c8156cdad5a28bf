"""The fair-test page: plan an n-of-1 trial (massage vs rest, randomised per week) and see its state and result.

The form takes two weekly slots in the person's zone, the number of weeks, the session length and an
optional first day; the trial service validates everything. A mistake re-shows the form with its
message: 400 for bad input, 409 for a clash (an overlapping session, a trial still running).
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from tracker.analysis.trial import MIN_WEEKS_FOR_ALPHA
from tracker.errors import Conflict, UserError
from web.context import selected_person, services, user_id

bp = Blueprint("trials", __name__, url_prefix="/trial")
DEFAULTS = {"weeks": "8", "slot1": "Tue 18:00", "slot2": "Fri 18:00", "minutes": "60", "start": ""}


def _int(form_value: str, name: str) -> int:
    try:
        return int(form_value.strip())
    except ValueError:
        raise UserError(f"{name} must be a whole number") from None


def _page(values: dict[str, str], error: str | None = None, status: int = 200) -> tuple[str, int]:
    person = selected_person()
    trial = services().trials.show(person.id, user_id=user_id()) if person else None
    endpoint = services().trials.endpoint_history(person.id, user_id=user_id()) if person else None
    return render_template("trial.html", person=person, trial=trial, values=values, error=error, endpoint=endpoint,
                           min_weeks=MIN_WEEKS_FOR_ALPHA), status  # fmt: skip


@bp.get("")
def show() -> ResponseReturnValue:
    return _page(dict(DEFAULTS))


@bp.post("")
def plan() -> ResponseReturnValue:
    person = selected_person()
    if person is None:
        abort(404, description="this account manages no people yet")
    values = {k: request.form.get(k, "") for k in DEFAULTS}
    try:
        start = values["start"].strip()
        try:
            first_day = dt.date.fromisoformat(start) if start else None
        except ValueError:
            raise UserError(f"first day {start!r} is not a date") from None
        services().trials.plan_trial(
            person.id, _int(values["weeks"], "weeks"), f"{values['slot1']},{values['slot2']}",
            minutes=_int(values["minutes"], "minutes"), first_day=first_day, user_id=user_id(),
        )  # fmt: skip
    except UserError as exc:
        return _page(values, str(exc), 409 if isinstance(exc, Conflict) else 400)
    flash("Trial planned: the allocation and its seed are stored, and every session is in your calendar.")
    return redirect(url_for("trials.show", person=person.id))
