"""The API tokens page: the signed-in account's tokens (name, created, last used, expiry), new ones, revoking.

The same as `tracker token create|list|revoke`, for one's own account only. A new token's secret is shown
once, on the page that answers the creating POST (never stored, never shown again).
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from tracker.errors import UserError
from web.context import current_user, services, user_id

bp = Blueprint("tokens", __name__, url_prefix="/tokens")
MAX_EXPIRY_DAYS = 3650
DAY_MS = 86_400_000


def _page(errors: dict[str, str] | None = None, secret: str | None = None, status: int = 200) -> tuple[str, int]:
    tokens = services().users.tokens(user_id())
    now_ms = services().clock.now_ms()
    return render_template("tokens.html", tokens=tokens, now_ms=now_ms, errors=errors or {}, secret=secret,
                           values=request.form, max_days=MAX_EXPIRY_DAYS), status  # fmt: skip


@bp.get("")
def index() -> tuple[str, int]:
    return _page()


@bp.post("")
def create() -> tuple[str, int]:
    name = request.form.get("name", "").strip()
    days_text = request.form.get("expires_days", "").strip()
    errors: dict[str, str] = {}
    expires_ms = None
    if days_text:
        if not days_text.isascii() or not days_text.isdigit() or not 1 <= int(days_text) <= MAX_EXPIRY_DAYS:
            errors["expires_days"] = f"expiry is a whole number of days, 1-{MAX_EXPIRY_DAYS} (empty: never)"
        else:
            expires_ms = services().clock.now_ms() + int(days_text) * DAY_MS
    if not errors:
        user = current_user()
        assert user is not None  # behind sign-in
        try:
            secret = services().users.create_token(user.name, name, expires_ms)
        except UserError as exc:
            errors["name"] = str(exc)
        else:
            return _page(secret=secret, status=201)
    return _page(errors=errors, status=422)


@bp.post("/<int:token_id>/revoke")
def revoke(token_id: int) -> ResponseReturnValue:
    info = services().users.revoke_token(token_id, user_id())  # another account's token: 404
    flash(f"Token {info.name} revoked: it no longer works.")
    return redirect(url_for("tokens.index"))
