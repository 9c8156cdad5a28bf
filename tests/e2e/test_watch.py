"""The page watch itself: each kind of problem it promises to catch is caught (else "no console errors" on
every other test would pass vacuously)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Watch

pytestmark = pytest.mark.browser


def test_watch_catches_console_errors_csp_violations_and_foreign_requests(ui: Watch) -> None:
    page: Any = ui.page
    ui.goto("/sessions")
    assert ui.problems() == []
    ui.checked = True  # the planted problems are this test's point; the fixture must not report them again

    page.evaluate("console.error('planted console error')")
    page.evaluate("setTimeout(() => { throw new Error('planted uncaught error'); }, 0)")
    # an inline script: the CSP (script-src 'self') must refuse it
    page.evaluate("""() => {
        const s = document.createElement('script');
        s.textContent = 'window.__inlineRan = true';
        document.body.append(s);
    }""")
    assert page.evaluate("window.__inlineRan === undefined"), "the CSP let an inline script run"
    page.evaluate("fetch('https://example.com/track.gif').catch(() => null)")  # CSP: connect-src 'self'
    page.wait_for_timeout(500)
    page.evaluate("() => { window.location.href = 'https://example.com/away'; }")  # CSP does not cover this
    page.wait_for_timeout(500)

    problems = "\n".join(ui.problems())
    assert "planted console error" in problems
    assert "planted uncaught error" in problems
    assert "CSP violation: script-src" in problems
    assert "CSP violation: connect-src blocked https://example.com/track.gif" in problems
    assert "request to a non-local host: https://example.com/away" in problems
