"""A dependency graph of steps, executed with bounded parallelism.

Steps depend on *keys* (e.g. ("create", "file.handbook")) that other steps provide. A step runs
when every key it depends on is resolved; if a hard dependency failed or was skipped, the step is
skipped and so are the keys it provides. A failure therefore stops only its dependents. Steps with
`soft` dependencies (file-batch attaches) run anyway and are told which of those failed.
A cancel event stops new steps from starting; steps in flight finish. An abort event (a second
Ctrl-C) also cancels the steps in flight: they count as failed, nothing else is started.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal

Key = tuple[str, ...]
Status = Literal["ok", "failed", "skipped"]


@dataclass
class Step:
    name: str
    provides: list[Key]
    run: Callable[[set[Key]], Awaitable[dict[Key, Status] | None]]
    hard: set[Key] = field(default_factory=set)
    soft: set[Key] = field(default_factory=set)
    weight: int = 1  # how many planned changes finishing this step completes (progress)


@dataclass
class GraphResult:
    status: dict[Key, Status] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)  # step name -> message
    cancelled: bool = False


class CycleError(Exception):
    pass


def check_acyclic(steps: list[Step]) -> None:
    provider = {k: s.name for s in steps for k in s.provides}
    edges = {s.name: {provider[k] for k in (s.hard | s.soft) if k in provider} for s in steps}
    state: dict[str, int] = {}

    def visit(n: str, path: list[str]) -> None:
        if state.get(n) == 2:
            return
        if state.get(n) == 1:
            raise CycleError(" -> ".join([*path, n]))
        state[n] = 1
        for m in edges[n]:
            visit(m, [*path, n])
        state[n] = 2

    for s in steps:
        visit(s.name, [])


async def execute(steps: list[Step], parallelism: int, cancel: asyncio.Event | None = None,
                  on_error: Callable[[Step, BaseException], None] | None = None,
                  abort: asyncio.Event | None = None) -> GraphResult:
    check_acyclic(steps)
    result = GraphResult()
    provided = {k for s in steps for k in s.provides}
    pending = list(steps)
    running: dict[asyncio.Task, Step] = {}
    sem_slots = max(1, parallelism)

    def resolved(k: Key) -> bool:
        return k not in provided or k in result.status

    def failed(k: Key) -> bool:
        return k in provided and result.status.get(k) in ("failed", "skipped")

    while pending or running:
        progressed = True
        while progressed:
            progressed = False
            for step in list(pending):
                deps = step.hard | step.soft
                if not all(resolved(k) for k in deps):
                    continue
                if any(failed(k) for k in step.hard) or (cancel is not None and cancel.is_set()):
                    pending.remove(step)
                    for k in step.provides:
                        result.status[k] = "skipped"
                    if cancel is not None and cancel.is_set():
                        result.cancelled = True
                    progressed = True
                    continue
                if len(running) >= sem_slots:
                    break
                pending.remove(step)
                bad = {k for k in step.soft if failed(k)}
                task = asyncio.ensure_future(step.run(bad))
                running[task] = step
                progressed = True
        if not running:
            if pending:  # unreachable for an acyclic graph, but never spin
                for step in pending:
                    for k in step.provides:
                        result.status[k] = "skipped"
                break
            continue
        waits: list[asyncio.Future] = list(running)
        abort_wait = asyncio.ensure_future(abort.wait()) if abort is not None and not abort.is_set() else None
        if abort_wait is not None:
            waits.append(abort_wait)
        done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        if abort_wait is not None:
            abort_wait.cancel()
            done.discard(abort_wait)
        if abort is not None and abort.is_set():
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            done = set(running)
            result.cancelled = True
            if cancel is not None:
                cancel.set()
        for task in done:
            step = running.pop(task)
            exc = asyncio.CancelledError("cancelled") if task.cancelled() else task.exception()
            if exc is not None:
                result.errors[step.name] = str(exc) or exc.__class__.__name__
                if on_error is not None:
                    on_error(step, exc)
                for k in step.provides:
                    result.status[k] = "failed"
            else:
                statuses = task.result() or {}
                for k in step.provides:
                    result.status[k] = statuses.get(k, "ok")
    return result
