"""Per-request context: the tracker services, the signed-in account, its people and the selected person.

Every query a view makes is scoped to `g.user.id`; a person or session of another account is "not found"
(404), never "forbidden", so ids of other accounts' data cannot be probed.
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, g, request, session
from werkzeug.exceptions import HTTPException

from tracker.bootstrap import Tracker
from tracker.people import PersonInfo, UserInfo
from web.inputs import parse_id


def services() -> Tracker:
    tracker: Tracker = current_app.extensions["tracker"]
    return tracker


def current_user() -> UserInfo | None:
    user: UserInfo | None = g.get("user")
    return user


def user_id() -> int:
    user = current_user()
    if user is None:  # views behind sign-in only; reaching here is a bug, not a user's mistake
        raise RuntimeError("no signed-in user")
    return user.id


def people() -> list[PersonInfo]:
    """The people the signed-in account manages (cached for the request)."""
    if "people" not in g:
        g.people = services().people.list(user_id=user_id())
    result: list[PersonInfo] = g.people
    return result


def person_by_id(person_id: int) -> PersonInfo:
    for person in people():
        if person.id == person_id:
            return person
    abort(404, description=f"no person {person_id}")


def selected_person() -> PersonInfo | None:
    """`?person=ID` (remembered in the session cookie), else the remembered one, else the first."""
    mine = people()
    if not mine:
        return None
    wanted = request.args.get("person")
    if wanted is not None:
        person_id = parse_id(wanted)
        if person_id is None:
            abort(400, description="person must be a numeric id")
        person = person_by_id(person_id)
        session["person_id"] = person.id
        return person
    remembered = session.get("person_id")
    for person in mine:
        if person.id == remembered:
            return person
    return mine[0]


def template_context() -> dict[str, Any]:
    """What the layout needs on every page: the account's people and the selected one (for the picker)."""
    if current_user() is None:
        return {"nav_people": [], "nav_person": None}
    try:
        return {"nav_people": people(), "nav_person": selected_person()}
    except HTTPException:  # a bad ?person= on an error page: show the page without a selection
        return {"nav_people": people(), "nav_person": None}
