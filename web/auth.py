"""Accounts in the browser: the first-run page, sign in and sign out, and the sign-in requirement.

First run: while no account exists every page redirects to /setup, which creates the first account.

People created on the command line without `--user` belong to no account. Who sees them:
- the account created on the first-run page adopts every unowned person (a fresh install is typically
  used from the command line first, then opened in the browser);
- later, while there is exactly one account, it adopts unowned people at each sign-in (one user, one
  household: a person added with `tracker person add` shows up after signing in again);
- once there are several accounts, unowned people are visible to none until linked with
  `tracker person add --user` or `People.link` — guessing whom they belong to could leak health data.

The session cookie (signed) holds a random session id, the CSRF token and the selected person. The session
itself lives in the database (tracker.signins.WebSessions): sign-out ends it there, so a copy of the
cookie opens nothing afterwards; a password change and `tracker user disable` end all of an account's.
Passwords are checked with `Users.verify` (argon2id, a bounded number at once); failed sign-ins are
limited per account across addresses and per address across accounts (tracker.signins.SigninLimiter),
with the client address from web.security.client_address (`[web] trusted_proxies`).
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
from tracker.people import HashersBusy
from tracker.signins import SigninLimiter, WebSessions
from web.context import services
from web.security import client_address, has_bearer

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


def web_sessions() -> WebSessions:
    sessions: WebSessions = current_app.extensions["web_sessions"]
    return sessions


def signin_limiter() -> SigninLimiter:
    limiter: SigninLimiter = current_app.extensions["signin_limiter"]
    return limiter


def _start_session(user_id: int) -> None:
    old = session.get("sid")
    if isinstance(old, str):
        web_sessions().end(old)
    session.clear()  # a fresh session on sign-in: a planted cookie cannot ride into the account (fixation)
    session["sid"] = web_sessions().start(user_id)
    session.permanent = True


def init_app(app: Flask) -> None:
    tracker: Tracker = app.extensions["tracker"]
    app.extensions["web_sessions"] = WebSessions(tracker.sessionmaker, tracker.clock)
    app.extensions["signin_limiter"] = SigninLimiter(
        tracker.sessionmaker, tracker.clock, tracker.config.web.login_attempts_per_15min
    )

    @app.before_request
    def load_user() -> ResponseReturnValue | None:
        g.user = None
        sid = session.get("sid")
        if isinstance(sid, str) and not (request.path.startswith("/api/") and has_bearer()):
            g.user = web_sessions().resolve(sid)
            if g.user is None:  # signed out elsewhere, password changed, account disabled or removed
                session.pop("sid", None)
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
                # Racing browsers: add_first creates an account only while there is none, atomically.
                user = tracker.users.add_first(name, password)
            except UserError as exc:
                field = "password" if "password" in str(exc) else "name"
                errors[field] = str(exc)
            else:
                if user is None:
                    flash("This server is set up already: sign in.")
                    return redirect(url_for("auth.signin"))
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
    limiter = signin_limiter()
    address = client_address()
    refusal = limiter.check(name, address)
    if refusal is not None:
        minutes = -(-refusal.wait_s // 60)
        wait = f"{refusal.wait_s} seconds" if refusal.wait_s < 120 else f"{minutes} minutes"
        what = "from this address" if refusal.per_address else "for this account"
        message = f"Too many failed sign-ins {what}; try again in {wait}."
        body = render_template("signin.html", name=name, next_url=next_url, error=message)
        return _refused(body, 429, refusal.wait_s)
    tracker = services()
    try:
        user = tracker.users.verify(name, request.form.get("password", ""))
    except HashersBusy as exc:
        body = render_template("signin.html", name=name, next_url=next_url, error=f"{exc}.")
        return _refused(body, 503, 5)
    if user is None:
        limiter.failed(name, address)
        error = "Wrong account name or password."
        return render_template("signin.html", name=name, next_url=next_url, error=error), 401
    limiter.succeeded(name)
    if tracker.users.count() == 1:
        adopt_unowned_people(tracker, user.name)
    _start_session(user.id)
    return redirect(_safe_next(next_url))


def _refused(body: str, status: int, wait_s: int) -> Response:
    response = Response(body, status=status, mimetype="text/html")
    response.headers["Retry-After"] = str(wait_s)
    return response


@bp.route("/signout", methods=["POST"])
def signout() -> ResponseReturnValue:
    sid = session.get("sid")
    if isinstance(sid, str):
        web_sessions().end(sid)  # server side: the same cookie, replayed, opens nothing now
    session.clear()
    flash("Signed out.")
    return redirect(url_for("auth.signin"))
