"""Turns errors into answers: JSON `{"error": message}` under /api, an HTML page elsewhere.

Service errors map to status codes in one place: NotFound 404, Conflict 409, ValidationError 422 (with
per-field `errors`), other UserError and bad times 400, a missing/invalid CSRF token 403.
"""

from __future__ import annotations

from flask import Flask, Response, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from tracker.errors import Conflict, NotFound, UserError
from tracker.sessions import ValidationError
from tracker.timefmt import TimeFormatError


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

    @app.errorhandler(TimeFormatError)
    def time_error(exc: TimeFormatError) -> tuple[Response | str, int]:
        return _answer(400, str(exc))
