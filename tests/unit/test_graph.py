"""The step graph: ordering, failure isolation, soft dependencies, cancellation, parallelism."""

from __future__ import annotations

import asyncio

import pytest

from ocigen_iac.engine.graph import CycleError, Step, execute


def _step(name: str, log: list[str], *, hard=(), soft=(), fail: bool = False, delay: float = 0.0,
          seen_bad: dict | None = None) -> Step:
    async def run(bad: set) -> None:
        await asyncio.sleep(delay)
        if seen_bad is not None:
            seen_bad[name] = set(bad)
        log.append(name)
        if fail:
            raise RuntimeError(f"{name} broke")
    return Step(name, [("do", name)], run, hard={("do", h) for h in hard}, soft={("do", s) for s in soft})


def test_a_failure_stops_only_its_dependents() -> None:
    log: list[str] = []
    steps = [_step("a", log, fail=True), _step("b", log, hard=["a"]), _step("c", log), _step("d", log, hard=["c"])]
    result = asyncio.run(execute(steps, 4))
    assert result.status[("do", "a")] == "failed"
    assert result.status[("do", "b")] == "skipped"
    assert result.status[("do", "c")] == result.status[("do", "d")] == "ok"
    assert "b" not in log and log.index("c") < log.index("d")
    assert result.errors == {"a": "a broke"}


def test_soft_dependencies_run_anyway_and_learn_what_failed() -> None:
    log: list[str] = []
    seen: dict = {}
    steps = [_step("f1", log, fail=True), _step("f2", log), _step("batch", log, soft=["f1", "f2"], seen_bad=seen)]
    result = asyncio.run(execute(steps, 2))
    assert result.status[("do", "batch")] == "ok"
    assert seen["batch"] == {("do", "f1")}


def test_cancel_starts_nothing_new_but_lets_running_steps_finish() -> None:
    log: list[str] = []
    cancel = asyncio.Event()

    async def main():
        async def slow(_bad: set) -> None:
            cancel.set()  # interrupt arrives while this runs
            await asyncio.sleep(0.05)
            log.append("slow")
        steps = [Step("slow", [("do", "slow")], slow), _step("after", log, hard=["slow"])]
        return await execute(steps, 1, cancel)
    result = asyncio.run(main())
    assert log == ["slow"]
    assert result.cancelled and result.status[("do", "after")] == "skipped"


def test_parallelism_is_bounded() -> None:
    running = 0
    peak = 0

    async def work(_bad: set) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01)
        running -= 1
    steps = [Step(f"s{i}", [("do", f"s{i}")], work) for i in range(20)]
    asyncio.run(execute(steps, 3))
    assert peak == 3


def test_a_cycle_is_refused() -> None:
    log: list[str] = []
    with pytest.raises(CycleError):
        asyncio.run(execute([_step("a", log, hard=["b"]), _step("b", log, hard=["a"])], 2))
