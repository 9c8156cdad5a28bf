"""Fault injection for emulated wearables: the misbehaviour real devices show in the field.

Owns `Faults`, a small mutable plan that every `EmulatedPeripheral` consults at fixed points:

* connection set-up — refuse the first K attempts, either by *rejecting* (the peripheral drops the
  link at once, as a device with no free slot does) or by *ignoring* (the link comes up but the GATT
  server never answers, so the central's service discovery times out);
* after each notification or response packet — drop the link after N more packets, or at a point
  drawn from a seeded RNG, so a test can cut a transfer in the middle reproducibly;
* before each notification — interleave a malformed packet every n-th time (the peripheral decides
  what "malformed" means: a truncated HRM for the strap, a bad checksum for the Colmi ring);
* request handling — stop answering a request type altogether (the ring's sleep request on old
  firmware, or any Colmi command byte).

The plan is mutable at run time, so a collector test can arm a fault between two syncs. Counters
(`refused`, `dropped`, `malformed_sent`, `ignored_requests`) let tests assert that the fault fired.
Nothing here touches bumble: peripherals translate decisions into link actions.
"""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass


class RefuseMode(enum.StrEnum):
    """How a peripheral refuses a connection attempt."""

    REJECT = "reject"  # link comes up, peripheral terminates it at once
    IGNORE = "ignore"  # link comes up, GATT server stays silent until the central gives up


# HCI reason codes used when the peripheral drops a link (Core spec Vol 1, Part F).
REASON_REMOTE_USER_TERMINATED = 0x13
REASON_CONNECTION_TIMEOUT = 0x08  # what a central sees when a device walks out of range
REASON_LIMITED_RESOURCES = 0x0D  # "connection rejected due to limited resources"


@dataclass
class FaultCounters:
    """What the faults actually did, for assertions."""

    refused: int = 0
    dropped: int = 0
    malformed_sent: int = 0
    ignored_requests: int = 0


class Faults:
    """A mutable, seeded fault plan for one emulated peripheral.

    All methods are cheap and synchronous; peripherals call the `should_*`/`on_*` hooks, tests call
    the arming methods. The RNG is private and seeded, so "drop at a random point" is reproducible.
    """

    def __init__(self, seed: int = 0) -> None:
        self._rng = random.Random(seed)
        self._refuse_remaining = 0
        self.refuse_mode = RefuseMode.REJECT
        self._drop_after: int | None = None  # packets still allowed before the link drops
        self._repeat_drop: tuple[int, int] | None = None
        self.drop_reason = REASON_CONNECTION_TIMEOUT
        self._malformed_every: int | None = None
        self._packets_since_malformed = 0
        self._silenced: set[int | str] = set()
        self.counters = FaultCounters()

    # -- arming (tests) -------------------------------------------------------------------------

    def refuse_connections(self, count: int, mode: RefuseMode | str = RefuseMode.REJECT) -> None:
        """Refuse the next `count` connection attempts (reject = drop at once; ignore = stay mute)."""
        self._refuse_remaining = count
        self.refuse_mode = RefuseMode(mode)

    def drop_link_after(self, packets: int, reason: int = REASON_CONNECTION_TIMEOUT) -> None:
        """Drop the link once `packets` more notifications/response packets have been sent."""
        self._drop_after = packets
        self.drop_reason = reason

    def drop_link_randomly(
        self, low: int, high: int, reason: int = REASON_CONNECTION_TIMEOUT, *, repeat: bool = False
    ) -> int:
        """Drop the link after a seeded-random number of packets in [low, high]; returns it. With `repeat`,
        arm again after every drop (a link that keeps failing) until `clear()`."""
        packets = self._rng.randint(low, high)
        self.drop_link_after(packets, reason)
        self._repeat_drop = (low, high) if repeat else None
        return packets

    def interleave_malformed(self, every: int | None) -> None:
        """Send one malformed notification after every `every` good ones (None = stop)."""
        self._malformed_every = every
        self._packets_since_malformed = 0

    def silence(self, request: int | str) -> None:
        """Stop answering a request type (a Colmi command byte, or a name such as "sleep")."""
        self._silenced.add(request)

    def unsilence(self, request: int | str) -> None:
        self._silenced.discard(request)

    def clear(self) -> None:
        """Disarm everything (counters are kept)."""
        self._refuse_remaining = 0
        self._drop_after = None
        self._repeat_drop = None
        self._malformed_every = None
        self._silenced.clear()

    # -- hooks (peripherals) --------------------------------------------------------------------

    def should_refuse_connection(self) -> RefuseMode | None:
        """Called once per incoming connection; returns how to refuse it, or None to accept."""
        if self._refuse_remaining <= 0:
            return None
        self._refuse_remaining -= 1
        self.counters.refused += 1
        return self.refuse_mode

    def malformed_due(self) -> bool:
        """Called before each good notification; True means "send a malformed one first"."""
        if self._malformed_every is None:
            return False
        if self._packets_since_malformed >= self._malformed_every:
            self._packets_since_malformed = 0
            self.counters.malformed_sent += 1
            return True
        return False

    def on_packet_sent(self) -> bool:
        """Called after each good notification/response packet; True means "drop the link now"."""
        if self._malformed_every is not None:
            self._packets_since_malformed += 1
        if self._drop_after is None:
            return False
        self._drop_after -= 1
        if self._drop_after <= 0:
            self._drop_after = None if self._repeat_drop is None else self._rng.randint(*self._repeat_drop)
            self.counters.dropped += 1
            return True
        return False

    def is_silenced(self, request: int | str) -> bool:
        """Called per request; True means "do not answer" (and counts it)."""
        if request in self._silenced:
            self.counters.ignored_requests += 1
            return True
        return False
