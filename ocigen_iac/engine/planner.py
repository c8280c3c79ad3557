"""The planner: desired instances + state + live view + proposed adoptions -> a Plan.

`make_plan` is pure: it calls no API, writes no state and reads only its input (plus the kinds'
rules from the registry), so it is tested with plain tables. Deciding is separate from doing:
the applier executes the plan's changes and nothing else.

Rules, in the order they are applied to each declared instance (dependencies first):
  * not tracked (and not adopted) -> create;
  * its parent gets a new object -> create (in the new parent);
  * gone from the service, or expired -> create (and noted as drift);
  * its identity follows a dependency (an attachment is its File) whose object is new, or which
    is no longer the object it was made against -> replace ("re-point"): create the new one, then
    delete the old (create-before-destroy when both can exist at once);
  * readiness failed (ingestion) / --replace / a field that cannot be updated -> replace;
  * fields that update in place -> update; nothing -> no-op.
Tracked objects no longer declared (everything, with --destroy) are deleted, children first; an
old object left over from a replacement (deposed) is deleted only after every object that still
points at it has moved to its replacement, and not at all if one of them is not in this plan.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ocigen_iac.addresses import Address
from ocigen_iac.engine.diffing import attr_changes
from ocigen_iac.engine.live import LiveView
from ocigen_iac.engine.moves import rename_map, renamed_state
from ocigen_iac.engine.plan import Action, AttrChange, Change, Drift, Plan, Reason, ReasonCode
from ocigen_iac.engine.refresh import Adoption
from ocigen_iac.errors import PlanError
from ocigen_iac.resources import Instance, ResourceType, registry
from ocigen_iac.state.model import ResourceState, State

_NEW = "<new>"  # the id of an object this plan makes


@dataclass
class PlanRequest:
    instances: dict[Address, Instance]
    state: State
    live: LiveView
    adoptions: dict[Address, Adoption] = field(default_factory=dict)
    moves: list[tuple[Address, Address]] = field(default_factory=list)
    mode: str = "normal"  # normal | destroy | refresh-only
    env: str = "default"
    targets: list[Address] = field(default_factory=list)
    excludes: list[Address] = field(default_factory=list)
    force_replace: list[Address] = field(default_factory=list)


def _short(value: object) -> str:
    return f"{value}"[:12] + "…" if isinstance(value, str) and len(value) > 12 else f"{value}"


def topo_order(instances: dict[Address, Instance]) -> list[Instance]:
    """Instances with every dependency before its dependents (stable: document order otherwise)."""
    if _in_dependency_order(instances):  # the usual case (expansion follows references): no walk
        return list(instances.values())
    done: dict[Address, Instance] = {}
    visiting: set[Address] = set()

    def visit(inst: Instance) -> None:
        if inst.address in done or inst.address in visiting:
            return
        visiting.add(inst.address)
        for dep in (*inst.deps, *((inst.parent,) if inst.parent else ())):
            if dep in instances:
                visit(instances[dep])
        visiting.discard(inst.address)
        done[inst.address] = inst

    for inst in instances.values():
        visit(inst)
    return list(done.values())


def _in_dependency_order(instances: dict[Address, Instance]) -> bool:
    # Only what something depends on is remembered (a few thousand files and stores, not every
    # one of 100,000 instances: this runs at the plan's peak of memory). Keyed by the addresses'
    # texts: hashing a str is done in C, hashing an Address calls Python (this sees every edge).
    needed: set[str] = set()
    for inst in instances.values():
        needed.update(dep._text for dep in inst.deps)
        if inst.parent is not None:
            needed.add(inst.parent._text)
    needed.intersection_update(a._text for a in instances)
    seen: set[str] = set()
    for address, inst in instances.items():
        parent = inst.parent
        if parent is not None and parent._text in needed and parent._text not in seen:
            return False
        for dep in inst.deps:
            if dep._text in needed and dep._text not in seen:
                return False
        if address._text in needed:
            seen.add(address._text)
    return True


class _Planner:
    def __init__(self, req: PlanRequest) -> None:
        self.req = req
        self.plan = Plan(mode=req.mode, env=req.env, lineage=req.state.lineage, serial=req.state.serial,
                         targets=[str(t) for t in req.targets], excludes=[str(e) for e in req.excludes])
        self.renames = rename_map(req.state.resources, req.moves)
        self.previous = {new: old for old, new in self.renames.items()}
        self.view: dict[str, ResourceState] = renamed_state(req.state.resources, self.renames)
        if req.adoptions and self.view is req.state.resources:
            self.view = dict(self.view)  # adoptions are added below; the state itself stays as it is
        self.deposed: list[tuple[str, ResourceState, str]] = [
            (self.renames.get(d.address, d.address), d.resource, "left over from a replacement")
            for d in req.state.deposed]
        self.adopting: dict[str, Adoption] = {}
        self.implicit: set[str] = set()  # addresses whose object moved here from another address
        held = self._held_by_undeclared(req) if req.adoptions else {}
        for address, adoption in req.adoptions.items():
            key = str(address)
            source = held.get((adoption.state.kind, adoption.state.id, adoption.state.parent_id))
            if source is not None and source != key and key not in self.view and source in self.view:
                # The object is in state already, under an address the manifests no longer
                # declare (an attachment whose VectorStoreFileBatch went, now listed by its
                # store): the same object under a new address, so it moves here. Adopting it
                # here and destroying it there would delete the object just adopted.
                self.renames[source] = key
                self.previous[key] = source
                self.view[key] = self.view.pop(source)
                self.implicit.add(key)
                continue
            old = self.view.get(key)
            if old is not None and old.id != adoption.state.id:
                self.deposed.append((key, old, f"replaced by {adoption.state.id}, which an interrupted run made"))
            self.view[key] = adoption.state
            self.adopting[key] = adoption
        self.decided: dict[str, Change] = {}
        self.renewing: set[str] = set()  # declared addresses whose change makes a new object
        self.unchanged = 0
        self._pointing: dict[tuple[str, str], list[tuple[str, ResourceState]]] | None = None
        self._by_dep: dict[Address, set[str]] | None = None

    def _held_by_undeclared(self, req: PlanRequest) -> dict[tuple[str, str, str | None], str]:
        """(kind, id, parent id) -> the address of a record the manifests no longer declare
        (only built when something is to be adopted: it sees every record)."""
        out: dict[tuple[str, str, str | None], str] = {}
        for address, rs in self.view.items():
            if address not in req.instances:  # an Address equals its text
                out.setdefault((rs.kind, rs.id, rs.parent_id), address)
        return out

    # --- helpers ---------------------------------------------------------------------------
    def kind(self, name: str) -> ResourceType:
        return registry.resource_type(name)

    def current_id(self, address: Address | str) -> str | None:
        key = str(address)
        if key in self.renewing:
            return _NEW
        rs = self.view.get(key)
        return rs.id if rs is not None else None

    def pointed(self, kind: ResourceType, rs: ResourceState) -> dict[str, str]:
        return {self.renames.get(a, a): i for a, i in kind.pointed_ids(rs).items()}

    # --- declared instances ----------------------------------------------------------------
    def plan_instances(self) -> None:
        force = {str(a) for a in self.req.force_replace}
        for inst in topo_order(self.req.instances):
            key = str(inst.address)
            rs = self.view.get(key)
            planned, drift = self.plan_instance(inst, rs, key in force)
            if drift is not None:
                self.plan.drift.append(drift)
            adoption = self.adopting.get(key)
            if planned is None:  # unchanged: no Change is kept for it (a large no-op plan has 100,000)
                if adoption is None and key not in self.previous:
                    self.unchanged += 1
                    continue
                assert rs is not None
                planned = Change(inst.address, inst.kind, Action.NOOP, id=rs.id, parent=inst.parent)
            change = planned
            if adoption is not None:
                change = self._decorated(change, inst)
                change.importing = adoption.state.to_dict()
                change.reasons.insert(0, Reason(adoption.code, adoption.detail))
                if change.action == Action.NOOP:
                    change.action = Action.ADOPT
            if key in self.previous:
                change = self._decorated(change, inst)
                change.previous_address = Address.parse(self.previous[key])
                if key in self.implicit:
                    reason = Reason(ReasonCode.MOVED_SAME_OBJECT,
                                    f"{self.previous[key]} is no longer declared, and its object is this one")
                else:
                    reason = Reason(ReasonCode.MOVED, f"moved from {self.previous[key]}")
                change.reasons.insert(0, reason)
                if change.action == Action.NOOP:
                    change.action = Action.MOVE
            self.decided[key] = change
            if change.action.makes_new_object:
                self.renewing.add(key)
            elif change.action == Action.NOOP:
                self.unchanged += 1

    def _decorated(self, change: Change, inst: Instance) -> Change:
        if change.action != Action.NOOP or change.address == inst.address:
            return change
        rs = self.view.get(str(inst.address))
        return Change(inst.address, inst.kind, Action.NOOP, [], before=dict(rs.attrs) if rs else None,
                      after=inst.attrs, id=rs.id if rs else None, deps=inst.deps, parent=inst.parent,
                      location=str(inst.location) if inst.location else None)

    def plan_instance(self, inst: Instance, rs: ResourceState | None,
                      forced: bool) -> tuple[Change | None, Drift | None]:
        """The change an instance needs (None: none) and the drift seen on its object."""
        kind = self.kind(inst.kind)
        after = inst.attrs  # plans never mutate attributes: share, don't copy (60k instances add up)

        def change(action: Action, code: ReasonCode, detail: str = "", attrs: list[AttrChange] | None = None,
                   before: dict | None = None) -> Change:
            return Change(inst.address, inst.kind, action, [Reason(code, detail)], before=before, after=after,
                          attr_changes=attrs or [], id=rs.id if rs else None, deps=inst.deps, parent=inst.parent,
                          location=str(inst.location) if inst.location else None)

        if rs is None:
            released = [i for i, a in self.req.state.released.items() if a == str(inst.address)]
            detail = (f"{released[-1]} was removed from state with `state rm` and is left alone; a new one is made"
                      if released else "")
            return change(Action.CREATE, ReasonCode.NEW, detail), None

        if inst.parent is not None and inst.parent._text in self.renewing:
            return change(Action.CREATE, ReasonCode.PARENT_REPLACED, f"{inst.parent} gets a new object",
                          before=dict(rs.attrs)), None

        parent_id = rs.parent_id if kind.parent_type else None
        live = self.req.live.get(kind.type, rs.id, parent_id)
        if live is None:
            return (change(Action.CREATE, ReasonCode.DELETED_OUTSIDE, f"{rs.id} no longer exists",
                           before=dict(rs.attrs)), Drift(inst.address, inst.kind, "deleted"))
        gone = kind.gone_reason(live)
        if gone:
            return (change(Action.CREATE, ReasonCode.EXPIRED, f"{rs.id} is {gone}", before=dict(rs.attrs)),
                    Drift(inst.address, inst.kind, gone))

        current = kind.project_live(live, rs, inst)
        drift = None
        if rs.live:
            observed = kind.snapshot(live)
            if rs.live != observed:  # equal snapshots (the usual case) cannot hold drift
                baseline = {k: v for k, v in rs.live.items() if k in observed}
                changes = attr_changes(baseline, {k: observed.get(k) for k in baseline}) if baseline else []
                if changes:
                    drift = Drift(inst.address, inst.kind, "changed", changes)

        ignore_changes = inst.lifecycle.ignore_changes
        ignore_all = "all" in ignore_changes
        ignore: set[str] | frozenset[str] = kind.informational
        if ignore_changes:
            ignore = set(ignore) | set(ignore_changes)
            if ignore_all:
                ignore |= set(after)
        diffs = attr_changes(current, after, ignore=ignore, update_fields=kind.update_fields)

        # Re-point: its identity is a dependency's object, and that object is new or another one.
        if not ignore_all:
            pointed: dict[str, str] | None = None
            for dep in inst.deps:
                if dep == inst.parent or not kind.follows(inst, dep):
                    continue
                if pointed is None:
                    pointed = self.pointed(kind, rs)
                now, then = self.current_id(dep), pointed.get(str(dep))
                if now == _NEW or (then is not None and now is not None and now != then):
                    action = Action.REPLACE if kind.can_coexist(inst, rs, True) else Action.REPLACE_DESTROY_FIRST
                    detail = (f"{dep} is replaced" if now == _NEW else
                              f"it still uses {then}, but {dep} is now {now}")
                    return change(action, ReasonCode.DEPENDENCY_REPLACED, detail, attrs=diffs, before=current), drift

        failure = kind.failure(live)
        if not diffs and not failure and not forced:
            return None, drift  # the usual case of a large no-op plan: nothing below applies
        replace = Action.REPLACE if kind.can_coexist(inst, rs, False) else Action.REPLACE_DESTROY_FIRST
        forcing = [d for d in diffs if d.forces_replacement]
        renewed = [d for d in inst.deps if d != inst.parent and d._text in self.renewing] if forcing else []
        if renewed and not ignore_all:  # a copy of a dependency that changed with it (forcing)
            return change(replace, ReasonCode.DEPENDENCY_REPLACED, f"{renewed[0]} is replaced", attrs=diffs,
                          before=current), drift
        if failure:
            return change(replace, ReasonCode.INGESTION_FAILED, failure, attrs=diffs, before=current), drift
        if forced:
            return change(replace, ReasonCode.REPLACE_REQUESTED, "--replace", attrs=diffs, before=current), drift
        if forcing:
            sha = next((d for d in forcing if d.path == "sha256"), None)
            if sha is not None:
                return change(replace, ReasonCode.CONTENT_CHANGED,
                              f"content changed: sha256 {_short(sha.before)} -> {_short(sha.after)}",
                              attrs=diffs, before=current), drift
            fields = ", ".join(sorted({d.path.split('.')[0] for d in forcing}))
            return change(replace, ReasonCode.CANNOT_UPDATE, f"{fields} cannot be updated in place",
                          attrs=diffs, before=current), drift
        if diffs:
            config_changed = attr_changes(rs.attrs, after, ignore=ignore)
            code = ReasonCode.UPDATE_IN_PLACE if config_changed else ReasonCode.DRIFT
            detail = "" if config_changed else "changed outside ocigen-iac"
            return change(Action.UPDATE, code, detail, attrs=diffs, before=current), drift
        return None, drift

    # --- tracked objects no longer declared, and deposed ones ------------------------------
    def plan_deletes(self) -> None:
        destroy = self.req.mode == "destroy"
        doomed = {a: rs for a, rs in self.view.items()
                  if destroy or a not in self.req.instances}  # an Address equals its text
        if not doomed and not self.deposed:
            return  # (no map of every record's id: a no-op plan of 100,000 objects needs none)
        by_id = {(rs.kind, rs.id): a for a, rs in self.view.items()}
        for address, rs in sorted(doomed.items(), key=lambda item: -registry.depth_of(item[1].kind)):
            kind = self.kind(rs.kind)
            reason, detail = (ReasonCode.DESTROY_MODE if destroy else ReasonCode.NOT_IN_CONFIG), ""
            parent = by_id.get((kind.parent_type, rs.parent_id)) if kind.parent_type and rs.parent_id else None
            if parent is not None and parent in doomed:
                reason, detail = ReasonCode.PARENT_DELETED, f"removed together with {parent}"
            elif parent is not None and self.current_id(parent) == _NEW:
                reason, detail = ReasonCode.PARENT_DELETED, f"removed together with the old {parent}"
            addr = Address.parse(address)
            self.decided[address] = Change(addr, rs.kind, Action.DELETE, [Reason(reason, detail)],
                                           before=dict(rs.attrs), id=rs.id,
                                           parent=Address.parse(parent) if parent else None,
                                           previous_address=Address.parse(self.previous[address])
                                           if address in self.previous else None)
        for address, rs, why in self.deposed:
            kind = self.kind(rs.kind)
            parent = by_id.get((kind.parent_type, rs.parent_id)) if kind.parent_type and rs.parent_id else None
            self.decided[f"{address}#{rs.id}"] = Change(
                Address.parse(address), rs.kind, Action.DELETE, [Reason(ReasonCode.DEPOSED, why)],
                before=dict(rs.attrs), id=rs.id, parent=Address.parse(parent) if parent else None, deposed=True)

    def check_prevent_destroy(self, changes: Iterable[Change]) -> None:
        for c in changes:
            if not (c.action == Action.DELETE and not c.deposed) and not c.action.is_replace:
                continue
            inst = self.req.instances.get(c.address)
            if inst is None or not inst.lifecycle.prevent_destroy or c.address.is_child:
                continue
            where = inst.location or "its manifest"
            raise PlanError(
                f"{c.address} has lifecycle.prevent_destroy set (at {where}), but this plan would "
                f"{'replace' if c.action.is_replace else 'destroy'} it ({c.reason.value if c.reason else ''}). "
                f"Remove prevent_destroy from {where} first if you really mean it."
            )

    # --- relations between changes (for targeting and for safe deletes) --------------------
    def records_pointing_at(self, address: Address, object_id: str | None) -> list[tuple[str, ResourceState]]:
        """State records (current and deposed, after renames) made against this object."""
        if object_id is None:
            return []
        if self._pointing is None:
            index: dict[tuple[str, str], list[tuple[str, ResourceState]]] = {}
            for a, rs in self.view.items():
                for dep, oid in self.pointed(self.kind(rs.kind), rs).items():
                    if dep != a:
                        index.setdefault((dep, oid), []).append((a, rs))
            for a, rs, _ in self.deposed:
                for dep, oid in self.pointed(self.kind(rs.kind), rs).items():
                    index.setdefault((dep, oid), []).append((f"{a}#{rs.id}", rs))
            self._pointing = index
        return self._pointing.get((str(address), object_id), [])

    def change_for_record(self, key: str, rs: ResourceState, changes: dict[str, Change]) -> Change | None:
        c = changes.get(key)
        if c is None or c.id != rs.id or c.action in (Action.NOOP, Action.UPDATE, Action.ADOPT, Action.MOVE):
            return None
        return c

    def restrict(self, changes: dict[str, Change]) -> dict[str, Change]:
        destroy = self.req.mode == "destroy"
        if self.req.targets:
            for t in self.req.targets:
                if not any(c.address.within(t) for c in changes.values()) and \
                        not any(Address.parse(a).within(t) for a in self.view) and \
                        not any(a.within(t) for a in self.req.instances):
                    raise PlanError(f"--target {t}: no such resource (see `ocigen-iac state list` or the manifests)")
            keep = {k for k, c in changes.items() if any(c.address.within(t) for t in self.req.targets)}
            targeted = {changes[k].address for k in keep}
            keep |= {k for k, c in changes.items() if c.parent in targeted}  # children declared elsewhere
            frontier = list(keep)
            while frontier:
                k = frontier.pop()
                for extra in self.related(k, changes, dependents_only=destroy):
                    if extra not in keep:
                        keep.add(extra)
                        frontier.append(extra)
            changes = {k: c for k, c in changes.items() if k in keep}
            if destroy:
                chosen = [c for c in changes.values() if any(c.address.within(t) for t in self.req.targets)]
                for c in changes.values():
                    if c in chosen or not c.reasons or c.reason != ReasonCode.DESTROY_MODE:
                        continue
                    cause = next((t for t in chosen if self._depends_on(c, t)), None)
                    if cause is not None:
                        c.reasons = [Reason(ReasonCode.DEPENDENCY_DELETED, f"{cause.address} is destroyed")]
        if self.req.excludes:
            drop = {k for k, c in changes.items() if any(c.address.within(e) for e in self.req.excludes)}
            frontier = list(drop)
            while frontier:
                k = frontier.pop()
                for extra in self.dependents(k, changes):
                    if extra not in drop:
                        drop.add(extra)
                        frontier.append(extra)
            changes = {k: c for k, c in changes.items() if k not in drop}
        return changes

    def _depends_on(self, c: Change, target: Change) -> bool:
        rs = self.view.get(str(c.address)) if not c.deposed else None
        if rs is None:
            return False
        if target.address in c.deps or c.parent == target.address:
            return True
        return self.pointed(self.kind(rs.kind), rs).get(str(target.address)) == target.id

    def dependents(self, key: str, changes: dict[str, Change]) -> set[str]:
        """Changes of objects made against this change's object, or living in it."""
        if self._by_dep is None:
            index: dict[Address, set[str]] = {}
            for k, other in changes.items():
                for dep in (*other.deps, *((other.parent,) if other.parent else ())):
                    index.setdefault(dep, set()).add(k)
            self._by_dep = index
        c = changes[key]
        out = {k for k in self._by_dep.get(c.address, set()) if k != key and k in changes}
        for rk, rs in self.records_pointing_at(c.address, c.id):
            if rk in changes and changes[rk].id == rs.id:
                out.add(rk)
        return out

    def related(self, key: str, changes: dict[str, Change], *, dependents_only: bool) -> set[str]:
        c = changes[key]
        out = self.dependents(key, changes) if dependents_only else set()
        if dependents_only:
            return out
        for dep in (*c.deps, *((c.parent,) if c.parent else ())):
            d = changes.get(str(dep))
            if d is not None and d.action in (Action.CREATE, Action.REPLACE, Action.REPLACE_DESTROY_FIRST,
                                              Action.ADOPT, Action.MOVE):
                out.add(str(dep))
        if c.action == Action.DELETE or c.action.is_replace:  # what must move off the old object first
            for rk, rs in self.records_pointing_at(c.address, c.id):
                if self.change_for_record(rk, rs, changes) is not None:
                    out.add(rk)
        return out

    def orphaned_children(self, changes: dict[str, Change]) -> None:
        """A child planned to go away with its parent, whose parent stays (targeting), is deleted itself."""
        for c in changes.values():
            if c.reason != ReasonCode.PARENT_DELETED or c.parent is None:
                continue
            parent = changes.get(str(c.parent))
            if parent is None or not (parent.action == Action.DELETE or parent.action.is_replace):
                cause = next((t for t in changes.values() if t is not c and self._depends_on(c, t)
                              and t.action == Action.DELETE), None)
                c.reasons = [Reason(ReasonCode.DEPENDENCY_DELETED, f"{cause.address} is destroyed") if cause
                             else Reason(ReasonCode.DESTROY_MODE if self.req.mode == "destroy"
                                         else ReasonCode.NOT_IN_CONFIG)]

    def keep_safe_deletes(self, changes: dict[str, Change]) -> dict[str, Change]:
        """Never delete an object something still uses without moving off it in this plan (the
        applier checks again before each delete; a replacement keeps its old object deposed)."""
        out = dict(changes)
        for key, c in changes.items():
            if c.action != Action.DELETE or c.reason == ReasonCode.PARENT_DELETED:
                continue
            for rk, rs in self.records_pointing_at(c.address, c.id):
                if self.change_for_record(rk, rs, changes) is None:
                    out.pop(key, None)
                    self.plan.warnings.append(
                        f"{c.address}: its {'old ' if c.deposed else ''}object {c.id} is kept for now: "
                        f"{rk.split('#')[0]} still uses it and is not part of this run")
                    break
        return out

    # --- all together ------------------------------------------------------------------------
    def run(self) -> Plan:
        if self.req.mode != "destroy":
            unknown = [a for a in self.req.force_replace if a not in self.req.instances]
            if unknown:
                raise PlanError(f"--replace {unknown[0]}: no such resource in the manifests "
                                "(see `ocigen-iac state list`)")
            self.plan_instances()
        self.plan_deletes()
        changes = {k: c for k, c in self.decided.items() if c.action != Action.NOOP}
        changes = self.restrict(changes)
        self.orphaned_children(changes)
        changes = self.keep_safe_deletes(changes)
        self.check_prevent_destroy(changes.values())
        if self.req.mode == "refresh-only":
            changes = {k: c for k, c in changes.items() if c.action == Action.ADOPT}
        self.plan.changes = list(changes.values())
        self.plan.unchanged = self.unchanged
        self.plan.upload_bytes = sum(self.kind(c.kind).upload_size(c) for c in self.plan.changes
                                     if c.action.makes_new_object)
        if self.req.targets or self.req.excludes:
            self.plan.warnings.insert(0, "Resource targeting is in effect: this plan may not show every change the "
                                         "manifests need. Use --target/--exclude only in exceptional circumstances, "
                                         "and run a full plan afterwards.")
        return self.plan


def make_plan(req: PlanRequest) -> Plan:
    return _Planner(req).run()
