"""The Evidence page in the browser: an answer at the top, claims as sentences, and a forest plot whose points
are the report's numbers (GET /api/v1/report) in natural units, at 1280×800 and on a 390×844 phone."""

from __future__ import annotations

import math
import re
from typing import Any

import pytest

from tests.e2e.conftest import Watch, expect

pytestmark = pytest.mark.browser

INTERNAL = re.compile(r"\b(acute|nights)\.[a-z_]+|ln_rmssd|ln\(ms\)|_bpm\b|_min\b")
LOG_METRICS = {"ln_rmssd", "ln_rmssd_night"}


def natural(metric: str, value: float) -> float:
    return 100 * math.expm1(value) if metric in LOG_METRICS else value


def report_rows(report: dict[str, Any]) -> dict[tuple[str, str, Any], dict[str, Any]]:
    rows = {("acute", r["metric"], r["kind"]): r for r in report["acute"]}
    rows.update({("nights", r["metric"], r["lag"]): r for r in report["nights_after"]})
    return rows


def estimate(row: dict[str, Any]) -> float:
    for key in ("adjusted_difference", "difference", "mean_change"):
        if row.get(key) is not None:
            return float(row[key])
    raise AssertionError(f"no estimate in {row}")


def check_evidence(watch: Watch) -> None:
    page: Any = watch.page
    watch.goto("/evidence")
    answer = page.locator("#primary-endpoint")
    expect(answer.get_by_role("heading", name=re.compile(r"^Does massage change your night HRV"))).to_be_visible()
    expect(answer.locator(".primary-result")).to_contain_text(re.compile(r"night|data"))
    expect(answer.locator(".how-sure")).to_be_visible()
    main_text = page.locator("main").inner_text()
    assert not INTERNAL.search(main_text), f"an internal key is shown: {INTERNAL.search(main_text)}"

    report = page.request.get(watch.base_url + "/api/v1/report").json()
    rows = report_rows(report)
    page.wait_for_function("() => document.getElementById('forest-plot').dataset.drawn !== undefined")
    drawn = page.locator("#forest-plot .forest-row")
    assert drawn.count() >= 3, f"only {drawn.count()} effects in the forest plot"
    assert drawn.count() == page.locator("#forest-plot canvas").count()
    groups = page.locator("#forest-plot .forest-group").all_inner_texts()
    assert groups and len(groups) == len(set(groups)), f"claims repeated or missing as groups: {groups}"
    for el in drawn.all():
        d = el.evaluate("(e) => ({...e.dataset})")
        key = (d["family"], d["metric"], d.get("kind") if d["family"] == "acute" else int(d["lag"]))
        row = rows[key]
        metric = d["metric"]
        assert math.isclose(float(d["estimate"]), natural(metric, estimate(row)), rel_tol=1e-9, abs_tol=1e-9), key
        assert math.isclose(float(d["lo"]), natural(metric, row["ci95"][0]), rel_tol=1e-9, abs_tol=1e-9), key
        assert math.isclose(float(d["hi"]), natural(metric, row["ci95"][1]), rel_tol=1e-9, abs_tol=1e-9), key
        if row.get("mde"):
            assert math.isclose(float(d["mdeHi"]), natural(metric, row["mde"]), rel_tol=1e-9), key
        else:
            assert "mdeHi" not in d, key
        # drawn where the numbers say: lo ≤ estimate ≤ hi on the canvas, and a painted dot at the estimate
        x_lo, x_est, x_hi = float(d["pxLo"]), float(d["pxEstimate"]), float(d["pxHi"])
        assert x_lo - 0.5 <= x_est <= x_hi + 0.5, (key, x_lo, x_est, x_hi)
        painted = el.evaluate(
            """(e) => { const c = e.querySelector('canvas'); const r = window.devicePixelRatio || 1;
                const p = c.getContext('2d').getImageData(Math.round(+e.dataset.pxEstimate * r),
                                                          Math.round(+e.dataset.pxMid * r), 1, 1).data;
                return p[3]; }"""
        )
        assert painted > 200, f"no dot drawn at the estimate of {key}"
    # the detailed tables are collapsed, and every header carries its unit or says what it counts
    details = page.locator("#detail-tables")
    assert details.get_attribute("open") is None
    details.locator("summary").click()
    for header in page.locator("#acute-table th, #nights-after-table th").all_inner_texts():
        assert "(" in header or header in ("Verdict", "Compared", "Night after"), header


def test_evidence_on_a_laptop(ui: Watch) -> None:
    check_evidence(ui)
    ui.page.locator("#detail-tables").evaluate("(d) => d.open = false")
    ui.screenshot("evidence.png")
    ui.assert_clean()


def test_evidence_on_a_phone(phone_ui: Watch) -> None:
    check_evidence(phone_ui)
    page: Any = phone_ui.page
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.locator("#detail-tables").evaluate("(d) => d.open = false")
    phone_ui.screenshot("evidence-phone.png")
    phone_ui.assert_clean()
