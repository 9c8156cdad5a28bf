"""Charts in the person's conventions: 24-hour tick labels for a Europe/Berlin person (an en-GB browser), no
line across a gap in recording, sessions as bands with a legend, labelled hypnograms; at both viewports."""

from __future__ import annotations

import re
import statistics
from typing import Any

import pytest

from tests.e2e.conftest import LiveServer, Watch
from tests.e2e.test_phone import session_path

pytestmark = pytest.mark.browser

TIME = re.compile(r"^\d{2}:\d{2}(:\d{2})?$")
DAY = re.compile(r"^\d{1,2} [A-Z][a-z]{2}$")  # en-GB: "18 Nov"
TWELVE_HOUR = re.compile(r"\b(am|pm)\b", re.I)

# For each drawn series, the line segments uPlot draws: consecutive numbers (undefined alignment points are
# skipped), each with the length left visible after uPlot's gap clipping (a null at index j hides the x-range
# between its neighbours j-1 and j+1), and the series' own points for its median spacing.
SEGMENTS = """
(el) => {
  const u = el._uplot, xs = u.data[0], out = [];
  for (let j = 1; j < u.data.length; j++) {
    const ys = u.data[j], points = [], segments = [];
    let last = null;
    for (let i = 0; i < xs.length; i++) {
      const y = ys[i];
      if (y == null) continue;
      points.push(xs[i]);
      if (last !== null) {
        let covered = 0, reach = xs[last];
        for (let k = last + 1; k < i; k++) {
          if (ys[k] !== null) continue;
          const a = Math.max(xs[k - 1], reach), b = Math.min(xs[k + 1], xs[i]);
          if (b > a) { covered += b - a; reach = b; }
        }
        segments.push([xs[last], xs[i], xs[i] - xs[last] - covered]);
      }
      last = i;
    }
    out.push({points, segments, nulls: ys.filter((y) => y === null).length});
  }
  return out;
}
"""


def tick_labels(page: Any) -> list[str]:
    labels: list[str] = []
    for el in page.locator("[data-chart]").all():
        if el.locator("canvas").count():
            ticks = el.get_attribute("data-x-ticks")
            assert ticks, "a chart drew without recording its tick labels"
            labels += [part for label in __import__("json").loads(ticks) for part in label.split("\n")]
    return labels


def assert_no_segment_across_a_gap(page: Any) -> int:
    """Every drawn segment spans at most 5 median steps of its series; returns how many gaps were broken."""
    broken = 0
    for el in page.locator("[data-chart]").all():
        if not el.locator("canvas").count():
            continue
        for series in el.evaluate(SEGMENTS):
            points = series["points"]
            if len(points) < 3:
                continue
            step = statistics.median(b - a for a, b in zip(points, points[1:], strict=False))
            limit = max(5 * step, 120_000)
            long = [(a, b, drawn) for a, b, drawn in series["segments"] if drawn > limit]
            assert not long, f"{el.get_attribute('id') or el.get_attribute('data-kind')}: lines across gaps {long[:3]}"
            broken += series["nulls"]
    return broken


@pytest.mark.parametrize("viewport", ["ui", "phone_ui"])
def test_session_chart_in_24_hours_with_gaps_and_a_band_legend(request: pytest.FixtureRequest, live_server: LiveServer,
                                                                viewport: str) -> None:  # fmt: skip
    watch: Watch = request.getfixturevalue(viewport)
    page: Any = watch.page
    watch.goto(session_path(live_server))
    watch.wait_for_charts()
    labels = tick_labels(page)
    assert labels, "no tick labels"
    assert not [t for t in labels if TWELVE_HOUR.search(t)], f"12-hour labels: {labels}"
    assert all(TIME.match(t) or DAY.match(t) for t in labels), f"labels not 24-hour times or dates: {labels}"
    assert any(TIME.match(t) for t in labels)
    assert assert_no_segment_across_a_gap(page) >= 1, "the demo session has a gap in recording; no line was broken"
    legend = page.locator("#session-chart ~ .chart-legend, .chart-box .chart-legend").first
    assert "massage session" in legend.inner_text()
    watch.assert_clean()


@pytest.mark.parametrize("viewport", ["ui", "phone_ui"])
def test_overview_charts_24_hours_no_gap_lines_units_on_cards(request: pytest.FixtureRequest, viewport: str) -> None:
    watch: Watch = request.getfixturevalue(viewport)
    page: Any = watch.page
    watch.goto("/")
    watch.wait_for_charts()
    labels = tick_labels(page)
    assert labels and not [t for t in labels if TWELVE_HOUR.search(t)], labels
    assert all(TIME.match(t) or DAY.match(t) for t in labels), labels
    assert_no_segment_across_a_gap(page)
    for card in page.locator("#trends .trend").all():
        change = card.locator(".trend-change").inner_text()
        assert re.search(r"(bpm|ln\(ms\)|points|min) vs the 7 nights before|no earlier week", change), change
    watch.assert_clean()


def test_hypnogram_has_stage_labels(ui: Watch) -> None:
    page: Any = ui.page
    ui.goto("/sleep")
    figure = page.locator("figure.hypnogram").first
    assert figure.locator(".hypno-stages li").all_inner_texts() == ["Awake", "REM", "Light", "Deep"]
    svg = figure.locator("svg").bounding_box()
    for label in figure.locator("text.tick-label").all():
        box = label.bounding_box()
        assert box and box["x"] >= svg["x"] - 1 and box["x"] + box["width"] <= svg["x"] + svg["width"] + 1, "clipped"
    ui.assert_clean()
