"""Session pages: the list (planned, done, cancelled greyed), add, edit, cancel, mark done, detail.

Forms take the person's local date and time and a length in minutes; each invalid field gets its own
message (from `ValidationError.errors`), an overlap (Conflict) is shown at the top of the form. Every
lookup passes the signed-in account, so another account's session is a 404.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from tracker.errors import Conflict, UserError
from tracker.model import SessionKind, SessionStatus
from tracker.sessions import SELF_REPORTS, TECHNIQUES, SessionInfo, ValidationError
from web.context import selected_person, services, user_id
from web.present import local_time
from web.session_input import as_changes, fields_from_form, form_values, reports_from_form

bp = Blueprint("sessions", __name__, url_prefix="/sessions")
LIST_LIMIT = 500  # newest first; older ones stay reachable through the API and the CSV export

REPORT_LABELS = {
    "pain_before": "Pain before",
    "pain_after": "Pain after",
    "stress_before": "Stress before",
    "stress_after": "Stress after",
    "mood_before": "Mood before",
    "mood_after": "Mood after",
}


def _form(
    *, values: dict[str, str], errors: dict[str, str], session: SessionInfo | None, tz: str, status: int = 200
) -> tuple[str, int]:
    return (
        render_template(
            "sessions/form.html",
            values=values,
            errors=errors,
            session=session,
            tz=tz,
            techniques=TECHNIQUES,
            reports=REPORT_LABELS,
        ),
        status,
    )


def _errors_for(exc: UserError) -> tuple[dict[str, str], int]:
    """Field messages for the form, and the status to answer with."""
    if isinstance(exc, ValidationError):
        return dict(exc.errors), 422
    if isinstance(exc, Conflict):
        return {"_form": str(exc)}, 409
    return {"_form": str(exc)}, 400


FILTER_KINDS = {"massage": SessionKind.MASSAGE, "rest": SessionKind.REST}
FILTER_STATUSES = {"planned": SessionStatus.PLANNED, "done": SessionStatus.DONE, "cancelled": SessionStatus.CANCELLED}


@bp.get("")
def list_sessions() -> ResponseReturnValue:
    """The selected person's sessions, newest first; `?kind=massage|rest` and `?status=planned|done|cancelled`
    filter (the person picker chooses the person)."""
    person = selected_person()
    kind, status = request.args.get("kind", ""), request.args.get("status", "")
    if kind and kind not in FILTER_KINDS or status and status not in FILTER_STATUSES:
        abort(400, description="kind must be massage or rest; status must be planned, done or cancelled")
    found = []
    if person is not None:
        found = services().sessions.list(
            person.id, user_id=user_id(), newest_first=True, limit=LIST_LIMIT,
            kinds=[FILTER_KINDS[kind]] if kind else None, statuses=[FILTER_STATUSES[status]] if status else None,
        )  # fmt: skip
    return render_template(
        "sessions/list.html", person=person, sessions=found, now_ms=services().clock.now_ms(), limit=LIST_LIMIT,
        kind=kind, status=status,
    )  # fmt: skip


def _when(info: SessionInfo) -> str:
    return local_time(info.start_ms, info.tz, "%a %d %b %H:%M")


@bp.route("/new", methods=["GET", "POST"])
def new() -> ResponseReturnValue:
    person = selected_person()
    if person is None:
        abort(404, description="this account manages no people yet (tracker person add NAME --tz ZONE --user YOU)")
    if request.method == "GET":
        return _form(values=form_values(None, person.tz), errors={}, session=None, tz=person.tz)
    values = {k: request.form.get(k, "") for k in request.form}
    try:
        info = services().sessions.create(person.id, fields_from_form(request.form, person.tz), user_id=user_id())
    except UserError as exc:
        errors, status = _errors_for(exc)
        return _form(values=values, errors=errors, session=None, tz=person.tz, status=status)
    flash(f"Session {'planned' if info.status == 'planned' else 'logged'}.")
    return redirect(url_for("sessions.detail", session_id=info.id))


@bp.get("/<int:session_id>")
def detail(session_id: int) -> str:
    from tracker.reports import ROLLING_BEATS  # here, not at import: an idle server keeps scipy.stats unloaded

    info = services().sessions.get(session_id, user_id=user_id())
    return render_template(
        "sessions/detail.html",
        session=info,
        result=services().reports.session_detail(info.id, user_id=user_id()),
        reports=REPORT_LABELS,
        techniques=TECHNIQUES,
        rolling_beats=ROLLING_BEATS,
        now_ms=services().clock.now_ms(),
    )


@bp.route("/<int:session_id>/edit", methods=["GET", "POST"])
def edit(session_id: int) -> ResponseReturnValue:
    sessions = services().sessions
    info = sessions.get(session_id, user_id=user_id())
    if request.method == "GET":
        return _form(values=form_values(info.fields, info.tz), errors={}, session=info, tz=info.tz)
    values = {k: request.form.get(k, "") for k in request.form}
    try:
        fields = fields_from_form(request.form, info.tz)
        sessions.update(session_id, user_id=user_id(), **as_changes(fields))
    except UserError as exc:
        errors, status = _errors_for(exc)
        return _form(values=values, errors=errors, session=info, tz=info.tz, status=status)
    flash(f"Saved the changes to the session of {_when(sessions.get(session_id, user_id=user_id()))}.")
    return redirect(url_for("sessions.detail", session_id=session_id))


@bp.post("/<int:session_id>/cancel")
def cancel(session_id: int) -> ResponseReturnValue:
    info = services().sessions.cancel(session_id, user_id=user_id())
    flash(f"Cancelled the {info.kind} session of {_when(info)}; its planned captures are off. "
          "Open it to restore it.")  # fmt: skip
    return redirect(url_for("sessions.list_sessions"))


@bp.post("/<int:session_id>/restore")
def restore(session_id: int) -> ResponseReturnValue:
    try:
        info = services().sessions.restore(session_id, user_id=user_id())
    except UserError as exc:
        flash(f"Not restored: {exc}.")
        return redirect(url_for("sessions.detail", session_id=session_id))
    flash(f"Restored the {info.kind} session of {_when(info)} as planned; its captures are planned again.")
    return redirect(url_for("sessions.detail", session_id=session_id))


@bp.post("/<int:session_id>/delete")
def delete(session_id: int) -> ResponseReturnValue:
    info = services().sessions.delete(session_id, user_id=user_id())
    flash(f"Deleted the {info.kind} session of {_when(info)}. The heart data recorded around it is kept.")
    return redirect(url_for("sessions.list_sessions"))


@bp.route("/<int:session_id>/done", methods=["GET", "POST"])
def done(session_id: int) -> ResponseReturnValue:
    sessions = services().sessions
    info = sessions.get(session_id, user_id=user_id())
    errors: dict[str, str] = {}
    values = {n: "" if getattr(info.fields, n) is None else str(getattr(info.fields, n)) for n in SELF_REPORTS}
    if info.start_ms > services().clock.now_ms():
        flash(f"Not marked done: this session starts {_when(info)}. Mark it done once it has started.")
        return redirect(url_for("sessions.detail", session_id=session_id))
    if request.method == "POST":
        values = {n: request.form.get(n, "") for n in SELF_REPORTS}
        try:
            sessions.complete(session_id, user_id=user_id(), **reports_from_form(request.form))
        except UserError as exc:
            errors, status = _errors_for(exc)
            return render_template(
                "sessions/done.html", session=info, values=values, errors=errors, reports=REPORT_LABELS
            ), status
        was_done = info.status == SessionStatus.DONE
        flash("Saved your ratings for this session." if was_done else f"Marked the session of {_when(info)} done.")
        return redirect(url_for("sessions.detail", session_id=session_id))
    return render_template("sessions/done.html", session=info, values=values, errors=errors, reports=REPORT_LABELS), 200
