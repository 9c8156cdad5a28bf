"""Sign-in that cannot be brute-forced, flushed or used to starve the server (SQLite and PostgreSQL).

The counts live in the database: per account across addresses (growing delays, never a permanent
lock-out of the owner), per address across accounts; X-Forwarded-For only from `[web] trusted_proxies`;
a bounded number of password hashes at once; first-run setup makes one account however many race.
"""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient

from tracker.bootstrap import Tracker
from tracker.clock import ManualClock
from tracker.config import WebConfig
from tracker.people import Users
from tracker.signins import ADDRESSES_FACTOR
from tracker.storage.models import SigninFailure
from web import create_app

from .conftest import PASSWORD, make_account

WRONG = {"name": "ana", "password": "wrong pass"}
RIGHT = {"name": "ana", "password": PASSWORD}


def _post(app: Flask, data: dict[str, str], address: str, headers: dict[str, str] | None = None) -> int:
    client = app.test_client()
    return client.post("/signin", data=data, environ_base={"REMOTE_ADDR": address}, headers=headers or {}).status_code


def test_guesses_from_many_addresses_count_against_the_account_with_growing_delays(
    app: Flask, tracker: Tracker, ana: object, clock: ManualClock
) -> None:
    limit = tracker.config.web.login_attempts_per_15min
    for i in range(limit):  # each guess from a new address (before: 5 more guesses per extra address)
        assert _post(app, WRONG, f"10.0.0.{i}") == 401
    refused = app.test_client().post("/signin", data=WRONG, environ_base={"REMOTE_ADDR": "10.0.1.1"})
    assert refused.status_code == 429 and "for this account" in refused.get_data(as_text=True)
    delays = [int(refused.headers["Retry-After"])]
    for i in range(4):  # wait out each delay, fail once more: the next delay is longer
        clock.advance(s=delays[-1])
        assert _post(app, WRONG, f"10.0.2.{i}") == 401
        again = app.test_client().post("/signin", data=RIGHT, environ_base={"REMOTE_ADDR": "10.0.3.1"})
        assert again.status_code == 429  # even the right password waits (no oracle during the delay)
        delays.append(int(again.headers["Retry-After"]))
    assert delays == sorted(delays) and delays[-1] >= 8 * delays[0]
    # never a permanent lock-out: after the delay the owner signs in, and that clears the count
    clock.advance(s=delays[-1])
    assert _post(app, RIGHT, "192.168.1.20") == 302
    assert _post(app, WRONG, "192.168.1.20") == 401


def test_one_address_guessing_across_many_accounts_is_stopped(app: Flask, tracker: Tracker, ana: object) -> None:
    limit = ADDRESSES_FACTOR * tracker.config.web.login_attempts_per_15min
    for i in range(limit):
        assert _post(app, {"name": f"user{i}", "password": "guess guess"}, "203.0.113.7") == 401
    assert _post(app, RIGHT, "203.0.113.7") == 429  # the address waits, whatever name it tries
    assert _post(app, RIGHT, "203.0.113.8") == 302  # the owner elsewhere is not affected


def test_counts_survive_a_restart_and_are_shared_by_processes_and_not_flushed(
    tracker: Tracker, ana: object, clock: ManualClock
) -> None:
    first = create_app(tracker, secret_key="k" * 40, testing=True)
    first.config["WTF_CSRF_ENABLED"] = False
    for i in range(tracker.config.web.login_attempts_per_15min):
        assert _post(first, WRONG, f"10.9.0.{i}") == 401
    # 10,000 failures under other names from other addresses (before: they evicted the lock from memory)
    with tracker.sessionmaker.begin() as db:
        db.execute(sa.insert(SigninFailure), [
            {"name_key": f"spray{i}", "address": f"172.16.{i // 250}.{i % 250}", "t_ms": clock.now_ms()}
            for i in range(10_000)
        ])  # fmt: skip
    second = create_app(tracker, secret_key="k" * 40, testing=True)  # another process, or after a restart
    second.config["WTF_CSRF_ENABLED"] = False
    assert _post(second, RIGHT, "10.9.9.9") == 429
    # a day later the rows are gone at the next failure: the table holds at most a day of failures
    clock.advance(days=1, s=1)
    assert _post(second, WRONG, "10.9.9.9") == 401
    with tracker.sessionmaker() as db:
        assert db.scalar(sa.select(sa.func.count()).select_from(SigninFailure)) == 1


@pytest.mark.parametrize("trusted", [False, True])
def test_forwarded_addresses_are_believed_only_from_trusted_proxies(tracker: Tracker, trusted: bool) -> None:
    web = WebConfig(login_attempts_per_15min=2, trusted_proxies=("127.0.0.1/32",) if trusted else ())
    tracker.config = tracker.config.replace(web=web)
    make_account(tracker, "ana")
    app = create_app(tracker, secret_key="k" * 40, testing=True)
    app.config["WTF_CSRF_ENABLED"] = False
    limit = ADDRESSES_FACTOR * 2
    codes = [
        _post(app, {"name": f"n{i}", "password": "guess guess"}, "127.0.0.1", {"X-Forwarded-For": f"198.51.100.{i}"})
        for i in range(limit + 1)
    ]
    if trusted:  # each forwarded client is its own address: none reaches the per-address limit
        assert codes == [401] * (limit + 1)
    else:  # a made-up header does not give a guesser a fresh address per attempt
        assert codes == [401] * limit + [429]
    if trusted:  # a client at its limit cannot escape by writing a made-up hop in front of the real one
        for i in range(limit):
            _post(app, {"name": f"y{i}", "password": "guess guess"}, "127.0.0.1", {"X-Forwarded-For": "198.51.100.50"})
        spoofed = {"X-Forwarded-For": "1.2.3.4, 198.51.100.50"}
        assert _post(app, {"name": "x", "password": "guess guess"}, "127.0.0.1", spoofed) == 429


def test_at_most_a_bounded_number_of_password_hashes_run_at_once(tracker: Tracker, ana: object) -> None:
    running, peak, lock = [0], [0], threading.Lock()

    class CountingHasher(PasswordHasher):
        """The real argon2 hasher, counting how many hash at the same time."""

        def verify(self, hash: str | bytes, password: str | bytes) -> bool:  # noqa: A002
            with lock:
                running[0] += 1
                peak[0] = max(peak[0], running[0])
            try:
                return super().verify(hash, password)
            finally:
                with lock:
                    running[0] -= 1

    tracker.users = Users(tracker.sessionmaker, tracker.clock, CountingHasher(time_cost=2, memory_cost=8192, parallelism=1))
    tracker.users.set_password("ana", PASSWORD)
    app = create_app(tracker, secret_key="k" * 40, testing=True)
    app.config["WTF_CSRF_ENABLED"] = False
    codes: list[int] = []

    def attempt(i: int) -> None:
        codes.append(_post(app, {"name": "ana", "password": PASSWORD}, f"10.7.0.{i}"))

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    from tracker.people import HASH_SLOTS

    assert 1 <= peak[0] <= HASH_SLOTS
    assert len(codes) == 8 and set(codes) <= {302, 503} and 302 in codes


def test_a_sign_in_finding_every_hash_slot_taken_is_told_to_retry(
    app: Flask, tracker: Tracker, ana: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tracker.people as people_module

    monkeypatch.setattr(people_module, "HASH_WAIT_S", 0.05)
    slots = tracker.users._slots  # noqa: SLF001  (hold every slot, as a flood would)
    held = 0
    while slots.acquire(blocking=False):
        held += 1
    try:
        response = app.test_client().post("/signin", data=RIGHT)
    finally:
        for _ in range(held):
            slots.release()
    assert response.status_code == 503 and "busy" in response.get_data(as_text=True)
    assert int(response.headers["Retry-After"]) > 0
    assert app.test_client().post("/signin", data=RIGHT).status_code == 302
    with tracker.sessionmaker() as db:  # a busy answer is not a failed guess
        assert db.scalar(sa.select(sa.func.count()).select_from(SigninFailure)) == 0


def test_first_run_setup_creates_exactly_one_account_when_8_requests_race(app: Flask, tracker: Tracker) -> None:
    start = threading.Barrier(8)
    codes: list[int] = []

    def setup(i: int) -> None:
        client = app.test_client()
        start.wait()
        codes.append(client.post("/setup", data={"name": f"admin{i}", "password": PASSWORD, "confirm": PASSWORD}).status_code)

    threads = [threading.Thread(target=setup, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(codes) == 8 and set(codes) == {302}
    assert tracker.users.count() == 1


