"""The dashboard pages on real stored data (tests/web/seed.py): real numbers, every claim, size limits."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient

from tests.web.seed import Seeded, seed_person
from tracker.analysis.claims import CLAIMS
from tracker.bootstrap import Tracker
from tracker.people import PersonInfo
from web.present import hours_minutes

MAX_PAGE_BYTES = 500 * 1024


@pytest.fixture
def seeded(tracker: Tracker, ana: PersonInfo) -> Seeded:
    return seed_person(tracker, ana)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_overview_shows_the_stored_nights_next_session_and_device(
    ana_client: FlaskClient, tracker: Tracker, seeded: Seeded
) -> None:
    html = ana_client.get("/").get_data(as_text=True)
    nights = tracker.reports.nights(seeded.person.id)
    last = nights[-1]
    assert last.label == seeded.last_night
    row = re.search(rf'<tr class="night" data-night="{last.label.isoformat()}">(.*?)</tr>', html, re.S)
    assert row, "the last night has a row"
    cells = _text(row.group(1))
    assert hours_minutes(last.tst_min) in cells
    assert f"{last.sleep_efficiency_pct:.1f} %" in cells
    assert f"{last.resting_hr_bpm:.1f} bpm" in cells and f"{last.ln_rmssd_night:.2f}" in cells
    assert html.count('<tr class="night"') == 14
    # both trend charts read the nights API, sessions marked from its spans
    assert f'data-series-url="/api/v1/nights?person={seeded.person.id}&amp;last=14"' in html
    assert 'id="nights-sleep-chart"' in html and 'id="nights-heart-chart"' in html
    next_session = _text(html.split('id="next-session"')[1].split("</section>")[0])
    assert "Wed 03 Mar 2027" in next_session and "planned" in next_session  # its planned pre capture
    devices = _text(html.split('id="overview-devices"')[1].split("</section>")[0])
    assert "Ana's ring" in devices.replace("&#39;", "'") and "64 %" in devices


def test_session_detail_shows_windows_captures_and_nights_vs_baseline(
    ana_client: FlaskClient, tracker: Tracker, seeded: Seeded
) -> None:
    session = seeded.sessions[4]
    pre, post = tracker.reports.windows(session)
    html = ana_client.get(f"/sessions/{session.id}").get_data(as_text=True)
    pre_row = _text(re.search(r'<tr class="window window-pre">(.*?)</tr>', html, re.S).group(1))  # type: ignore[union-attr]
    post_row = _text(re.search(r'<tr class="window window-post">(.*?)</tr>', html, re.S).group(1))  # type: ignore[union-attr]
    assert f" {pre.beats} " in pre_row and f"{pre.hr_bpm:.1f} bpm" in pre_row and f"{pre.ln_rmssd:.2f}" in pre_row
    assert f" {post.beats} " in post_row and f"{post.hr_bpm:.1f} bpm" in post_row and "passed" in post_row
    assert html.count('<tr class="capture"') == 2 and 'data-status="ok"' in html
    detail = tracker.reports.session_detail(session.id)
    first = detail.following[0]
    assert first.recorded and first.metrics[0].baseline_median is not None
    table = html.split(f'data-lag="1" data-night="{first.label.isoformat()}"')[1].split("</table>")[0]
    tst = first.metrics[0]
    # durations in the one format of every page ("6 h 40 min"), not "400.0"
    assert tst.unit == "min" and hours_minutes(tst.value) in table and hours_minutes(tst.baseline_median) in table
    assert f"{tst.value:.1f}" not in table and f"{tst.z:+.2f}" in table
    assert 'id="session-chart"' in html


def test_session_chart_api_has_hr_and_rolling_hrv_with_gaps(ana_client: FlaskClient, seeded: Seeded) -> None:
    session = seeded.sessions[4]
    body = ana_client.get(f"/api/v1/sessions/{session.id}/chart").get_json()
    keys = [s["key"] for s in body["series"]]
    assert keys == ["hr_beat", "ln_rmssd_rolling"]  # no device HR samples during the day in the seed
    hr = body["series"][0]
    assert 0 < len(hr["x"]) <= 2001 and hr["x"] == sorted(hr["x"])
    assert None in hr["values"]  # the line breaks between the pre and the post window
    assert all(55 < v < 80 for v in hr["values"] if v is not None)
    assert {s["kind"] for s in body["spans"]} == {"window", "massage"}
    assert body["from"] == session.start_ms - 5 * 60_000 and body["to"] == session.end_ms + 10 * 60_000
    small = ana_client.get(f"/api/v1/sessions/{session.id}/chart?max_points=50").get_json()
    assert all(len([v for v in s["values"] if v is not None]) <= 50 for s in small["series"])


def test_sleep_page_has_hypnograms_and_weekly_totals(ana_client: FlaskClient, tracker: Tracker, seeded: Seeded) -> None:
    html = ana_client.get("/sleep").get_data(as_text=True)
    assert html.count('<figure class="hypnogram"') == 7  # a week, newest first, ending on the last night
    assert f'id="night-{seeded.last_night.isoformat()}"' in html
    assert "device estimate" in html
    assert 'class="stage-deep"' in html and 'class="stage-rem"' in html and "<title>Deep " in html
    view = tracker.reports.sleep(seeded.person.id)
    week = view.weeks[-2]
    row = re.search(rf'data-week="{week.iso_year}-W{week.iso_week:02d}">(.*?)</tr>', html, re.S)
    assert row and week.nights == 7
    cells = _text(row.group(1))
    assert hours_minutes(week.tst_min) in cells and f"{week.sleep_efficiency_pct:.1f} %" in cells
    assert f"{week.deep_min:.0f} min" in cells and f"{week.rem_min:.0f} min" in cells


def test_sleep_history_browses_any_week_with_the_sessions_before_each_night(
    ana_client: FlaskClient, seeded: Seeded
) -> None:
    until = seeded.last_night - dt.timedelta(days=20)
    html = ana_client.get(f"/sleep?until={until.isoformat()}").get_data(as_text=True)
    shown = re.findall(r'<figure class="hypnogram" id="night-(\d{4}-\d{2}-\d{2})"', html)
    assert shown == [(until - dt.timedelta(days=i)).isoformat() for i in range(7)]
    earlier = (until - dt.timedelta(days=7)).isoformat()
    assert f"until={earlier}" in html and f"until={(until + dt.timedelta(days=7)).isoformat()}" in html
    # each night after a session day links to that session
    for s in seeded.sessions:
        night = (dt.datetime.fromtimestamp(s.start_ms / 1000, ZoneInfo(s.tz)).date() + dt.timedelta(days=1)).isoformat()
        if night in shown:
            figure = html.split(f'id="night-{night}"')[1].split("</figure>")[0]
            assert f'href="/sessions/{s.id}"' in figure, night
    assert any(f'href="/sessions/{s.id}"' in html for s in seeded.sessions), "no session in the browsed week"
    latest = ana_client.get("/sleep").get_data(as_text=True)
    assert "Later week" not in latest and "Earlier week" in latest
    assert ana_client.get("/sleep?until=yesterday").status_code == 400
    # the Overview's nights link to their hypnogram
    overview = ana_client.get("/").get_data(as_text=True)
    assert f'until={seeded.last_night.isoformat()}#night-{seeded.last_night.isoformat()}' in overview


def test_evidence_lists_every_claim_with_verdicts_and_the_tables(ana_client: FlaskClient, seeded: Seeded) -> None:
    html = ana_client.get("/evidence").get_data(as_text=True)
    assert 'id="primary-endpoint"' in html
    assert "Does massage change your night HRV (RMSSD) on the first night after it?" in html
    assert 'class="how-sure"' in html and 'class="next-step"' in html
    for claim in CLAIMS:
        assert f'data-claim="{claim.key}"' in html, claim.key
        assert claim.claim in html, claim.claim
    unmeasured = html.split('id="not-measured"')[1].split("</section>")[0]
    assert unmeasured.count('class="claim-unmeasured"') == sum(1 for c in CLAIMS if not c.metrics)
    assert "a heart-rate wearable does not measure blood flow" in unmeasured
    assert 'class="badge verdict verdict-not-measured"' in unmeasured
    acute = html.split('id="acute-table"')[1].split("</table>")[0]
    for kind in ("massage", "rest", "massage_minus_rest"):
        assert f'data-kind="{kind}"' in acute
    assert "(bpm)" in acute and "(%)" in acute and "95 % range" in acute
    nights = html.split('id="nights-after-table"')[1].split("</table>")[0]
    assert nights.count('class="night-row') == 21 and nights.count("night-row primary") == 1
    assert "(min)" in nights and "More sessions needed (sessions)" in nights
    assert 'id="forest-plot"' in html and "/static/forest.js" in html
    # no internal key leaks into what a person reads (data-* attributes are for scripts and tests)
    text = re.sub(r"<[^>]+>", " ", html)
    assert not re.search(r"\b(acute|nights)\.[a-z_]+|ln_rmssd|ln\(ms\)", text), re.search(r"\b(acute|nights)\.[a-z_]+|ln_rmssd|ln\(ms\)", text)


def test_evidence_is_cached_until_the_data_changes(tracker: Tracker, seeded: Seeded) -> None:
    reports = tracker.reports
    first = reports.evidence(seeded.person.id)
    again = reports.evidence(seeded.person.id)
    assert not first.cached and again.cached and again.report is first.report
    tracker.clock.advance(s=1)  # type: ignore[attr-defined]
    tracker.sessions.complete(seeded.sessions[0].id, pain_after=1)  # an edit: updated_ms moves
    assert not reports.evidence(seeded.person.id).cached
    assert reports.evidence(seeded.person.id).cached
    tracker.clock.advance(s=3600)  # type: ignore[attr-defined]
    assert reports.evidence(seeded.person.id).cached  # no time limit: only a change of the data recomputes


@pytest.mark.parametrize("path", ["/", "/sleep", "/evidence", "/devices", "SESSION"])
def test_pages_stay_small(ana_client: FlaskClient, seeded: Seeded, path: str) -> None:
    if path == "SESSION":
        path = f"/sessions/{seeded.sessions[4].id}"
    response = ana_client.get(path)
    assert response.status_code == 200
    assert len(response.data) < MAX_PAGE_BYTES, (path, len(response.data))


def test_pages_have_no_inline_scripts_or_styles(ana_client: FlaskClient, seeded: Seeded) -> None:
    for path in ("/", "/sleep", "/evidence", "/devices", f"/sessions/{seeded.sessions[4].id}"):
        html = ana_client.get(path).get_data(as_text=True)
        assert "style=" not in html, path
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
