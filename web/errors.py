"""Turns errors into answers: JSON `{"error": message}` under /api, an HTML page elsewhere.

Service errors map to status codes in one place: NotFound 404, Conflict 409, ValidationError 422 (with
per-field `errors`), other UserError and bad times 400, a missing/invalid CSRF token 403, a database that
cannot be reached 503 (with Retry-After). Anything else is a 500 whose page says only that something went
wrong: the exception (which may hold SQL and values) goes to the server's log, never to the browser.
"""

from __future__ import annotations

import logging

import sqlalchemy.exc
from flask import Flask, Response, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from tracker.errors import Conflict, NotFound, UserError
from tracker.sessions import ValidationError
from tracker.timefmt import TimeFormatError

logger = logging.getLogger(__name__)
DB_UNREACHABLE = "The database cannot be reached right now; the server retries on its own. Try again in a moment."
RETRY_AFTER_S = 5


def _database_down(exc: BaseException) -> bool:
    """Whether `exc` means "no connection to the database" (not a bad statement, which is a bug)."""
    if isinstance(exc, sqlalchemy.exc.DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, sqlalchemy.exc.OperationalError | sqlalchemy.exc.InterfaceError | sqlalchemy.exc.TimeoutError)


def status_for(exc: Exception) -> int:
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, Conflict):
        return 409
    if isinstance(exc, ValidationError):
        return 422
    return 400


def _answer(status: int, message: str, errors: dict[str, str] | None = None) -> tuple[Response | str, int]:
    if request.path.startswith("/api/"):
        body: dict[str, object] = {"error": message}
        if errors:
            body["errors"] = errors
        return jsonify(body), status
    return render_template("error.html", status=status, message=message, errors=errors or {}), status


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> tuple[Response | str, int]:
        return _answer(403, f"CSRF check failed: {exc.description} Reload the page and try again.")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        body, status = _answer(exc.code or 500, exc.description or exc.name)
        response = app.make_response((body, status))
        for name, value in exc.get_headers():  # keep headers such as Allow (405) and Retry-After (429)
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(UserError)
    def user_error(exc: UserError) -> tuple[Response | str, int]:
        errors = exc.errors if isinstance(exc, ValidationError) else None
        return _answer(status_for(exc), str(exc), errors)

    @app.errorhandler(sqlalchemy.exc.SQLAlchemyError)
    def database_error(exc: sqlalchemy.exc.SQLAlchemyError) -> Response:
        if not _database_down(exc):
            raise exc  # a real bug: the generic 500 below (or, under tests, the traceback)
        logger.warning("database unreachable: %s", exc.__class__.__name__)
        body, status = _answer(503, DB_UNREACHABLE)
        response = app.make_response((body, status))
        response.headers["Retry-After"] = str(RETRY_AFTER_S)
        return response

    @app.errorhandler(InternalServerError)
    def server_error(exc: InternalServerError) -> tuple[Response | str, int]:
        original = exc.original_exception
        if original is not None and _database_down(original):
            return _answer(503, DB_UNREACHABLE)
        logger.error("unhandled error on %s %s", request.method, request.path, exc_info=original)
        return _answer(500, "Something went wrong on the server. The details are in its log; nothing was shown here.")

    @app.errorhandler(TimeFormatError)
    def time_error(exc: TimeFormatError) -> tuple[Response | str, int]:
        return _answer(400, str(exc))
