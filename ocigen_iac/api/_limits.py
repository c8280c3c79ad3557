"""Adaptive concurrency (AIMD): as many requests in flight as the service allows, no 429 storm.

The limit starts at the configured parallelism (its ceiling). Every 429 halves it (at most once
a second, so one burst of 429s is one cut); every `limit` successes in a row add one back. So a
run uses all the parallelism it was given until the service pushes back, then settles just
below what the service tolerates (TCP's congestion control, for HTTP requests).
"""

from __future__ import annotations

import asyncio
from collections import deque
from types import TracebackType

from ocigen_iac.clock import Clock

CUT_INTERVAL_S = 1.0


class NotSent(Exception):
    """The run was interrupted before this request left: nothing was sent."""


class AdaptiveLimit:
    def __init__(self, ceiling: int, clock: Clock, floor: int = 1) -> None:
        self.closed = False  # after an interrupt: requests not yet sent are not sent
        self.ceiling = max(1, ceiling)
        self.floor = max(1, min(floor, self.ceiling))
        self.limit = float(self.ceiling)
        self.clock = clock
        self.in_flight = 0
        self.lowest = self.ceiling  # the lowest limit this run came down to (stats)
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._successes = 0
        self._last_cut = float("-inf")

    def close(self) -> None:
        """Refuse every request that has not left yet (Ctrl-C: finish what is in flight only)."""
        self.closed = True
        for fut in self._waiters:
            if not fut.done():
                fut.set_exception(NotSent("interrupted before it was sent"))
        self._waiters.clear()

    async def __aenter__(self) -> AdaptiveLimit:
        if self.closed:
            raise NotSent("interrupted before it was sent")
        while self.in_flight >= int(self.limit):
            fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.append(fut)
            try:
                await fut
            except asyncio.CancelledError:
                if fut in self._waiters:
                    self._waiters.remove(fut)
                raise
        self.in_flight += 1
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        self.in_flight -= 1
        self._wake()

    def _wake(self) -> None:
        free = int(self.limit) - self.in_flight
        while free > 0 and self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_result(None)
                free -= 1

    def success(self) -> None:
        self._successes += 1
        if self._successes >= int(self.limit) and self.limit < self.ceiling:
            self._successes = 0
            self.limit = min(float(self.ceiling), self.limit + 1)
            self._wake()

    def throttled(self) -> None:
        now = self.clock.monotonic()
        if now - self._last_cut < CUT_INTERVAL_S:
            return
        self._last_cut = now
        self._successes = 0
        self.limit = max(float(self.floor), self.limit / 2)
        self.lowest = min(self.lowest, int(self.limit))
