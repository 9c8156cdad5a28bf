"""Browser-facing protections: security headers and CSP, the CSRF policy, and the sign-in rate limit.

CSP forbids inline scripts and styles, so templates carry no `<script>` bodies and no `style=""`
attributes: all behaviour is in web/static/*.js and all looks in web/static/*.css.

CSRF: every unsafe request carries the Flask-WTF token (form field `csrf_token` or header `X-CSRFToken`),
except /api requests authenticated by `Authorization: Bearer` (a browser never attaches that header on its
own, so a cross-site page cannot forge it), and /api requests with no session at all (no ambient
authority to abuse; they answer 401).
"""

from __future__ import annotations

import collections
import threading

from flask import Flask, Response, current_app, request, session
from flask_wtf.csrf import CSRFProtect

from tracker.bootstrap import Tracker
from tracker.clock import Clock

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
WINDOW_MS = 15 * 60 * 1000
MAX_TRACKED_KEYS = 10_000  # bounds the limiter's memory under a spray of made-up names


def has_bearer() -> bool:
    scheme, _, _ = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer"


class LoginLimiter:
    """Failed sign-ins per (account name, client address) in a sliding 15-minute window.

    In memory: the dashboard is one process (waitress threads), so a lock is all the sharing needed.
    A success clears the key; while `limit` failures sit in the window, the next attempt is refused
    before the password is checked, so guessing cannot continue at argon2 speed.
    """

    def __init__(self, limit: int, clock: Clock, window_ms: int = WINDOW_MS) -> None:
        self.limit = limit
        self.window_ms = window_ms
        self._clock = clock
        self._failures: dict[tuple[str, str], collections.deque[int]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(name: str, address: str | None) -> tuple[str, str]:
        return name.strip().casefold(), address or "?"

    def _recent(self, key: tuple[str, str], now_ms: int) -> collections.deque[int] | None:
        times = self._failures.get(key)
        if times is None:
            return None
        while times and times[0] <= now_ms - self.window_ms:
            times.popleft()
        if not times:
            del self._failures[key]
            return None
        return times

    def retry_after_s(self, key: tuple[str, str]) -> int | None:
        """Seconds until the next attempt is allowed, or None when it is allowed now."""
        now_ms = self._clock.now_ms()
        with self._lock:
            times = self._recent(key, now_ms)
            if times is None or len(times) < self.limit:
                return None
            return max(1, -(-(times[0] + self.window_ms - now_ms) // 1000))

    def failed(self, key: tuple[str, str]) -> None:
        now_ms = self._clock.now_ms()
        with self._lock:
            if key not in self._failures and len(self._failures) >= MAX_TRACKED_KEYS:
                for old in list(self._failures):  # prune expired keys before refusing to track more
                    self._recent(old, now_ms)
                if len(self._failures) >= MAX_TRACKED_KEYS:
                    self._failures.pop(next(iter(self._failures)))
            self._failures.setdefault(key, collections.deque()).append(now_ms)

    def succeeded(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._failures.pop(key, None)


def login_limiter() -> LoginLimiter:
    limiter: LoginLimiter = current_app.extensions["login_limiter"]
    return limiter


def init_app(app: Flask, tracker: Tracker) -> None:
    csrf = CSRFProtect(app)
    app.extensions["login_limiter"] = LoginLimiter(tracker.config.web.login_attempts_per_15min, tracker.clock)

    @app.before_request
    def check_csrf() -> None:
        if not app.config.get("WTF_CSRF_ENABLED", True):
            return
        if request.path.startswith("/api/") and (has_bearer() or "user_id" not in session):
            return
        csrf.protect()

    @app.after_request
    def add_headers(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if request.endpoint != "static":
            # pages and API answers hold personal health data: keep them out of shared caches and history
            response.headers.setdefault("Cache-Control", "no-store")
        return response
