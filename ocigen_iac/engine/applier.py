"""The applier: executes a Plan's changes, and nothing else, on the dependency graph.

Every change becomes one or two steps; ordering rules are step dependencies:
  * a new object waits for the new objects it depends on (an attachment waits for its File and
    its store);
  * an old object (deleted, replaced, or deposed) is deleted only after every change that moves
    off it has run: a replaced File is uploaded, its attachments re-pointed, and only then is the
    old File deleted — a store never lacks the document. Before deleting, the applier checks the
    state once more: if anything still uses the old object (a re-point failed), it is kept as
    deposed for the next run;
  * creates of a type with a batch limit (attachments) are merged per batch key (their store)
    into one create-many step.
Every mutating call is recorded through SyncState at once. Before a create-before-destroy
replacement the old object is deposed, so a crash between the halves leaves it in state.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from ocigen_iac.engine.adoption import dependency_ids
from ocigen_iac.engine.context import RunContext
from ocigen_iac.engine.graph import Key, Status, Step, execute
from ocigen_iac.engine.moves import move_record
from ocigen_iac.engine.plan import Action, Change, Plan, ReasonCode
from ocigen_iac.resources import ResourceType, registry
from ocigen_iac.state.model import ResourceState

OPERATIONS_PER_REQUEST_SLOT = 4
NEW_OBJECT = (Action.CREATE, Action.REPLACE, Action.REPLACE_DESTROY_FIRST, Action.ADOPT, Action.MOVE)


@dataclass
class ApplyResult:
    added: int = 0
    changed: int = 0
    destroyed: int = 0
    adopted: int = 0
    moved: int = 0
    failures: dict[str, str] = field(default_factory=dict)  # address -> message
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    missing: dict[str, str] = field(default_factory=dict)  # after verification: address -> problem
    repaired: int = 0
    cancelled: bool = False
    checks: list[Any] = field(default_factory=list)  # CheckResults of the declared checks run after apply

    @property
    def failed_checks(self) -> list[Any]:
        return [c for c in self.checks if not c.passed]

    @property
    def ok(self) -> bool:
        return not self.failures and not self.cancelled and not self.missing and not self.failed_checks

    def to_dict(self) -> dict[str, Any]:
        return {"added": self.added, "changed": self.changed, "destroyed": self.destroyed,
                "adopted": self.adopted, "moved": self.moved, "failures": self.failures,
                "skipped": self.skipped, "notes": self.notes, "missing": self.missing,
                "repaired": self.repaired, "cancelled": self.cancelled,
                "checks": [{"name": c.name, "passed": c.passed, "summary": c.summary, **c.details}
                           for c in self.checks]}


def change_key(c: Change) -> str:
    return f"{c.address}#{c.id}" if c.deposed else str(c.address)


def _new(c: Change) -> Key:
    return ("new", str(c.address))


def _old(c: Change) -> Key:
    return ("old", str(c.address), c.id or "")


def keys_of(c: Change) -> list[Key]:
    if c.action in (Action.CREATE, Action.UPDATE, Action.ADOPT, Action.MOVE):
        return [_new(c)]
    if c.action == Action.DELETE:
        return [_old(c)]
    return [_new(c), _old(c)]


class _Builder:
    def __init__(self, ctx: RunContext, plan: Plan, result: ApplyResult) -> None:
        self.ctx = ctx
        self.plan = plan
        self.result = result
        self.by_address = {str(c.address): c for c in plan.changes if not c.deposed}
        self.renames = {str(c.previous_address): str(c.address) for c in plan.changes if c.previous_address}
        self.moving_off = self._moving_off()
        self.scope_providers = {k: c for c in plan.changes if not c.deposed and c.action in NEW_OBJECT
                                for k in registry.resource_type(c.kind).provides_scope}
        self._pointing: dict[tuple[str, str], list[tuple[str, str, bool]]] | None = None

    def kind(self, c: Change) -> ResourceType:
        return registry.resource_type(c.kind)

    def record_of(self, c: Change) -> ResourceState | None:
        """The state record a change acts on (before it runs)."""
        state = self.ctx.state.state
        if c.deposed:
            return next((d.resource for d in state.deposed
                         if self.renames.get(d.address, d.address) == str(c.address) and d.resource.id == c.id), None)
        address = str(c.previous_address or c.address)
        rs = state.resources.get(address)
        return rs if rs is not None and rs.id == c.id else None

    def _moving_off(self) -> dict[tuple[str, str], set[Key]]:
        """(address, id) of an object -> the step keys of changes that move something off it."""
        out: dict[tuple[str, str], set[Key]] = defaultdict(set)
        for c in self.plan.changes:
            if c.id is None or c.action in (Action.UPDATE, Action.ADOPT, Action.MOVE):
                continue
            rs = self.record_of(c)
            if rs is None:
                continue
            for dep, oid in self.kind(c).pointed_ids(rs).items():
                dep = self.renames.get(dep, dep)
                if c.reason == ReasonCode.PARENT_DELETED and dep == str(c.parent):
                    continue  # it goes away with its parent, after it: it cannot also go first
                out[(dep, oid)].update(keys_of(c))
        return out

    def needs_new(self, c: Change) -> set[Key]:
        """Create/update waits for the new objects it depends on (and for what provides its scope)."""
        keys: set[Key] = {_new(p) for k, p in self.scope_providers.items()
                          if k in self.kind(c).needs_scope and p is not c}
        for dep in (*c.deps, *((c.parent,) if c.parent else ())):
            d = self.by_address.get(str(dep))
            if d is not None and d.action in NEW_OBJECT:
                keys.add(_new(d))
        return keys

    def released(self, c: Change) -> set[Key]:
        """Deleting an old object waits until every dependent has moved off it."""
        return self.moving_off.get((str(c.address), c.id or ""), set()) - set(keys_of(c))

    # --- steps -----------------------------------------------------------------------------
    def build(self) -> list[Step]:
        steps: list[Step] = []
        batches: dict[tuple[str, Any], list[Change]] = defaultdict(list)
        for c in self.plan.changes:
            kind = self.kind(c)
            batched = kind.batch_limit > 0 and c.action in (Action.CREATE, Action.REPLACE,
                                                            Action.REPLACE_DESTROY_FIRST) and c.importing is None
            if c.action == Action.DELETE:
                parent_deleted = c.reason == ReasonCode.PARENT_DELETED
                parent = self.by_address.get(str(c.parent)) if c.parent else None
                hard = {_old(parent)} if parent_deleted and parent is not None and parent.action == Action.DELETE \
                    else set()
                soft = set() if parent_deleted else self.released(c)
                if kind.provides_scope:  # everything in its scope goes first (a project is destroyed last)
                    soft |= {_old(o) for o in self.plan.changes if o.action == Action.DELETE and o is not c
                             and kind.provides_scope & registry.resource_type(o.kind).needs_scope}
                steps.append(Step(f"delete {change_key(c)}", [_old(c)], self.delete_runner(c, api=not parent_deleted),
                                  hard=hard, soft=soft, weight=1))
                continue
            if c.action == Action.REPLACE_DESTROY_FIRST:
                steps.append(Step(f"delete {c.address}", [_old(c)], self.delete_runner(c, api=True),
                                  soft=self.released(c), weight=0))
            if batched:
                batches[(c.kind, kind.batch_key(c))].append(c)
            else:
                hard = self.needs_new(c) | ({_old(c)} if c.action == Action.REPLACE_DESTROY_FIRST else set())
                steps.append(Step(f"{c.action.value} {c.address}", [_new(c)], self.new_runner(c), hard=hard))
            if c.action == Action.REPLACE:
                steps.append(Step(f"delete old {c.address}", [_old(c)], self.delete_runner(c, api=True),
                                  hard={_new(c)}, soft=self.released(c), weight=0))
        for (type_name, _), members in batches.items():
            kind = registry.resource_type(type_name)
            # one step per batch-sized group: the first group attaches while later files still upload
            for start in range(0, len(members), max(1, kind.batch_limit)):
                group = members[start:start + kind.batch_limit]
                hard: set[Key] = set()
                soft: set[Key] = set()
                for m in group:
                    for k in self.needs_new(m):
                        (hard if m.parent is not None and k == ("new", str(m.parent)) else soft).add(k)
                    if m.action == Action.REPLACE_DESTROY_FIRST:
                        soft.add(_old(m))
                steps.append(Step(f"create-many {group[0].parent or type_name} ({len(group)})",
                                  [_new(m) for m in group], self.batch_runner(kind, group), hard=hard, soft=soft,
                                  weight=len(group)))
        return pipelined(steps)

    # --- runners -----------------------------------------------------------------------------
    def _move_first(self, c: Change) -> None:
        """Apply a pending rename before anything else happens at the new address."""
        if c.previous_address is None:
            return
        if move_record(self.ctx.state, str(c.previous_address), str(c.address), self.renames):
            self.result.moved += 1

    def _adopt_first(self, c: Change) -> None:
        if c.importing is None:
            return
        rs = ResourceState.from_dict(c.importing)
        state = self.ctx.state
        current = state.state.resources.get(str(c.address))
        if current is not None and current.id != rs.id:
            state.depose(str(c.address))
        state.put(str(c.address), rs)
        state.clear_intent(str(c.address))
        self.ctx.ids[str(c.address)] = rs.id
        self.ctx.set_scope(self.kind(c).scope(rs))
        self.result.adopted += 1

    def new_runner(self, c: Change) -> Callable[[set[Key]], Awaitable[None]]:
        ctx, result = self.ctx, self.result

        async def run(_bad: set[Key]) -> None:
            kind = self.kind(c)
            address = str(c.address)
            self._move_first(c)
            if c.importing is not None:
                self._adopt_first(c)
                await kind.ready(ctx, ctx.state.state.resources[address])
            if c.action in (Action.ADOPT, Action.MOVE):
                ctx.reporter.done(address, "Adopted" if c.action == Action.ADOPT else "Moved",
                                  f"id={ctx.id_of(address)}")
                return
            if c.action == Action.UPDATE:
                rs = ctx.state.state.resources[address]
                ctx.reporter.start(address, "Modifying")
                new = await kind.update(ctx, c, rs)
                new.dep_ids = new.dep_ids or dict(rs.dep_ids)
                ctx.state.put(address, new)
                result.changed += 1
                ctx.reporter.done(address, "Modifying", f"id={new.id}")
                return
            if c.action == Action.REPLACE:
                self._depose(c)
            verb = "Creating" if c.action == Action.CREATE else "Creating replacement"
            ctx.reporter.start(address, verb)
            rs = await kind.create(ctx, c)
            self._record_new(c, rs)
            ctx.reporter.done(address, verb, f"id={rs.id}")
        return run

    def _depose(self, c: Change) -> None:
        current = self.ctx.state.state.resources.get(str(c.address))
        if current is not None and current.id == c.id:
            self.ctx.state.depose(str(c.address))

    def _record_new(self, c: Change, rs: ResourceState) -> None:
        if not rs.dep_ids:
            rs.dep_ids = dependency_ids(self.ctx, c)
        self.ctx.state.put(str(c.address), rs)
        self.ctx.state.clear_intent(str(c.address))
        self.ctx.ids[str(c.address)] = rs.id
        self.ctx.set_scope(self.kind(c).scope(rs))
        self.result.added += 1

    def _pointing_index(self) -> dict[tuple[str, str], list[tuple[str, str, bool]]]:
        """(address, id) -> records (address, id, deposed?) in state made against that object."""
        index: dict[tuple[str, str], list[tuple[str, str, bool]]] = defaultdict(list)
        state = self.ctx.state.state
        records = [(a, r, False) for a, r in state.resources.items()]
        records += [(d.address, d.resource, True) for d in state.deposed]
        for address, other, deposed in records:
            other_kind = registry.resource_type(other.kind)
            for dep, oid in other_kind.pointed_ids(other).items():
                index[(self.renames.get(dep, dep), oid)].append((address, other.id, deposed))
        return index

    def still_used(self, c: Change, rs: ResourceState) -> str | None:
        """An object (other than its own children) still made against this one, per state now."""
        if self._pointing is None:
            self._pointing = self._pointing_index()
        kind = self.kind(c)
        state = self.ctx.state.state
        for address, oid, deposed in self._pointing.get((str(c.address), rs.id), []):
            if deposed:
                other = next((d.resource for d in state.deposed if d.address == address and d.resource.id == oid), None)
            else:
                other = state.resources.get(address)
                other = other if other is not None and other.id == oid else None
                other = other or state.resources.get(self.renames.get(address, address))
                other = other if other is not None and other.id == oid else None
            if other is None or (other.kind == c.kind and other.id == rs.id):
                continue
            other_kind = registry.resource_type(other.kind)
            if other_kind.parent_type == kind.type and other.parent_id == rs.id:
                continue  # a child: it goes away with its parent
            return address
        return None

    def delete_runner(self, c: Change, *, api: bool) -> Callable[[set[Key]], Awaitable[None]]:
        ctx, result = self.ctx, self.result

        async def run(bad: set[Key]) -> None:
            kind = self.kind(c)
            address = str(c.address)
            state = ctx.state
            deposed = c.deposed or c.action == Action.REPLACE
            if deposed:
                rs = next((d.resource for d in state.state.deposed
                           if self.renames.get(d.address, d.address) == address and d.resource.id == c.id), None)
            else:
                rs = state.state.resources.get(str(c.previous_address or c.address))
                rs = rs if rs is not None and rs.id == c.id else None
            if rs is None:
                return
            if api:
                if bad:
                    result.notes.append(f"{address}: kept {'old object ' if deposed else ''}{rs.id}: a change that "
                                        "had to move off it first did not complete (the next apply retries)")
                    return
                user = self.still_used(c, rs)
                if user is not None:
                    result.notes.append(f"{address}: kept {rs.id}: {user} still uses it (the next apply retries)")
                    return
                label = f"Destroying old {rs.id}" if deposed else "Destroying"
                ctx.reporter.start(address, label)
                note = await kind.delete(ctx, rs)
                if note:
                    result.notes.append(f"{address} ({rs.id}): {note}")
                ctx.reporter.done(address, label, f"id={rs.id}")
            if deposed:
                state.remove_deposed(next((d.address for d in state.state.deposed if d.resource is rs), address), rs.id)
            else:
                state.remove(str(c.previous_address or c.address))
            result.destroyed += 1
        return run

    def batch_runner(self, kind: ResourceType, members: list[Change]
                     ) -> Callable[[set[Key]], Awaitable[dict[Key, Status]]]:
        ctx, result = self.ctx, self.result

        async def run(bad: set[Key]) -> dict[Key, Status]:
            statuses: dict[Key, Status] = {}
            ready: list[Change] = []
            for m in members:
                if any(k in bad for k in (self.needs_new(m) | {_old(m)})):
                    statuses[_new(m)] = "skipped"
                else:
                    ready.append(m)
            if not ready:
                return statuses
            for m in ready:
                self._move_first(m)
                if m.action == Action.REPLACE:
                    self._depose(m)
            where = str(ready[0].parent or kind.type)
            ctx.reporter.start(where, f"Attaching {len(ready)} file(s)" if kind.parent_type else "Creating")
            try:
                outcomes = await kind.create_many(ctx, ready)
            except Exception as exc:
                for m in ready:
                    statuses[_new(m)] = "failed"
                    result.failures[str(m.address)] = str(exc) or exc.__class__.__name__
                ctx.reporter.fail(where, f"{len(ready)} object(s) failed: {exc}")
                return statuses
            failed = 0
            for outcome in outcomes:
                address = str(outcome.change.address)
                if outcome.state is not None:
                    if outcome.error:
                        ctx.state.put(address, outcome.state)  # recorded with its failure: repaired next time
                        ctx.ids[address] = outcome.state.id
                    else:
                        self._record_new(outcome.change, outcome.state)
                if outcome.error:
                    failed += 1
                    statuses[_new(outcome.change)] = "failed"
                    result.failures[address] = outcome.error
                    ctx.reporter.fail(address, outcome.error)
                else:
                    statuses[_new(outcome.change)] = "ok"
            ctx.reporter.done(where, f"Attaching {len(ready)} file(s)" if kind.parent_type else "Creating",
                              f"{len(ready) - failed} completed, {failed} failed")
            return statuses
        return run


def pipelined(steps: list[Step]) -> list[Step]:
    """The order the graph offers ready steps in (it starts them in list order):
    * steps that wait for nothing come first, the ones more steps wait for first among them (a
      store before a thousand uploads: it must get ready while they run);
    * every other step right after the last step it waits for, so a batch of attachments goes as
      soon as its files are up while later files still upload."""
    provider: dict[Key, int] = {k: i for i, s in enumerate(steps) for k in s.provides}
    waiting = [0] * len(steps)
    for s in steps:
        for i in {provider[k] for k in (s.hard | s.soft) if k in provider}:
            waiting[i] += 1
    roots = [i for i, s in enumerate(steps) if not any(k in provider for k in (s.hard | s.soft))]
    pos: dict[int, float] = {i: float(rank) for rank, i in enumerate(sorted(roots, key=lambda i: (-waiting[i], i)))}

    def place(i: int, seen: set[int]) -> float:
        if i in pos:
            return pos[i]
        seen.add(i)
        deps = {provider[k] for k in (steps[i].hard | steps[i].soft) if k in provider} - seen
        pos[i] = max((place(j, seen) for j in deps), default=float(i)) + 1e-6 * (i + 1)
        return pos[i]

    for i in range(len(steps)):
        place(i, set())
    return [steps[i] for i in sorted(range(len(steps)), key=lambda i: (pos[i], i))]


async def apply_plan(ctx: RunContext, plan: Plan, *, parallelism: int = 16, cancel: asyncio.Event | None = None,
                     abort: asyncio.Event | None = None, label: str = "apply") -> ApplyResult:
    result = ApplyResult()
    for address in plan.stale_intents:
        ctx.state.clear_intent(address)
    builder = _Builder(ctx, plan, result)
    steps = builder.build()
    reporter = ctx.reporter

    def on_error(step: Step, exc: BaseException) -> None:
        address = step.name.split(" ", 1)[1]
        from ocigen_iac.api import NotSent

        if isinstance(exc, asyncio.CancelledError | NotSent):
            result.failures[address] = "interrupted"  # Ctrl-C: the run's closing line says so
            return
        result.failures[address] = str(exc) or exc.__class__.__name__
        reporter.fail(address, result.failures[address])

    reporter.begin(len(plan.changes), plan.upload_bytes, label)
    for step in steps:
        step.run = _counted(step.run, reporter, step.weight)
    try:
        # `parallelism` bounds requests in flight (the client enforces it); more operations than that
        # may be open, so an operation that waits (a store getting ready, a batch ingesting) never
        # holds a request slot, and a store create does not queue behind a thousand uploads.
        graph = await execute(steps, parallelism * OPERATIONS_PER_REQUEST_SLOT, cancel, on_error, abort)
    finally:
        reporter.end()
    result.cancelled = graph.cancelled
    for key, status in graph.status.items():
        if status == "skipped" and key[1] not in result.failures:
            result.skipped.append(f"{key[0]} {key[1]}")
    result.notes.extend(n for n in ctx.notes if n not in result.notes)
    return result


def _counted(run: Any, reporter: Any, n: int) -> Any:
    async def wrapped(bad: set[Key]) -> Any:
        try:
            return await run(bad)
        finally:
            reporter.step_finished(n)
    return wrapped
