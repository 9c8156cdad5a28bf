"""tracker.queries.fetch_tuples: plain tuples equal to the ORM's rows, through SQLAlchemy's compiled cache."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from tracker.bootstrap import Tracker
from tracker.ingest import Provenance
from tracker.model import Source
from tracker.queries import fetch_tuples
from tracker.storage.models import HeartRateRow, RRRow

T0 = 1_800_000_000_000


def _people_with_samples(tracker: Tracker) -> tuple[int, int]:
    a = tracker.people.add("A", "Europe/Berlin").id
    b = tracker.people.add("B", "Europe/Berlin").id
    for pid, offset in ((a, 0), (b, 7)):
        tracker.ingest.heart_rate([(T0 + i * 60_000, 50 + (i + offset) % 30) for i in range(120)],
                                  Provenance(pid, Source.IMPORT))  # fmt: skip
        tracker.ingest.rr([(T0 + i * 1000, 800.0 + (i + offset) % 7 * 1000 / 1024) for i in range(300)],
                          Provenance(pid, Source.IMPORT))  # fmt: skip
    return a, b


def test_rows_are_plain_tuples_equal_to_the_orm_rows(tracker: Tracker) -> None:
    a, _b = _people_with_samples(tracker)
    stmts = [
        sa.select(HeartRateRow.t_ms, HeartRateRow.bpm).where(HeartRateRow.person_id == a).order_by(HeartRateRow.t_ms),
        sa.select(RRRow.t_ms, RRRow.rr_ms).where(RRRow.person_id == a, RRRow.t_ms >= T0 + 10_000).order_by(RRRow.t_ms),
    ]
    with tracker.sessionmaker() as db:
        for stmt in stmts:
            got = fetch_tuples(db, stmt)
            expected = [tuple(r) for r in db.execute(stmt).all()]
            assert got == expected and len(got) > 100
            assert all(type(r) is tuple for r in got)  # no Row objects: what makes it cheap
            assert isinstance(got[0][0], int) and isinstance(got[0][1], int | float)


def test_a_statement_is_compiled_once_for_any_parameters(tracker: Tracker) -> None:
    a, b = _people_with_samples(tracker)
    compiled: list[Any] = []

    def seen(_conn: Any, _cursor: Any, _statement: str, _params: Any, context: Any, _many: bool) -> None:
        compiled.append(None if context is None else context.compiled)

    def stmt(pid: int, lo: int) -> sa.Select[Any]:
        return sa.select(RRRow.t_ms, RRRow.rr_ms).where(RRRow.person_id == pid, RRRow.t_ms >= lo).order_by(RRRow.t_ms)

    sa.event.listen(tracker.engine, "before_cursor_execute", seen)
    try:
        with tracker.sessionmaker() as db:
            first = fetch_tuples(db, stmt(a, T0))
            second = fetch_tuples(db, stmt(b, T0 + 100_000))
    finally:
        sa.event.remove(tracker.engine, "before_cursor_execute", seen)
    assert len(first) == 300 and len(second) == 200  # each call's own parameters were bound
    assert len(compiled) == 2 and compiled[0] is not None
    assert compiled[0] is compiled[1]  # the second call reused the first one's compiled statement
