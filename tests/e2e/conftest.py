"""Browser fixtures: the real service on emulated devices, served by waitress, driven by headless Chromium.

`live_server` (once per test session) is what `tracker demo` runs: a temporary SQLite database, the demo
person with 8 weeks of simulated history, the emulated strap and ring on the in-process bumble link, the
real collector, scheduler and lease (`tracker.cli.demo.build_demo`), and the Flask app served by waitress
on 127.0.0.1 with a free port. Browser tests run on SQLite only: they test pages, not database backends.

Chromium is Debian's (`apt-get install chromium`; .ci/run installs it), launched by Playwright with
`executable_path` — Playwright's own browser download is never used. The background-networking flags keep
Chromium from calling Google services, which on a closed network would time out and flood the log.

When Chromium (or Playwright) is missing, the tests fail with the reason under CI (CI=true), and are
skipped with the reason elsewhere: a missing browser must never pass silently in CI.

Every `page` records what would make a page broken without a failing assertion: console errors, uncaught
exceptions, Content-Security-Policy violations, responses with an error status, and requests to any host
other than 127.0.0.1 (those are also aborted, so nothing leaves the machine). `Watch.assert_clean()`
checks them; the fixture checks again at teardown for tests that do not call it.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # reported by the `browser` fixture: failure under CI, a skip with the reason elsewhere
    expect = None  # type: ignore[assignment]

CHROMIUM = os.environ.get("TRACKER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# Screenshots go to a folder outside the working tree unless asked for: TRACKER_SCREENSHOTS=tests/e2e/screenshots
# refreshes the README's images (tracked), so an ordinary test run leaves the tree clean.
SCREENSHOTS = Path(os.environ.get("TRACKER_SCREENSHOTS") or Path(tempfile.gettempdir()) / "tracker-e2e-screenshots")
LOCAL_HOSTS = {"127.0.0.1"}
TIMEOUT_MS = 15_000
DEMO_TZ = "Europe/Berlin"

# Reports CSP violations to the console, where the console listener below records them. Playwright injects
# init scripts through the DevTools protocol, so the page's own CSP does not block this one.
CSP_REPORTER = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline"} ` +
                `at ${e.sourceFile || "?"}:${e.lineNumber || 0}`);
});
"""

# True when every chart on the page has drawn (a uPlot canvas) or settled on a status other than loading.
CHARTS_SETTLED = """
() => [...document.querySelectorAll("[data-chart]")].every((el) => {
  if (el.querySelector("canvas")) return true;
  const status = el.querySelector(".chart-status");
  return status && status.textContent.trim() !== "" && !/^Loading/i.test(status.textContent.trim());
})
"""


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def unavailable(reason: str) -> None:
    """Fail under CI, skip (with the reason) elsewhere."""
    if in_ci():
        pytest.fail(f"browser tests cannot run: {reason}", pytrace=False)
    pytest.skip(f"browser tests skipped (CI is not set): {reason}")


# -- the live server ---------------------------------------------------------------------------------


@dataclass
class LiveServer:
    url: str
    user: str
    password: str
    person_id: int
    demo: Any

    def at(self, path: str) -> str:
        return self.url + path


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    import waitress

    from tracker.cli.demo import build_demo
    from tracker.cli.serve_cmd import demo_config
    from tracker.config import Config
    from tracker.storage.db import make_engine, upgrade_schema
    from web import create_app

    data_dir = tmp_path_factory.mktemp("e2e-data")
    cfg = demo_config(Config(base_dir=data_dir), data_dir, 0)
    engine = make_engine(cfg.database_url)
    upgrade_schema(engine)
    engine.dispose()
    demo = build_demo(cfg, seed=1)
    try:
        app = create_app(demo.service.tracker)
        server = waitress.create_server(app, host="127.0.0.1", port=0, threads=cfg.web.threads)
        thread = threading.Thread(target=server.run, name="e2e-waitress", daemon=True)
        thread.start()
        try:
            port = server.effective_port  # type: ignore[union-attr]
            yield LiveServer(f"http://127.0.0.1:{port}", demo.user, demo.password, demo.person_id, demo)
        finally:
            server.close()
            thread.join(timeout=10)
    finally:
        demo.service.stop()


# -- the browser -------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    if not path:
        unavailable(f"no Chromium at {CHROMIUM} (install Debian's: apt-get install -y chromium)")
    return str(path)


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        unavailable(f"Playwright for Python is not installed ({exc}); pip install -e '.[test]'")
    with sync_playwright() as pw:
        try:
            browser = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS, headless=True)
        except Exception as exc:  # noqa: BLE001 - any launch failure is the same "cannot run" for the user
            unavailable(f"Chromium at {chromium_path} did not start: {exc}")
        assert expect is not None
        expect.set_options(timeout=TIMEOUT_MS)
        yield browser
        browser.close()


@dataclass
class Watch:
    """What went wrong on the pages of one browser context (see the module docstring)."""

    page: Any
    base_url: str
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    bad_responses: list[tuple[int, str]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    checked: bool = False

    def goto(self, path: str) -> Any:
        response = self.page.goto(self.base_url + path)
        self.page.wait_for_load_state("networkidle")
        return response

    def wait_for_charts(self) -> None:
        self.page.wait_for_function(CHARTS_SETTLED, timeout=TIMEOUT_MS)

    def screenshot(self, name: str) -> Path:
        """A full-page PNG in SCREENSHOTS (see there), named with the viewport's width on a phone."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.wait_for_load_state("networkidle")
        if self.page.locator("[data-chart]").count():
            self.wait_for_charts()
        self.page.evaluate("document.fonts.ready")
        path = SCREENSHOTS / name
        self.page.screenshot(path=str(path), full_page=True, animations="disabled", caret="hide")
        return path

    def problems(self, allow_status: tuple[int, ...] = (), allow_console: tuple[str, ...] = ()) -> list[str]:
        found = [f"console error: {m}" for m in self.console_errors if not any(re.search(p, m) for p in allow_console)]
        found += [f"uncaught exception: {m}" for m in self.page_errors]
        found += [f"request to a non-local host: {u}" for u in self.foreign_requests]
        found += [f"HTTP {s} for {u}" for s, u in self.bad_responses if s not in allow_status]
        return found

    def assert_clean(self, allow_status: tuple[int, ...] = (), allow_console: tuple[str, ...] = ()) -> None:
        self.checked = True
        problems = self.problems(allow_status, allow_console)
        assert not problems, "the browser saw:\n  " + "\n  ".join(problems)
        assert self.requests, "no requests recorded: the watch is not attached"


def _attach(context: Any, page: Any, base_url: str) -> Watch:
    watch = Watch(page, base_url)

    def route(route: Any) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname not in LOCAL_HOSTS:
            watch.foreign_requests.append(url)
            route.abort("blockedbyclient")
        else:
            route.continue_()

    def on_console(msg: Any) -> None:
        if msg.type == "error" or "Content Security Policy" in msg.text:
            where = msg.location.get("url", "") if msg.location else ""
            watch.console_errors.append(f"{msg.text} ({where})" if where else msg.text)

    def on_response(response: Any) -> None:
        if response.status >= 400:
            watch.bad_responses.append((response.status, response.url))

    context.route("**/*", route)
    context.on("request", lambda r: watch.requests.append(r.url))
    context.on("response", on_response)
    page.on("console", on_console)
    page.on("pageerror", lambda exc: watch.page_errors.append(str(exc)))
    return watch


def _new_context(browser: Any, viewport: dict[str, int], storage_state: dict[str, Any] | None = None) -> Any:
    context = browser.new_context(
        viewport=viewport,
        locale="en-GB",
        timezone_id=DEMO_TZ,
        storage_state=storage_state,
        service_workers="block",
        device_scale_factor=1,
        is_mobile=viewport["width"] < 600,
        has_touch=viewport["width"] < 600,
    )
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(CSP_REPORTER)
    return context


def sign_in(page: Any, server: LiveServer, password: str | None = None) -> None:
    """Fill the sign-in form (the page must show it) and submit."""
    page.get_by_label("Account name").fill(server.user)
    page.get_by_label("Password").fill(server.password if password is None else password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("networkidle")


@pytest.fixture(scope="session")
def signed_in_state(browser: Any, live_server: LiveServer) -> dict[str, Any]:
    """The demo account's cookies, signed in once through the real form (argon2 is slow by design)."""
    context = _new_context(browser, DESKTOP)
    page = context.new_page()
    page.goto(live_server.at("/signin"))
    sign_in(page, live_server)
    assert urlsplit(page.url).path == "/", f"sign-in did not reach the Overview: {page.url}"
    state: dict[str, Any] = context.storage_state()
    context.close()
    return state


def _watched(
    browser: Any, live_server: LiveServer, viewport: dict[str, int], state: dict[str, Any] | None
) -> Iterator[Watch]:
    context = _new_context(browser, viewport, state)
    page = context.new_page()
    watch = _attach(context, page, live_server.url)
    try:
        yield watch
        if not watch.checked:
            watch.assert_clean()
    finally:
        context.close()


@pytest.fixture
def ui(browser: Any, live_server: LiveServer, signed_in_state: dict[str, Any]) -> Iterator[Watch]:
    """A signed-in page at a desktop viewport (1280×800)."""
    yield from _watched(browser, live_server, DESKTOP, signed_in_state)


@pytest.fixture
def phone_ui(browser: Any, live_server: LiveServer, signed_in_state: dict[str, Any]) -> Iterator[Watch]:
    """A signed-in page at a phone viewport (390×844, touch)."""
    yield from _watched(browser, live_server, PHONE, signed_in_state)


@pytest.fixture
def anonymous_ui(browser: Any, live_server: LiveServer) -> Iterator[Watch]:
    """A page with no cookies (not signed in)."""
    yield from _watched(browser, live_server, DESKTOP, None)


def local_now() -> dt.datetime:
    from zoneinfo import ZoneInfo

    return dt.datetime.now(ZoneInfo(DEMO_TZ))
