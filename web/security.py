"""Browser-facing protections: security headers and CSP, the CSRF policy, and the client address.

CSP forbids inline scripts and styles, so templates carry no `<script>` bodies and no `style=""`
attributes: all behaviour is in web/static/*.js and all looks in web/static/*.css.

CSRF: every unsafe request carries the Flask-WTF token (form field `csrf_token` or header `X-CSRFToken`),
except /api requests authenticated by `Authorization: Bearer` (a browser never attaches that header on its
own, so a cross-site page cannot forge it), and /api requests with no session at all (no ambient
authority to abuse; they answer 401).
"""

from __future__ import annotations

import ipaddress

from flask import Flask, Response, current_app, request, session
from flask_wtf.csrf import CSRFProtect

from tracker.bootstrap import Tracker
from web.inputs import BoundedIntConverter

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


def has_bearer() -> bool:
    scheme, _, _ = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer"


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def client_address() -> str:
    """The client's address for the sign-in limiter.

    The connecting address, unless it is one of `[web] trusted_proxies`: then X-Forwarded-For is read from
    the right (each trusted proxy appends what connected to it), and the first address that is not a trusted
    proxy is the client. Without that setting the header is ignored: anyone can send it, and believing it
    would let a guesser pick a fresh "address" for every attempt.
    """
    remote = request.remote_addr or "?"
    trusted = current_app.extensions.get("trusted_proxies", ())
    if not trusted:
        return remote

    def is_trusted(addr: ipaddress.IPv4Address | ipaddress.IPv6Address | None) -> bool:
        return addr is not None and any(addr in net for net in trusted)

    if not is_trusted(_ip(remote)):
        return remote
    hops = [h for h in ",".join(request.headers.getlist("X-Forwarded-For")).split(",") if h.strip()]
    for hop in reversed(hops):
        addr = _ip(hop)
        if addr is None:
            return remote  # a garbled header: count the proxy itself rather than trust a made-up value
        if not is_trusted(addr):
            return str(addr)
    return remote


def init_app(app: Flask, tracker: Tracker) -> None:
    # Before any blueprint adds its routes: `<int:id>` beyond 64 bits or with non-ASCII digits is a 404.
    app.url_map.converters["int"] = BoundedIntConverter
    csrf = CSRFProtect(app)
    app.extensions["trusted_proxies"] = tuple(ipaddress.ip_network(n) for n in tracker.config.web.trusted_proxies)

    @app.before_request
    def check_csrf() -> None:
        if not app.config.get("WTF_CSRF_ENABLED", True):
            return
        if request.path.startswith("/api/") and (has_bearer() or "sid" not in session):
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
