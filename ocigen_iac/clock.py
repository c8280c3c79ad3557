"""One clock for every sleep, poll, timeout and jitter (API retries, readiness polls, waits).

Injectable: tests pass a fake clock so waiting is fast and deterministic.
"""

from __future__ import annotations

import asyncio
import random
import time


class Clock:
    """Time and randomness. Subclass (or duck-type) it in tests."""

    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def random(self) -> float:
        return random.random()


class Backoff:
    """Exponential poll intervals with jitter: `await backoff.wait()` until `expired`.

    `first` s, growing by `factor` up to `cap` s, each jittered by ±25%; bounded by `timeout_s`
    of this clock's time.
    """

    def __init__(self, clock: Clock, *, first: float = 0.1, factor: float = 1.6, cap: float = 3.0,
                 timeout_s: float = 1800.0) -> None:
        self.clock = clock
        self.delay = first
        self.factor = factor
        self.cap = cap
        self.deadline = clock.monotonic() + timeout_s
        self.attempts = 0

    @property
    def expired(self) -> bool:
        return self.clock.monotonic() >= self.deadline

    async def wait(self, at_least: float | None = None) -> None:
        """Sleep the next interval (or `at_least`, e.g. a server's poll hint), never past the deadline."""
        self.attempts += 1
        delay = self.delay * (0.75 + self.clock.random() / 2)
        if at_least is not None:
            delay = max(delay, at_least)
        delay = min(delay, max(0.0, self.deadline - self.clock.monotonic()))
        self.delay = min(self.delay * self.factor, self.cap)
        await self.clock.sleep(delay)


DEFAULT_CLOCK = Clock()
