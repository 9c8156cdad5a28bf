"""/api/v1 reads for charts and the analysis: samples, nights, captures, device-computed values, the report and
a session's chart. Routes on the API blueprint (web.api imports this module last); errors as everywhere in the API.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, abort, jsonify, request

from tracker import queries, sources
from tracker.analysis.sleep import Night, night_window_ms
from tracker.device_metrics import LIST_LIMIT as DEVICE_METRICS_LIMIT
from tracker.model import MetricKind, SessionStatus
from tracker.sessions import SessionInfo
from tracker.timefmt import format_local
from web.api import _int_arg, _person, _time_arg, bp
from web.context import services, user_id
from web.downsample import chart_series, clamp_points, lttb
from web.inputs import parse_id

DAY_MS = 86_400_000
DEFAULT_SPAN_MS = 7 * DAY_MS  # a chart with no range asked for shows the last week of data
# Above this many rows in the range, the database averages into buckets first (see queries.read_samples),
# 10 buckets per output point so LTTB still has shape to choose from.
PREAGGREGATE_ROWS = 200_000
BUCKETS_PER_POINT = 10
MAX_NIGHTS = 2000  # one chart's point budget; older nights stay in the CSV export

# -- samples (charts) --------------------------------------------------------------------------------


@bp.get("/samples")
def samples() -> Response:
    """One series of the person's samples in [from, to), at most `max_points` (≤ 2000) points by LTTB."""
    person = _person(request.args.get("person"))
    assert person is not None
    kind = queries.SAMPLE_KINDS.get(request.args.get("kind", ""))
    if kind is None:
        abort(400, description=f"kind must be one of {', '.join(queries.SAMPLE_KINDS)}")
    max_points = clamp_points(_int_arg("max_points", 1, 1_000_000))
    db = services().sessionmaker
    from_ms, to_ms = _time_arg("from"), _time_arg("to")
    if from_ms is None or to_ms is None:
        extent = queries.sample_extent(db, person.id, kind)
        last = extent[1] + 1 if extent else services().clock.now_ms()
        to_ms = to_ms if to_ms is not None else last
        from_ms = from_ms if from_ms is not None else max(extent[0] if extent else 0, to_ms - DEFAULT_SPAN_MS)
    if to_ms <= from_ms:
        abort(400, description="to must be after from")
    total = queries.count_samples(db, person.id, kind, from_ms, to_ms)
    bucket_ms = None
    if total > PREAGGREGATE_ROWS:
        bucket_ms = max(1, -(-(to_ms - from_ms) // (max_points * BUCKETS_PER_POINT)))
    t_ms, values = queries.read_samples(db, person.id, kind, from_ms, to_ms, bucket_ms)
    t_ms, values = lttb(t_ms, values, max_points)
    chosen = queries.sample_source(db, person.id, kind, from_ms, to_ms)
    return jsonify(
        {
            "person": person.id,
            "kind": kind.name,
            "from": from_ms,
            "to": to_ms,
            "total": total,
            "downsampled": len(t_ms) < total,
            "max_points": max_points,
            "x": t_ms.tolist(),
            "series": [{"name": kind.label, "unit": kind.unit, "values": values.tolist()}],
            # which device the series comes from when several recorded this range (tracker.sources.RULE)
            "source": None if chosen is None else {
                "device_key": chosen[0].device_key, "name": chosen[1], "other_sources": chosen[0].others,
                "rule": sources.RULE,
            },
        }
    )


# -- nights, captures, report, session chart ---------------------------------------------------------


def _midnight_ms(label: dt.date, tz: str) -> int:
    """Where a night sits on a time axis: local midnight inside it (its label is the morning it ends)."""
    return int(dt.datetime.combine(label, dt.time(0), tzinfo=ZoneInfo(tz)).timestamp() * 1000)


def _night_json(n: Night, tz: str) -> dict[str, Any]:
    return {
        "night": n.label.isoformat(),
        "bed_start": format_local(n.bed_start_ms, tz),
        "bed_end": format_local(n.bed_end_ms, tz),
        "time_in_bed_min": _finite(n.time_in_bed_min),
        "tst_min": _finite(n.tst_min),
        "sleep_efficiency_pct": _finite(n.sleep_efficiency_pct),
        "sleep_onset_latency_min": _finite(n.sleep_onset_latency_min),
        "waso_min": _finite(n.waso_min),
        "awakenings": n.awakenings,
        "stages_from_device": n.stages_from_device,
        "light_min": _finite(n.light_min),
        "deep_min": _finite(n.deep_min),
        "rem_min": _finite(n.rem_min),
        "resting_hr_bpm": _finite(n.resting_hr_bpm),
        "ln_rmssd_night": _finite(n.ln_rmssd_night),
    }


def _finite(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), 4)


def _span_json(s: SessionInfo) -> dict[str, Any]:
    return {"id": s.id, "kind": str(s.kind), "status": str(s.status), "start_ms": s.start_ms, "end_ms": s.end_ms}


@bp.get("/nights")
def nights() -> Response:
    """The person's nights (newest `last`, default all up to MAX_NIGHTS) with chart series and session marks."""
    person = _person(request.args.get("person"))
    assert person is not None
    last = _int_arg("last", 1, MAX_NIGHTS)
    reports = services().reports
    found = reports.recent_nights(person.id, last or MAX_NIGHTS)  # the newest stored nights only
    from tracker.reports import NIGHT_COLUMNS  # here, not at import: an idle server keeps scipy.stats unloaded
    x = [_midnight_ms(n.label, person.tz) for n in found]
    series = [
        {"key": key, "name": label, "unit": unit, "x": x, "values": [_finite(getattr(n, key)) for n in found]}
        for key, label, unit in NIGHT_COLUMNS
    ]
    spans: list[SessionInfo] = []
    if found:
        lo, _ = night_window_ms(found[0].label, person.tz)
        _, hi = night_window_ms(found[-1].label, person.tz)
        spans = services().sessions.list(person.id, user_id=user_id(), statuses=[SessionStatus.DONE, SessionStatus.PLANNED],
                                          from_ms=lo, to_ms=hi)  # fmt: skip
    return jsonify(
        {
            "person": person.id,
            "timezone": person.tz,
            "nights": [_night_json(n, person.tz) for n in found],
            "series": series,
            "spans": [_span_json(s) for s in spans],
        }
    )


@bp.get("/captures")
def captures() -> Response:
    """The capture windows of one session (planned, ok, not in range, ...) with their quality."""
    session_id = parse_id(request.args.get("session", ""))
    if session_id is None:
        abort(400, description="session must be a numeric id")
    info = services().sessions.get(session_id, user_id=user_id())
    rows = services().devices.captures(session_id=info.id)
    return jsonify({"session": info.id, "captures": [c.to_dict(info.tz) for c in rows]})


@bp.get("/device-metrics")
def device_metrics() -> Response:
    """Values the person's devices computed themselves, in [from, to) (default: the last 30 days), labelled."""
    person = _person(request.args.get("person"))
    assert person is not None
    kind = request.args.get("kind") or None
    if kind is not None and kind not in {str(k) for k in MetricKind}:
        abort(400, description=f"kind must be one of {', '.join(MetricKind)}")
    to_ms = _time_arg("to")
    to_ms = to_ms if to_ms is not None else services().clock.now_ms() + 1
    from_ms = _time_arg("from")
    from_ms = from_ms if from_ms is not None else to_ms - 30 * DAY_MS
    if to_ms <= from_ms:
        abort(400, description="to must be after from")
    limit = _int_arg("limit", 1, DEVICE_METRICS_LIMIT) or DEVICE_METRICS_LIMIT
    values = services().device_metrics.between(person.id, from_ms, to_ms, kind, limit)
    return jsonify({"person": person.id, "from": from_ms, "to": to_ms, "values": values,
                    "truncated": len(values) == limit})  # fmt: skip


@bp.get("/report")
def report() -> Response:
    """The evidence report (tracker.analysis.report.Report.to_dict), cached per person until its data change."""
    person = _person(request.args.get("person"))
    assert person is not None
    return jsonify(services().reports.evidence(person.id).report.to_dict())


@bp.get("/sessions/<int:session_id>/chart")
def session_chart(session_id: int) -> Response:
    """HR and rolling lnRMSSD from the pre window's start to the post window's end, ≤ 2000 points each."""
    max_points = clamp_points(_int_arg("max_points", 1, 1_000_000))
    data = services().reports.session_series(session_id, user_id=user_id())
    series = []
    for s in data.series:
        x, values = chart_series(s.t_ms, s.values, s.gap_ms, max_points)
        series.append({"key": s.key, "name": s.name, "unit": s.unit, "x": x, "values": values, "total": len(s.t_ms)})
    spans = [
        {"kind": "window", "label": "pre", "start_ms": data.pre.start_ms, "end_ms": data.pre.end_ms},
        _span_json(data.session),
        {"kind": "window", "label": "post", "start_ms": data.post.start_ms, "end_ms": data.post.end_ms},
    ]
    return jsonify({"session": session_id, "timezone": data.session.tz, "from": data.start_ms, "to": data.end_ms,
                    "max_points": max_points, "series": series, "spans": spans})  # fmt: skip


