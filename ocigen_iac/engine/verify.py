"""Verification: before apply says "complete", it re-reads what it touched.

For every parent object a plan touched (a store it changed, or one whose attachments it
changed; likewise containers), each child type that asks for it (`verify_after_apply`) checks
that every declared child is there and ready (`ResourceType.verify_children`: attachments
present, `completed` and with the declared attributes, container files present). What is missing is handed back; the runner
repairs it in the same run (bounded rounds) or reports it and exits 1. No peer does this; it
turns a silent loss into a loud error.
"""

from __future__ import annotations

import asyncio

from ocigen_iac.addresses import Address
from ocigen_iac.engine.context import RunContext
from ocigen_iac.engine.plan import Action, Plan
from ocigen_iac.resources import Instance, registry


def touched_parents(plan: Plan) -> set[Address]:
    parents: set[Address] = set()
    for c in plan.changes:
        if c.deposed or c.action == Action.DELETE:
            if c.parent is not None:
                parents.add(c.parent)
            continue
        kind = registry.resource_type(c.kind)
        if kind.parent_type is not None and c.parent is not None:
            parents.add(c.parent)
        else:
            parents.add(c.address)
    return parents


async def verify_apply(ctx: RunContext, plan: Plan, instances: dict[Address, Instance]) -> dict[str, str]:
    """address -> what is wrong, for every declared child of a touched parent that is not right."""
    state = ctx.state.state.resources
    parents = touched_parents(plan)
    planned = {str(c.address) for c in plan.changes}
    targeting = bool(plan.targets or plan.excludes)
    problems: dict[str, str] = {}
    jobs = []
    for kind in registry.resource_types():
        if not kind.verify_after_apply:
            continue
        children: dict[Address, list[Instance]] = {}
        for inst in instances.values():
            if inst.kind == kind.type and inst.parent in parents:
                children.setdefault(inst.parent, []).append(inst)
        for parent, insts in children.items():
            parent_rs = state.get(str(parent))
            if parent_rs is None:
                continue  # the parent itself failed: reported as a failure already
            expected = {}
            for inst in insts:
                key = str(inst.address)
                rs = state.get(key)
                if rs is None:
                    if not targeting or key in planned:
                        problems[key] = "was not created"
                    continue
                expected[key] = rs
            touched = {k for k in expected if k in planned}
            jobs.append(kind.verify_children(ctx, parent_rs.id, expected, touched))
    for found in await asyncio.gather(*jobs):
        problems.update(found)
    return problems
