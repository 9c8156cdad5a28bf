"""Hypnogram geometry for the Sleep page: stage segments → SVG rectangles in a fixed local-time frame.

Server-rendered SVG, not a script: the CSP forbids inline styles, but SVG geometry is attributes
(x, y, width, height), and the stage colours are CSS classes (`.stage-deep` ...) in style.css. Every
night is drawn on the same frame, 18:00 the evening before to 12:00 on the morning the night is
labelled by, so nights line up under each other.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from tracker.model import SleepSpan, Stage

WIDTH = 1000  # viewBox units
ROW_HEIGHT = 14
FRAME_START_H = 18  # local hour on the evening before the night's label
FRAME_END_H = 12  # local hour on the label's morning
TICK_EVERY_H = 2
# Top to bottom, the usual hypnogram order; "asleep" (a device without stages) sits with light sleep.
ROWS: dict[Stage, int] = {Stage.AWAKE: 0, Stage.REM: 1, Stage.LIGHT: 2, Stage.ASLEEP: 2, Stage.DEEP: 3}
HEIGHT = ROW_HEIGHT * 4
STAGE_LABELS = {Stage.AWAKE: "Awake", Stage.REM: "REM", Stage.LIGHT: "Light", Stage.DEEP: "Deep", Stage.ASLEEP: "Asleep"}


@dataclass(frozen=True, slots=True)
class Rect:
    x: float
    y: int
    width: float
    stage: str
    title: str  # tooltip: stage and local times


@dataclass(frozen=True, slots=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True, slots=True)
class Hypnogram:
    label: dt.date
    rects: tuple[Rect, ...]
    ticks: tuple[Tick, ...]


def frame_ms(label: dt.date, tz: str) -> tuple[int, int]:
    zone = ZoneInfo(tz)
    start = dt.datetime.combine(label - dt.timedelta(days=1), dt.time(FRAME_START_H), tzinfo=zone)
    end = dt.datetime.combine(label, dt.time(FRAME_END_H), tzinfo=zone)
    return int(start.timestamp() * 1000), int(end.timestamp() * 1000)


def hypnogram(label: dt.date, segments: Sequence[SleepSpan], tz: str) -> Hypnogram:
    lo, hi = frame_ms(label, tz)
    scale = WIDTH / (hi - lo)
    zone = ZoneInfo(tz)

    def hhmm(t_ms: int) -> str:
        return dt.datetime.fromtimestamp(t_ms / 1000, zone).strftime("%H:%M")

    rects = []
    for s in segments:
        a, b = max(s.start_ms, lo), min(s.end_ms, hi)
        if b <= a:
            continue
        stage = Stage(s.stage)
        rects.append(
            Rect(
                x=round((a - lo) * scale, 2),
                y=ROWS[stage] * ROW_HEIGHT,
                width=max(round((b - a) * scale, 2), 0.5),  # a one-minute awakening stays visible
                stage=str(stage),
                title=f"{STAGE_LABELS[stage]} {hhmm(s.start_ms)}–{hhmm(s.end_ms)}",
            )
        )
    ticks = []
    t = dt.datetime.fromtimestamp(lo / 1000, zone)
    while (t_ms := int(t.timestamp() * 1000)) <= hi:
        ticks.append(Tick(round((t_ms - lo) * scale, 2), t.strftime("%H:%M")))
        t = (t + dt.timedelta(hours=TICK_EVERY_H)).astimezone(zone)
    return Hypnogram(label, tuple(rects), tuple(ticks))
