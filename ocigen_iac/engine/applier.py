"""The applier: turns a Plan into steps on the dependency graph and runs them.

Ordering rules (all expressed as step dependencies):
  * a new object waits for the new objects it depends on (an attachment waits for its File and
    its store);
  * an old object is deleted only after everything that pointed at it has moved on, so a
    replaced File is uploaded, attached, and only then is the old one detached and deleted:
    a store never loses content mid-apply;
  * creates of attachments to one store are merged into one step that uses file-batch calls.
State is written after every mutating call (through SyncState). Before a create-before-destroy
replacement the old object is recorded as `ADDRESS#deposed-ID`, so a crash between the two
halves leaves something the next plan deletes, never an orphan.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field

from ocigen_iac.engine.context import RunContext
from ocigen_iac.engine.graph import Key, Status, Step, execute
from ocigen_iac.engine.plan import Action, Change, Plan, ReasonCode
from ocigen_iac.engine.refresh import deposed_address
from ocigen_iac.resources import KINDS
from ocigen_iac.resources.vector_store_files import VectorStoreFileKind
from ocigen_iac.state.model import ResourceState


@dataclass
class ApplyResult:
    added: int = 0
    changed: int = 0
    destroyed: int = 0
    failures: dict[str, str] = field(default_factory=dict)  # address -> message
    skipped: list[str] = field(default_factory=list)
    cancelled: bool = False

    @property
    def ok(self) -> bool:
        return not self.failures and not self.cancelled


def _create(address: str) -> Key:
    return ("create", address)


def _delete(address: str) -> Key:
    return ("delete", address)


def _update(address: str) -> Key:
    return ("update", address)


async def apply_plan(ctx: RunContext, plan: Plan, *, parallelism: int = 8,
                     cancel: asyncio.Event | None = None) -> ApplyResult:
    result = ApplyResult()
    steps = build_steps(ctx, plan, result)
    reporter = ctx.reporter

    def on_error(step: Step, exc: BaseException) -> None:
        address = step.name.split(" ", 1)[1]
        result.failures[address] = str(exc) or exc.__class__.__name__
        reporter.fail(address, result.failures[address])

    total_bytes = sum(int((c.after or {}).get("bytes") or 0) for c in plan.changes
                      if c.kind == "file" and c.action in (Action.CREATE, Action.REPLACE))
    reporter.begin(len(steps), total_bytes)
    for step in steps:
        step.run = _counted(step.run, reporter)
    try:
        graph = await execute(steps, parallelism, cancel, on_error)
    finally:
        reporter.end()
    result.cancelled = graph.cancelled
    for (verb, address), status in graph.status.items():
        if status == "skipped" and address not in result.failures:
            result.skipped.append(f"{verb} {address}")
    return result


def _counted(run, reporter):  # type: ignore[no-untyped-def]
    async def wrapped(bad: set[Key]):  # type: ignore[no-untyped-def]
        try:
            return await run(bad)
        finally:
            reporter.step_finished()
    return wrapped


def build_steps(ctx: RunContext, plan: Plan, result: ApplyResult) -> list[Step]:
    by_address = {c.address: c for c in plan.changes}
    # who depends on whom (from the desired instances and from state, for old objects)
    dependents: dict[str, list[Change]] = defaultdict(list)
    for c in plan.changes:
        old = ctx.state.state.resources.get(c.address)
        for dep in {*c.deps, *(old.deps if old else [])}:
            dependents[dep].append(c)

    def keys_of(c: Change) -> list[Key]:
        if c.action == Action.CREATE:
            return [_create(c.address)]
        if c.action == Action.UPDATE:
            return [_update(c.address)]
        if c.action == Action.DELETE:
            return [_delete(c.address)]
        return [_create(c.address), _delete(c.address)]

    def needs_new(c: Change) -> set[Key]:
        """Create/update waits for the new objects it depends on."""
        return {_create(d) for d in c.deps if d in by_address and by_address[d].action in
                (Action.CREATE, Action.REPLACE, Action.REPLACE_DESTROY_FIRST)}

    def old_released(c: Change) -> set[Key]:
        """Deleting an old object waits until every dependent has moved off it."""
        keys: set[Key] = set()
        for d in dependents.get(c.address, []):
            if d.address == c.address:
                continue
            if d.action == Action.DELETE and d.reasons and d.reasons[0].code == ReasonCode.PARENT_DELETED:
                continue  # goes away with this object
            keys.update(keys_of(d))
        return keys

    steps: list[Step] = []
    batches: dict[str, list[Change]] = defaultdict(list)
    for c in plan.changes:
        if c.action == Action.CREATE:
            if c.kind == "vector_store_file":
                batches[c.after["vector_store"]].append(c)  # type: ignore[index]
            else:
                steps.append(Step(f"create {c.address}", [_create(c.address)], _create_runner(ctx, c, result),
                                  hard=needs_new(c)))
        elif c.action == Action.UPDATE:
            steps.append(Step(f"update {c.address}", [_update(c.address)], _update_runner(ctx, c, result),
                              hard=needs_new(c)))
        elif c.action == Action.DELETE:
            parent_delete = c.reasons and c.reasons[0].code == ReasonCode.PARENT_DELETED
            hard = {_delete(c.parent)} if parent_delete and c.parent in by_address else set()
            soft = set() if parent_delete else old_released(c)
            steps.append(Step(f"delete {c.address}", [_delete(c.address)],
                              _delete_runner(ctx, c, result, api_call=not parent_delete), hard=hard, soft=soft))
        elif c.action == Action.REPLACE:  # create-before-destroy
            if c.kind == "vector_store_file":
                batches[c.after["vector_store"]].append(c)  # type: ignore[index]
            else:
                steps.append(Step(f"create {c.address}", [_create(c.address)], _create_runner(ctx, c, result),
                                  hard=needs_new(c)))
            steps.append(Step(f"delete {c.address}", [_delete(c.address)],
                              _delete_old_runner(ctx, c, result),
                              hard={_create(c.address)}, soft=old_released(c)))
        elif c.action == Action.REPLACE_DESTROY_FIRST:
            steps.append(Step(f"delete {c.address}", [_delete(c.address)], _delete_old_runner(ctx, c, result),
                              soft=old_released(c) - {_create(c.address)}))
            if c.kind == "vector_store_file":
                batches[c.after["vector_store"]].append(c)  # type: ignore[index]
            else:
                steps.append(Step(f"create {c.address}", [_create(c.address)], _create_runner(ctx, c, result),
                                  hard=needs_new(c) | {_delete(c.address)}))
    for store, members in batches.items():
        hard: set[Key] = set()
        soft: set[Key] = set()
        for m in members:
            for k in needs_new(m):
                (hard if k[1] == store else soft).add(k)
            if m.action == Action.REPLACE_DESTROY_FIRST:
                soft.add(_delete(m.address))
        steps.append(Step(f"attach {store}", [_create(m.address) for m in members],
                          _batch_runner(ctx, store, members, result), hard=hard, soft=soft))
    return steps


def _create_runner(ctx: RunContext, c: Change, result: ApplyResult):
    async def run(_bad: set[Key]) -> None:
        kind = KINDS[c.kind]
        inst = ctx.instances[c.address]
        if c.action == Action.REPLACE:
            old = ctx.state.state.resources.get(c.address)
            if old is not None:
                ctx.state.move(c.address, deposed_address(c.address, old.id))
        verb = "Creating" if c.action == Action.CREATE else "Creating replacement"
        ctx.reporter.start(c.address, verb)
        rs = await kind.create(ctx, inst)
        rs.deps = list(inst.deps)
        ctx.state.put(c.address, rs)
        ctx.state.clear_intent(c.address)
        ctx.ids[c.address] = rs.id
        result.added += 1
        ctx.reporter.done(c.address, verb, f"id={rs.id}")
    return run


def _update_runner(ctx: RunContext, c: Change, result: ApplyResult):
    async def run(_bad: set[Key]) -> None:
        kind = KINDS[c.kind]
        rs = ctx.state.state.resources[c.address]
        ctx.reporter.start(c.address, "Modifying")
        new = await kind.update(ctx, ctx.instances[c.address], rs)
        new.deps = list(ctx.instances[c.address].deps)
        ctx.state.put(c.address, new)
        result.changed += 1
        ctx.reporter.done(c.address, "Modifying", f"id={new.id}")
    return run


def _delete_runner(ctx: RunContext, c: Change, result: ApplyResult, *, api_call: bool):
    async def run(_bad: set[Key]) -> None:
        rs = ctx.state.state.resources.get(c.address)
        if rs is None:
            return
        if api_call:
            ctx.reporter.start(c.address, "Destroying")
            await KINDS[c.kind].delete(ctx, c.address, rs)
            ctx.reporter.done(c.address, "Destroying", f"id={rs.id}")
        ctx.state.remove(c.address)
        result.destroyed += 1
    return run


def _delete_old_runner(ctx: RunContext, c: Change, result: ApplyResult):
    """Delete the object being replaced (found at its deposed address, or still at the address)."""
    async def run(_bad: set[Key]) -> dict[Key, Status] | None:
        assert c.id is not None
        deposed = deposed_address(c.address, c.id)
        resources = ctx.state.state.resources
        if deposed in resources:
            address, rs = deposed, resources[deposed]
        elif c.address in resources and resources[c.address].id == c.id:
            address, rs = c.address, resources[c.address]
        else:
            return None
        if _bad and c.action == Action.REPLACE:
            return None  # a dependent did not move off the old object: keep it (deposed) for the next run
        ctx.reporter.start(c.address, f"Destroying old {rs.id}")
        await KINDS[c.kind].delete(ctx, address, rs)
        ctx.state.remove(address)
        result.destroyed += 1
        ctx.reporter.done(c.address, f"Destroying old {rs.id}")
        return None
    return run


def _batch_runner(ctx: RunContext, store: str, members: list[Change], result: ApplyResult):
    kind = KINDS["vector_store_file"]
    assert isinstance(kind, VectorStoreFileKind)

    async def run(bad: set[Key]) -> dict[Key, Status]:
        statuses: dict[Key, Status] = {}
        ready: list[Change] = []
        for m in members:
            if any(k in bad for k in ({_create(d) for d in m.deps} | {_delete(m.address)})):
                statuses[_create(m.address)] = "skipped"
            else:
                ready.append(m)
        if not ready:
            return statuses
        for m in ready:
            if m.action == Action.REPLACE:
                old = ctx.state.state.resources.get(m.address)
                if old is not None:
                    ctx.state.move(m.address, deposed_address(m.address, old.id))
        ctx.reporter.start(store, f"Attaching {len(ready)} file(s)")
        try:
            outcomes = await kind.create_batch(ctx, [ctx.instances[m.address] for m in ready])
        except Exception as exc:
            for m in ready:
                statuses[_create(m.address)] = "failed"
                result.failures[m.address] = str(exc)
            ctx.reporter.fail(store, f"attaching {len(ready)} file(s) failed: {exc}")
            return statuses
        failed = 0
        for outcome in outcomes:
            address = outcome.inst.address
            if outcome.state is not None:
                rs: ResourceState = outcome.state
                ctx.state.put(address, rs)
                ctx.ids[address] = rs.id
            if outcome.error:
                failed += 1
                statuses[_create(address)] = "failed"
                result.failures[address] = outcome.error
                ctx.reporter.fail(address, outcome.error)
            else:
                statuses[_create(address)] = "ok"
                result.added += 1
        ctx.reporter.done(store, f"Attaching {len(ready)} file(s)", f"{len(ready) - failed} completed, {failed} failed")
        return statuses
    return run
