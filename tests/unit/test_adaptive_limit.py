"""AIMD concurrency: halve on 429 (once per burst), grow back by one per round of successes."""

from __future__ import annotations

import asyncio

from ocigen_iac.api._limits import AdaptiveLimit
from ocigen_iac.clock import Clock


class StepClock(Clock):
    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now


def test_a_burst_of_429s_halves_the_limit_once_and_successes_grow_it_back() -> None:
    clock = StepClock()
    limit = AdaptiveLimit(16, clock)
    for _ in range(10):  # one burst
        limit.throttled()
    assert limit.limit == 8
    clock.now = 2.0
    limit.throttled()
    assert limit.limit == 4 and limit.lowest == 4
    for _ in range(4 + 5 + 6):  # a round of `limit` successes adds one each
        limit.success()
    assert limit.limit == 7
    for _ in range(1000):
        limit.success()
    assert limit.limit == 16  # never above the ceiling


def test_no_more_than_the_limit_are_in_flight() -> None:
    limit = AdaptiveLimit(3, StepClock())
    peak = 0

    async def one() -> None:
        nonlocal peak
        async with limit:
            peak = max(peak, limit.in_flight)
            await asyncio.sleep(0.001)

    async def go() -> None:
        await asyncio.gather(*(one() for _ in range(20)))

    asyncio.run(go())
    assert peak == 3 and limit.in_flight == 0
