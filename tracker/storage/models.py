"""SQLAlchemy 2 typed tables: accounts, people, devices, samples with provenance, sessions, captures, runs.

Times are UTC integer epoch milliseconds (`*_ms`, BigInteger) on every backend: SQLite drops tzinfo, and
integers make the natural keys exact. Samples have composite natural primary keys, so a re-sync or a
re-import can never store a value twice (writes use INSERT ... ON CONFLICT DO NOTHING). The key includes
the device (`device_key`), so a band and a ring worn at the same time both keep their values; readers
choose one source per metric and period (tracker/sources.py).
"""

from __future__ import annotations

import datetime as dt
import os
import socket

import sqlalchemy as sa
import sqlalchemy.orm as so


class Base(so.DeclarativeBase):
    metadata = sa.MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


Ms = sa.BigInteger  # epoch milliseconds, UTC


def process_owner() -> str:
    """This process as "host:pid" (the owner recorded on the runs it opens)."""
    return f"{socket.gethostname()}:{os.getpid()}"


class User(Base):
    """A login account; it may manage several people (a therapist's clients)."""

    __tablename__ = "user_account"
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(80), unique=True)
    password_hash: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    created_ms: so.Mapped[int] = so.mapped_column(Ms)
    disabled_ms: so.Mapped[int | None] = so.mapped_column(Ms)  # set: cannot sign in, sessions and tokens refused


class ApiToken(Base):
    """A bearer token for scripts; only its SHA-256 is stored."""

    __tablename__ = "api_token"
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(80))
    token_sha256: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    created_ms: so.Mapped[int] = so.mapped_column(Ms)
    last_used_ms: so.Mapped[int | None] = so.mapped_column(Ms)
    expires_ms: so.Mapped[int | None] = so.mapped_column(Ms)  # None: until revoked


class Person(Base):
    """Whose data it is; every local-time computation uses `tz`.

    Names are unique within an account, not across accounts: two households may both have a "Mum", and
    a clash must never tell one account what another has. People with no account (added by the
    administrator, not yet linked) are unique among themselves; the partial index covers them because a
    unique constraint treats every NULL user_id as distinct.
    """

    __tablename__ = "person"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "name", name="uq_person_user_id_name"),
        sa.Index(
            "uq_person_name_no_account", "name", unique=True,
            sqlite_where=sa.text("user_id IS NULL"), postgresql_where=sa.text("user_id IS NULL"),
        ),  # fmt: skip
    )
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    tz: so.Mapped[str] = so.mapped_column(sa.String(64))
    user_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    created_ms: so.Mapped[int] = so.mapped_column(Ms)


class Device(Base):
    """A paired wearable. `unpaired_ms` set means it is kept for provenance but no longer synced."""

    __tablename__ = "device"
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    person_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("person.id", ondelete="SET NULL"), index=True)
    address: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    family: so.Mapped[str] = so.mapped_column(sa.String(32))  # "hrs" (any Heart Rate Service device) | "colmi"
    manufacturer: so.Mapped[str | None] = so.mapped_column(sa.String(120))
    model: so.Mapped[str | None] = so.mapped_column(sa.String(120))
    serial: so.Mapped[str | None] = so.mapped_column(sa.String(120))
    firmware: so.Mapped[str | None] = so.mapped_column(sa.String(120))
    battery_pct: so.Mapped[int | None] = so.mapped_column(sa.SmallInteger)
    battery_ms: so.Mapped[int | None] = so.mapped_column(Ms)
    bonded: so.Mapped[bool] = so.mapped_column(default=False)
    paired_ms: so.Mapped[int] = so.mapped_column(Ms)
    unpaired_ms: so.Mapped[int | None] = so.mapped_column(Ms)
    sync_interval_min: so.Mapped[int | None] = so.mapped_column(sa.Integer)  # per-device override
    last_sync_ms: so.Mapped[int | None] = so.mapped_column(Ms)
    last_sync_status: so.Mapped[str | None] = so.mapped_column(sa.String(16))
    # A Huami band's 16-byte auth key (hex). Secret: never in DeviceInfo, exports or API responses.
    auth_key: so.Mapped[str | None] = so.mapped_column(sa.String(64))


class SyncCursor(Base):
    """How far a device's stored history has been committed, per stream ("hr_log", "sleep")."""

    __tablename__ = "sync_cursor"
    device_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("device.id", ondelete="CASCADE"), primary_key=True)
    stream: so.Mapped[str] = so.mapped_column(sa.String(16), primary_key=True)
    cursor_ms: so.Mapped[int] = so.mapped_column(Ms)


class Run(Base):
    """One sync, capture or import: when, what it wrote, what went wrong."""

    __tablename__ = "run"
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(16))  # model.RunKind
    person_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("person.id", ondelete="SET NULL"), index=True)
    device_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("device.id", ondelete="SET NULL"), index=True)
    started_ms: so.Mapped[int] = so.mapped_column(Ms, index=True)
    ended_ms: so.Mapped[int | None] = so.mapped_column(Ms)
    status: so.Mapped[str] = so.mapped_column(sa.String(16))  # model.RunStatus
    heart_rate_count: so.Mapped[int] = so.mapped_column(default=0)
    rr_count: so.Mapped[int] = so.mapped_column(default=0)
    sleep_count: so.Mapped[int] = so.mapped_column(default=0)
    session_count: so.Mapped[int] = so.mapped_column(default=0)
    malformed_count: so.Mapped[int] = so.mapped_column(default=0)  # packets counted and skipped
    detail: so.Mapped[str | None] = so.mapped_column(sa.Text)  # e.g. "sleep: unavailable (no answer)"
    error: so.Mapped[str | None] = so.mapped_column(sa.Text)
    origin: so.Mapped[str | None] = so.mapped_column(sa.String(255))  # import file name, job id, "cli"
    # "host:pid" of the process that opened the run, so a run whose process died (kill -9, power cut) can be
    # closed as interrupted later (tracker.run_recovery). A column default, so every writer of runs sets it.
    owner: so.Mapped[str | None] = so.mapped_column(sa.String(255), default=lambda: process_owner())


class HeartRateRow(Base):
    __tablename__ = "heart_rate"
    person_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("person.id", ondelete="CASCADE"), primary_key=True)
    t_ms: so.Mapped[int] = so.mapped_column(Ms, primary_key=True)
    # device_id, or 0 for rows from no device (a CSV import). A key column cannot be NULL, and device_id
    # may become NULL when a device is removed, so the key keeps its own copy.
    device_key: so.Mapped[int] = so.mapped_column(sa.Integer, primary_key=True, server_default="0")
    bpm: so.Mapped[int] = so.mapped_column(sa.SmallInteger)
    device_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("device.id", ondelete="SET NULL"))
    source: so.Mapped[str] = so.mapped_column(sa.String(8))  # model.Source
    run_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("run.id", ondelete="SET NULL"))


class RRRow(Base):
    """An RR interval; `t_ms` is the beat that ends it. BLE ticks convert exactly: rr_ms = ticks * 1000/1024."""

    __tablename__ = "rr_interval"
    person_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("person.id", ondelete="CASCADE"), primary_key=True)
    t_ms: so.Mapped[int] = so.mapped_column(Ms, primary_key=True)
    # device_id, or 0 for rows from no device (a CSV import). A key column cannot be NULL, and device_id
    # may become NULL when a device is removed, so the key keeps its own copy.
    device_key: so.Mapped[int] = so.mapped_column(sa.Integer, primary_key=True, server_default="0")
    rr_ms: so.Mapped[float] = so.mapped_column(sa.Double)
    device_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("device.id", ondelete="SET NULL"))
    source: so.Mapped[str] = so.mapped_column(sa.String(8))
    run_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("run.id", ondelete="SET NULL"))


class SleepRow(Base):
    __tablename__ = "sleep_stage"
    person_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("person.id", ondelete="CASCADE"), primary_key=True)
    start_ms: so.Mapped[int] = so.mapped_column(Ms, primary_key=True)
    # device_id, or 0 for rows from no device (a CSV import). A key column cannot be NULL, and device_id
    # may become NULL when a device is removed, so the key keeps its own copy.
    device_key: so.Mapped[int] = so.mapped_column(sa.Integer, primary_key=True, server_default="0")
    end_ms: so.Mapped[int] = so.mapped_column(Ms)
    stage: so.Mapped[str] = so.mapped_column(sa.String(8))  # model.Stage
    device_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("device.id", ondelete="SET NULL"))
    source: so.Mapped[str] = so.mapped_column(sa.String(8))
    run_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("run.id", ondelete="SET NULL"))


class MassageSession(Base):
    """A massage or rest-control session, planned, done or cancelled, with self-reports 0-10."""

    __tablename__ = "massage_session"
    # One session per calendar event occurrence: (UID, RECURRENCE-ID), "" for a single event's own row.
    __table_args__ = (sa.UniqueConstraint("person_id", "ics_uid", "ics_recurrence_id"),)
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    person_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("person.id", ondelete="CASCADE"), index=True)
    status: so.Mapped[str] = so.mapped_column(sa.String(16))  # model.SessionStatus
    kind: so.Mapped[str] = so.mapped_column(sa.String(16))  # model.SessionKind
    start_ms: so.Mapped[int] = so.mapped_column(Ms, index=True)
    end_ms: so.Mapped[int] = so.mapped_column(Ms)
    technique: so.Mapped[str | None] = so.mapped_column(sa.String(40))
    pressure: so.Mapped[int | None] = so.mapped_column(sa.SmallInteger)
    areas: so.Mapped[str | None] = so.mapped_column(sa.String(255))  # ";"-separated
    therapist: so.Mapped[str | None] = so.mapped_column(sa.String(120))
    notes: so.Mapped[str | None] = so.mapped_column(sa.Text)
    pain_before: so.Mapped[int | None] = so.mapped_column(sa.SmallInteger)
    pain_after: so.Mapped[int | None] = so.mapped_column(sa.SmallInteger)
    stress_before: so.Mapped[int | None] = so.mapped_column(sa.SmallInteger)
    stress_after: so.Mapped[int | None] = so.mapped_column(sa.SmallInteger)
    mood_before: so.Mapped[int | None] = so.mapped_column(sa.SmallInteger)
    mood_after: so.Mapped[int | None] = so.mapped_column(sa.SmallInteger)
    ics_uid: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    ics_recurrence_id: so.Mapped[str] = so.mapped_column(sa.String(32), server_default="")  # UTC, e.g. 20270301T100000Z
    created_ms: so.Mapped[int] = so.mapped_column(Ms)
    updated_ms: so.Mapped[int] = so.mapped_column(Ms)
    run_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("run.id", ondelete="SET NULL"))  # the import


class Capture(Base):
    """A capture window (pre / during / post a session, or ad hoc) and how it went."""

    __tablename__ = "capture"
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    person_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("person.id", ondelete="CASCADE"), index=True)
    device_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("device.id", ondelete="SET NULL"))
    session_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("massage_session.id", ondelete="CASCADE"), index=True
    )
    phase: so.Mapped[str] = so.mapped_column(sa.String(8))  # model.Phase
    planned_start_ms: so.Mapped[int] = so.mapped_column(Ms)
    planned_end_ms: so.Mapped[int] = so.mapped_column(Ms)
    started_ms: so.Mapped[int | None] = so.mapped_column(Ms)
    ended_ms: so.Mapped[int | None] = so.mapped_column(Ms)
    status: so.Mapped[str] = so.mapped_column(sa.String(24))  # model.CaptureStatus
    message: so.Mapped[str | None] = so.mapped_column(sa.Text)
    beats: so.Mapped[int | None] = so.mapped_column(sa.Integer)
    artifact_pct: so.Mapped[float | None] = so.mapped_column(sa.Double)
    missing_s: so.Mapped[float | None] = so.mapped_column(sa.Double)
    run_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("run.id", ondelete="SET NULL"))


class NightSummary(Base):
    """One night's stored summary (tracker.nights): the fields of `analysis.sleep.Night`, one column each.

    Derived data: recomputed from the samples for the nights that new or deleted samples touch
    (`NightDirty`), and wholly by `tracker nights rebuild`. `night` is the local date the night ends.
    """

    __tablename__ = "night_summary"
    person_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("person.id", ondelete="CASCADE"), primary_key=True)
    night: so.Mapped[dt.date] = so.mapped_column(sa.Date, primary_key=True)
    bed_start_ms: so.Mapped[int] = so.mapped_column(Ms)
    bed_end_ms: so.Mapped[int] = so.mapped_column(Ms)
    sleep_onset_ms: so.Mapped[int] = so.mapped_column(Ms)
    sleep_end_ms: so.Mapped[int] = so.mapped_column(Ms)
    time_in_bed_min: so.Mapped[float] = so.mapped_column(sa.Double)
    sleep_onset_latency_min: so.Mapped[float] = so.mapped_column(sa.Double)
    tst_min: so.Mapped[float] = so.mapped_column(sa.Double)
    sleep_efficiency_pct: so.Mapped[float | None] = so.mapped_column(sa.Double)  # NULL: no time in bed
    waso_min: so.Mapped[float] = so.mapped_column(sa.Double)
    awakenings: so.Mapped[int] = so.mapped_column(sa.Integer)
    stages_from_device: so.Mapped[bool] = so.mapped_column(sa.Boolean)
    light_min: so.Mapped[float | None] = so.mapped_column(sa.Double)
    deep_min: so.Mapped[float | None] = so.mapped_column(sa.Double)
    rem_min: so.Mapped[float | None] = so.mapped_column(sa.Double)
    nap_min: so.Mapped[float] = so.mapped_column(sa.Double)
    resting_hr_bpm: so.Mapped[float | None] = so.mapped_column(sa.Double)
    ln_rmssd_night: so.Mapped[float | None] = so.mapped_column(sa.Double)
    n_hrv_windows: so.Mapped[int] = so.mapped_column(sa.Integer)  # quality-passed 5-min windows inside SPT
    computed_ms: so.Mapped[int] = so.mapped_column(Ms)


class NightDirty(Base):
    """A time range whose samples changed since its nights were summarised.

    Written in the same transaction as the samples (tracker.ingest), so a crash cannot lose it; consumed by
    `tracker.nights.NightStore.refresh`, which deletes exactly the rows it processed.
    """

    __tablename__ = "night_dirty"
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    person_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("person.id", ondelete="CASCADE"), index=True)
    start_ms: so.Mapped[int] = so.mapped_column(Ms)
    end_ms: so.Mapped[int] = so.mapped_column(Ms)  # inclusive: the last changed time


class WindowSummary(Base):
    """A capture window's summary computed from the RR stored inside it (tracker.window_store).

    Keyed by the window's exact bounds, so a session edit or a changed capture plan simply misses. Holds
    only what does not depend on settings that can change: [capture]'s quality thresholds decide `ok` when
    it is read, so `flagged_pct` and `coverage_pct` are kept unrounded. Derived data: deleted in the
    transaction of every write or deletion of samples that overlaps the window (tracker.nights.touch).
    """

    __tablename__ = "window_summary"
    person_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("person.id", ondelete="CASCADE"), primary_key=True)
    start_ms: so.Mapped[int] = so.mapped_column(Ms, primary_key=True)
    end_ms: so.Mapped[int] = so.mapped_column(Ms, primary_key=True)  # exclusive
    beats: so.Mapped[int] = so.mapped_column(sa.Integer)  # of the one source chosen in the window
    hr_bpm: so.Mapped[float | None] = so.mapped_column(sa.Double)
    ln_rmssd: so.Mapped[float | None] = so.mapped_column(sa.Double)
    flagged_pct: so.Mapped[float | None] = so.mapped_column(sa.Double)  # NULL: fewer than 2 beats
    coverage_pct: so.Mapped[float | None] = so.mapped_column(sa.Double)
    computed_ms: so.Mapped[int] = so.mapped_column(Ms)


class SampleEpoch(Base):
    """A per-person counter moved by every write or deletion of samples (tracker.window_store).

    A report that computed window summaries stores them only if the counter has not moved since it began
    reading the beats; updating this row also makes it wait for a writer still in flight.
    """

    __tablename__ = "sample_epoch"
    person_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("person.id", ondelete="CASCADE"), primary_key=True)
    epoch: so.Mapped[int] = so.mapped_column(sa.BigInteger)


class ServiceLock(Base):
    """A lease that keeps a second `tracker run` (scheduler + collector) off the same database."""

    __tablename__ = "service_lock"
    name: so.Mapped[str] = so.mapped_column(sa.String(32), primary_key=True)
    holder: so.Mapped[str] = so.mapped_column(sa.String(255))
    heartbeat_ms: so.Mapped[int] = so.mapped_column(Ms)


class Trial(Base):
    """An n-of-1 trial: each week a seeded coin decides which of two slots is the massage (the other: rest).

    The allocation (`trial_allocation`) and its seed are stored when the trial is planned, before its
    first session; the primary outcome is the person's primary endpoint at that moment.
    """

    __tablename__ = "trial"
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    person_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("person.id", ondelete="CASCADE"), index=True)
    weeks: so.Mapped[int] = so.mapped_column(sa.SmallInteger)
    slots: so.Mapped[str] = so.mapped_column(sa.String(80))  # normalised, e.g. "Tue 18:00,Fri 18:00" (local)
    session_min: so.Mapped[int] = so.mapped_column(sa.SmallInteger)
    first_day: so.Mapped[str] = so.mapped_column(sa.String(10))  # local date YYYY-MM-DD week 1 starts
    seed: so.Mapped[int] = so.mapped_column(sa.BigInteger)
    primary_metric: so.Mapped[str] = so.mapped_column(sa.String(40))
    primary_lag: so.Mapped[int] = so.mapped_column(sa.SmallInteger)
    status: so.Mapped[str] = so.mapped_column(sa.String(16))  # "active" | "stopped"
    created_ms: so.Mapped[int] = so.mapped_column(Ms)


class TrialAllocation(Base):
    """One planned trial session: its week, slot, allocated kind, session, and what was last seen of it."""

    __tablename__ = "trial_allocation"
    trial_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("trial.id", ondelete="CASCADE"), primary_key=True)
    week: so.Mapped[int] = so.mapped_column(sa.SmallInteger, primary_key=True)  # 1-based
    slot: so.Mapped[int] = so.mapped_column(sa.SmallInteger, primary_key=True)  # 0 or 1
    kind: so.Mapped[str] = so.mapped_column(sa.String(16))  # allocated: model.SessionKind
    session_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("massage_session.id", ondelete="SET NULL"), index=True
    )
    planned_start_ms: so.Mapped[int] = so.mapped_column(Ms)
    seen_start_ms: so.Mapped[int] = so.mapped_column(Ms)  # to record each move once
    seen_kind: so.Mapped[str] = so.mapped_column(sa.String(16))  # to record each swap once


class TrialDeviation(Base):
    """A planned trial session skipped, moved or swapped: when it was noticed and why."""

    __tablename__ = "trial_deviation"
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    trial_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("trial.id", ondelete="CASCADE"), index=True)
    week: so.Mapped[int] = so.mapped_column(sa.SmallInteger)
    slot: so.Mapped[int] = so.mapped_column(sa.SmallInteger)
    session_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("massage_session.id", ondelete="SET NULL"))
    kind: so.Mapped[str] = so.mapped_column(sa.String(16))  # "skipped" | "moved" | "swapped" | "restored"
    reason: so.Mapped[str] = so.mapped_column(sa.Text)
    recorded_ms: so.Mapped[int] = so.mapped_column(Ms)


class PrimaryEndpointChange(Base):
    """The person's primary endpoint as first recorded, and each later change, with the sessions done by then."""

    __tablename__ = "primary_endpoint"
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    person_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("person.id", ondelete="CASCADE"), index=True)
    metric: so.Mapped[str] = so.mapped_column(sa.String(40))
    lag: so.Mapped[int] = so.mapped_column(sa.SmallInteger)
    set_ms: so.Mapped[int] = so.mapped_column(Ms)
    sessions_done: so.Mapped[int] = so.mapped_column(sa.Integer)


class DeviceMetric(Base):
    """A value a device computed itself (its SDNN, its RMSSD, its resting HR), kept labelled as the device's.

    Never mixed with our own metrics: Apple's "HRV" is an SDNN over about a minute, Garmin's overnight HRV is
    its own RMSSD estimate, a Colmi ring's 30-minute HRV has an unpublished method (`device_hrv_ms`); all are
    stored here under their own `kind` (model.MetricKind), never as RR.
    """

    __tablename__ = "device_metric"
    person_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("person.id", ondelete="CASCADE"), primary_key=True)
    device_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("device.id", ondelete="CASCADE"), primary_key=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(24), primary_key=True)  # model.MetricKind
    t_ms: so.Mapped[int] = so.mapped_column(Ms, primary_key=True)
    value: so.Mapped[float] = so.mapped_column(sa.Double)
    source: so.Mapped[str] = so.mapped_column(sa.String(8))  # model.Source
    run_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("run.id", ondelete="SET NULL"), index=True)


class WebSession(Base):
    """A signed-in browser: the cookie carries a random id, only its SHA-256 is stored.

    Server side so that sign-out, a password change and `tracker user disable` end it at once (a signed
    cookie alone stays valid until it expires, whatever the server does).
    """

    __tablename__ = "web_session"
    id_sha256: so.Mapped[str] = so.mapped_column(sa.String(64), primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    created_ms: so.Mapped[int] = so.mapped_column(Ms)
    seen_ms: so.Mapped[int] = so.mapped_column(Ms)


class SigninFailure(Base):
    """One failed sign-in (account name as typed, casefolded; client address) for the sign-in limiter.

    In the database so that several web processes and restarts share the counts (web.security).
    """

    __tablename__ = "signin_failure"
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name_key: so.Mapped[str] = so.mapped_column(sa.String(80), index=True)
    address: so.Mapped[str] = so.mapped_column(sa.String(64), index=True)
    t_ms: so.Mapped[int] = so.mapped_column(Ms, index=True)


class ImportWatch(Base):
    """A file or folder a person's account asked `tracker run` to re-import when it changes (the Data page).

    Added only under `[import] watch_roots` (tracker.import_watches checks the resolved path, and the scan
    checks again before every read); `last_*` is what the latest scan found, shown on the Data page.
    """

    __tablename__ = "import_watch"
    __table_args__ = (sa.UniqueConstraint("person_id", "path"),)
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    person_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("person.id", ondelete="CASCADE"))
    path: so.Mapped[str] = so.mapped_column(sa.String(1024))  # absolute, symlinks and ".." resolved
    created_ms: so.Mapped[int] = so.mapped_column(Ms)
    last_check_ms: so.Mapped[int | None] = so.mapped_column(Ms)  # the latest scan that looked at it
    last_import_ms: so.Mapped[int | None] = so.mapped_column(Ms)  # the latest scan that imported a changed file
    last_result: so.Mapped[str | None] = so.mapped_column(sa.Text)  # e.g. "2 files: 1440 new of 1500 rows"
    last_error: so.Mapped[str | None] = so.mapped_column(sa.Text)  # None: the latest scan went well
