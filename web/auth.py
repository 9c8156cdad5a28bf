"""Accounts in the browser: the first-run page, sign in and sign out, and the sign-in requirement.

First run: while no account exists every page redirects to /setup, which creates the first account.

People created on the command line without `--user` belong to no account. Who sees them:
- the account created on the first-run page adopts every unowned person (a fresh install is typically
  used from the command line first, then opened in the browser);
- later, while there is exactly one account, it adopts unowned people at each sign-in (one user, one
  household: a person added with `tracker person add` shows up after signing in again);
- once there are several accounts, unowned people are visible to none until linked with
  `tracker person add --user` or `People.link` — guessing whom they belong to could leak health data.

The session cookie holds only the account id (and the CSRF token, the selected person); passwords are
checked with `Users.verify` (argon2id), and failed sign-ins are rate limited per account name and client
address (`[web] login_attempts_per_15min`).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue

from tracker.bootstrap import Tracker
from tracker.errors import UserError
from web.context import services
from web.security import has_bearer, login_limiter

bp = Blueprint("auth", __name__)

# Reachable without an account: the first-run and sign-in pages, static files, the API (own auth), its docs.
PUBLIC_ENDPOINTS = {"auth.setup", "auth.signin", "static", "api_docs.openapi"}


def has_accounts() -> bool:
    """Whether any account exists; remembered once true (accounts are not deleted from the web)."""
    if current_app.extensions.get("has_accounts"):
        return True
    if services().users.count() > 0:
        current_app.extensions["has_accounts"] = True
        return True
    return False


def adopt_unowned_people(tracker: Tracker, user_name: str) -> int:
    """Link every person without an account to `user_name`; returns how many (see module docstring)."""
    adopted = 0
    for person in tracker.people.list():
        if person.user_id is None:
            tracker.people.link(person.id, user_name)
            adopted += 1
    return adopted


def _safe_next(target: str | None) -> str:
    """Only local paths: `?next=https://evil.example` must not turn sign-in into an open redirect."""
    if not target:
        return url_for("dashboard.overview")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("dashboard.overview")
    return target


def _start_session(user_id: int) -> None:
    session.clear()  # a fresh session on sign-in: a planted cookie cannot ride into the account (fixation)
    session["user_id"] = user_id
    session.permanent = True


def init_app(app: Flask) -> None:
    @app.before_request
    def load_user() -> ResponseReturnValue | None:
        g.user = None
        user_id = session.get("user_id")
        if isinstance(user_id, int) and not (request.path.startswith("/api/") and has_bearer()):
            g.user = services().users.get(user_id)
            if g.user is None:  # the account was removed: forget the cookie's claim
                session.pop("user_id", None)
        if request.endpoint in PUBLIC_ENDPOINTS or request.path.startswith("/api/"):
            return None  # the API answers 401 itself (web.api.authenticate); no redirects for scripts
        if not has_accounts():
            return redirect(url_for("auth.setup"))
        if g.user is None:
            return redirect(url_for("auth.signin", next=request.full_path.rstrip("?")))
        return None


@bp.route("/setup", methods=["GET", "POST"])
def setup() -> ResponseReturnValue:
    if has_accounts():
        return redirect(url_for("auth.signin"))
    errors: dict[str, str] = {}
    name = request.form.get("name", "").strip()
    if request.method == "POST":
        password = request.form.get("password", "")
        if password != request.form.get("confirm", ""):
            errors["confirm"] = "the two passwords differ"
        elif not name:
            errors["name"] = "choose an account name"
        else:
            tracker = services()
            try:
                # A second browser racing through setup would create a second account; re-check first.
                if tracker.users.count() > 0:
                    return redirect(url_for("auth.signin"))
                user = tracker.users.add(name, password)
            except UserError as exc:
                field = "password" if "password" in str(exc) else "name"
                errors[field] = str(exc)
            else:
                adopted = adopt_unowned_people(tracker, user.name)
                _start_session(user.id)
                flash(f"Account {user.name} created." + (f" {adopted} person(s) linked to it." if adopted else ""))
                return redirect(url_for("dashboard.overview"))
    status = 422 if errors else 200
    return render_template("setup.html", errors=errors, name=name), status


@bp.route("/signin", methods=["GET", "POST"])
def signin() -> ResponseReturnValue:
    if not has_accounts():
        return redirect(url_for("auth.setup"))
    next_url = request.values.get("next", "")
    name = request.form.get("name", "").strip()
    if request.method == "GET":
        if g.user is not None:
            return redirect(_safe_next(next_url))
        return render_template("signin.html", name="", next_url=next_url, error=None)
    limiter = login_limiter()
    key = limiter.key(name, request.remote_addr)
    wait_s = limiter.retry_after_s(key)
    if wait_s is not None:
        minutes = -(-wait_s // 60)
        message = f"Too many failed sign-ins for this account from here; try again in {minutes} minute(s)."
        body = render_template("signin.html", name=name, next_url=next_url, error=message)
        return _too_many(body, wait_s)
    tracker = services()
    user = tracker.users.verify(name, request.form.get("password", ""))
    if user is None:
        limiter.failed(key)
        error = "Wrong account name or password."
        return render_template("signin.html", name=name, next_url=next_url, error=error), 401
    limiter.succeeded(key)
    if tracker.users.count() == 1:
        adopt_unowned_people(tracker, user.name)
    _start_session(user.id)
    return redirect(_safe_next(next_url))


def _too_many(body: str, wait_s: int) -> Response:
    response = Response(body, status=429, mimetype="text/html")
    response.headers["Retry-After"] = str(wait_s)
    return response


@bp.route("/signout", methods=["POST"])
def signout() -> ResponseReturnValue:
    session.clear()
    flash("Signed out.")
    return redirect(url_for("auth.signin"))
