"""The planner: desired instances vs state vs live -> a Plan of changes with reasons.

Deciding is separate from doing: nothing here calls the API or writes state (adoption happened
in refresh). Instances are visited parents-first so a parent's replacement can decide its
children's fate; state entries no longer desired are then planned for deletion, children first.
"""

from __future__ import annotations

from ocigen_iac.engine.context import RunContext
from ocigen_iac.engine.diffing import attr_changes
from ocigen_iac.engine.plan import Action, AttrChange, Change, Drift, Plan, Reason, ReasonCode
from ocigen_iac.errors import PlanError
from ocigen_iac.resources import KINDS, Instance
from ocigen_iac.state.model import ResourceState

NEW_OBJECT = (Action.CREATE, Action.REPLACE, Action.REPLACE_DESTROY_FIRST)
# Unchanged instances share one record: only its action is ever read, and a no-op plan over
# 60,000 objects would otherwise build 60,000 of them.
_UNCHANGED = Change("", "", Action.NOOP)


def _kind_order(kind: str) -> int:
    return KINDS[kind].order


def _short(value: object) -> str:
    return f"{value}"[:12] + "…" if isinstance(value, str) and len(value) > 12 else f"{value}"


def make_plan(
    ctx: RunContext,
    *,
    mode: str = "normal",
    targets: list[str] | None = None,
    force_replace: list[str] | None = None,
) -> Plan:
    state = ctx.state.state
    plan = Plan(mode=mode, env=ctx.settings.env, lineage=state.lineage, serial=state.serial)
    decided: dict[str, Change] = {}
    force = set(force_replace or [])
    unknown = [a for a in force if a not in ctx.instances]
    if unknown:
        raise PlanError(f"--replace {unknown[0]}: no such resource in the manifests (see `ocigen-iac state list`)")

    if mode != "destroy":
        for inst in sorted(ctx.instances.values(), key=lambda i: _kind_order(i.kind)):
            change, drift = _plan_instance(ctx, inst, state.resources.get(inst.address), decided, force)
            if drift is not None:
                plan.drift.append(drift)
            decided[inst.address] = change

    # State entries no longer desired (or everything, in destroy mode): delete, children first.
    doomed = [(a, rs) for a, rs in state.resources.items() if mode == "destroy" or a not in ctx.instances]
    doomed_addresses = {a for a, _ in doomed}
    by_id = {(rs.kind, rs.id): a for a, rs in state.resources.items()}
    for address, rs in sorted(doomed, key=lambda item: -_kind_order(item[1].kind)):
        parent_address = _parent_address(rs, by_id)
        reason = ReasonCode.DESTROY_MODE if mode == "destroy" else ReasonCode.NOT_IN_CONFIG
        detail = ""
        if "#deposed-" in address:
            detail = "left over from a replacement"
        if parent_address is not None and parent_address in doomed_addresses:
            reason, detail = ReasonCode.PARENT_DELETED, f"removed together with {parent_address}"
        elif parent_address is not None and decided.get(parent_address) is not None \
                and decided[parent_address].action in (Action.REPLACE, Action.REPLACE_DESTROY_FIRST):
            reason, detail = ReasonCode.PARENT_DELETED, f"removed together with the old {parent_address}"
        desired = ctx.instances.get(address)
        if desired is not None and desired.lifecycle.prevent_destroy:
            where = desired.origin.location if desired.origin else "its manifest"
            raise PlanError(
                f"{address} has lifecycle.prevent_destroy set, but this plan would destroy it "
                f"({reason.value}). Remove prevent_destroy from {where} first if you really mean to destroy it."
            )
        decided[address] = Change(address, rs.kind, Action.DELETE, [Reason(reason, detail)],
                                  before=dict(rs.attrs), after=None, id=rs.id, deps=list(rs.deps),
                                  parent=parent_address)

    changes = [c for c in decided.values() if c.action != Action.NOOP]
    if targets:
        changes = _restrict_to_targets(changes, decided, targets, ctx)
    if mode == "refresh-only":
        changes = []
    plan.changes = changes
    plan.unchanged = sum(1 for c in decided.values() if c.action == Action.NOOP)
    return plan


def _parent_address(rs: ResourceState, by_id: dict[tuple[str, str], str]) -> str | None:
    if rs.parent_id is None:
        return None
    parent_kind = "vector_store" if rs.kind == "vector_store_file" else "container"
    return by_id.get((parent_kind, rs.parent_id))


def _plan_instance(
    ctx: RunContext, inst: Instance, rs: ResourceState | None, decided: dict[str, Change], force: set[str]
) -> tuple[Change, Drift | None]:
    kind = KINDS[inst.kind]
    after = inst.attrs  # plans never mutate attributes: share, don't copy (60k instances add up)
    deps = inst.deps

    def change(action: Action, code: ReasonCode, detail: str = "", attrs: list[AttrChange] | None = None,
               before: dict | None = None) -> Change:
        return Change(inst.address, inst.kind, action, [Reason(code, detail)], before=before, after=after,
                      attr_changes=attrs or [], id=rs.id if rs else None, deps=deps, parent=inst.parent)

    if rs is None:
        adopted = getattr(kind, "untracked_live", None)
        if adopted is not None and not any(decided.get(d) and decided[d].action in NEW_OBJECT for d in inst.deps):
            rs = adopted(ctx, inst)
            if rs is not None:
                ctx.state.put(inst.address, rs)
    if rs is None:
        return change(Action.CREATE, ReasonCode.NEW), None

    parent = decided.get(inst.parent) if inst.parent else None
    if parent is not None and parent.action in NEW_OBJECT:
        return change(Action.CREATE, ReasonCode.PARENT_REPLACED, f"{inst.parent} gets a new object",
                      before=dict(rs.attrs)), None

    live = kind.find_live(ctx, rs)
    if live is None:
        return (change(Action.CREATE, ReasonCode.DELETED_OUTSIDE, f"{rs.id} no longer exists", before=dict(rs.attrs)),
                Drift(inst.address, inst.kind, "deleted"))
    gone = kind.gone_reason(live)
    if gone:
        return (change(Action.CREATE, ReasonCode.EXPIRED, f"{rs.id} is {gone}", before=dict(rs.attrs)),
                Drift(inst.address, inst.kind, gone))

    current = kind.project_live(live, rs)
    drift = None
    observed = kind.snapshot(live)
    if rs.live and rs.live != observed:  # equal snapshots (the usual case) cannot hold drift
        baseline = {k: v for k, v in rs.live.items() if k != "owner_key"}
        drift_changes = attr_changes(baseline, {k: observed.get(k) for k in baseline}) if baseline else []
        if drift_changes:
            drift = Drift(inst.address, inst.kind, "changed", drift_changes)

    ignore_changes = inst.lifecycle.ignore_changes
    ignore_all = "all" in ignore_changes
    ignore: set[str] | frozenset[str] = kind.informational
    if ignore_changes:
        ignore = set(ignore) | set(ignore_changes)
        if ignore_all:
            ignore |= set(after)
    diffs = attr_changes(current, after, ignore=ignore, update_fields=kind.update_fields)

    # A dependency that gets a new object (a replaced File) changes this object's identity when
    # the kind is keyed by it (an attachment); a copy (a container file) is replaced only when
    # its own content changed along with it.
    replaced = [d for d in inst.deps if d != inst.parent and d in decided and decided[d].action in NEW_OBJECT]
    if replaced and not ignore_all and (kind.identity_follows_deps or any(d.forces_replacement for d in diffs)):
        return change(Action.REPLACE, ReasonCode.DEPENDENCY_REPLACED, f"{replaced[0]} is replaced",
                      attrs=diffs, before=current), drift
    failure = kind.failure(live)
    destroy_first = Action.REPLACE if kind.create_before_destroy else Action.REPLACE_DESTROY_FIRST
    if failure:
        return change(destroy_first, ReasonCode.INGESTION_FAILED, failure, attrs=diffs, before=current), drift
    if inst.address in force:
        return change(destroy_first, ReasonCode.REPLACE_REQUESTED, "--replace", attrs=diffs, before=current), drift
    forcing = [d for d in diffs if d.forces_replacement]
    if forcing:
        if any(d.path == "sha256" for d in forcing):
            old = next(d for d in forcing if d.path == "sha256")
            return change(destroy_first, ReasonCode.CONTENT_CHANGED,
                          f"content changed: sha256 {_short(old.before)} -> {_short(old.after)}",
                          attrs=diffs, before=current), drift
        fields = ", ".join(sorted({d.path.split('.')[0] for d in forcing}))
        return change(destroy_first, ReasonCode.CANNOT_UPDATE, f"{fields} cannot be updated in place",
                      attrs=diffs, before=current), drift
    if diffs:
        config_changed = attr_changes(rs.attrs, after, ignore=ignore)
        code = ReasonCode.UPDATE_IN_PLACE if config_changed else ReasonCode.DRIFT
        return change(Action.UPDATE, code, attrs=diffs, before=current), drift
    return _UNCHANGED, drift


def _restrict_to_targets(changes: list[Change], decided: dict[str, Change], targets: list[str],
                         ctx: RunContext) -> list[Change]:
    """Keep the targeted changes (an address, or an address prefix like `vector_store.kb`),
    their children, and the dependencies they need (as Terraform's -target does)."""
    known = set(decided)
    for t in targets:
        if not any(a == t or a.startswith(t + ".") or a.startswith(t + "[") for a in known):
            raise PlanError(f"--target {t}: no such resource (see `ocigen-iac state list` or the manifests)")

    def targeted(address: str) -> bool:
        return any(address == t or address.startswith(t + ".") or address.startswith(t + "[") for t in targets)

    keep = {c.address for c in changes if targeted(c.address)}
    frontier = list(keep)
    while frontier:
        address = frontier.pop()
        c = decided.get(address)
        for dep in (c.deps if c else []):
            if dep not in keep and dep in decided:
                keep.add(dep)
                frontier.append(dep)
    return [c for c in changes if c.address in keep]
