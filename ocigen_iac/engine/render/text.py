"""Terraform-style text plans: symbols, per-resource headers with reasons, attribute diffs."""

from __future__ import annotations

import json
from typing import Any

from ocigen_iac.engine.plan import Action, Change, Plan

_HEADER = {
    Action.CREATE: "will be created",
    Action.UPDATE: "will be updated in-place",
    Action.DELETE: "will be destroyed",
    Action.REPLACE: "must be replaced",
    Action.REPLACE_DESTROY_FIRST: "must be replaced",
    Action.FORGET: "will be removed from state",
}
_COLORS = {Action.CREATE: "32", Action.UPDATE: "33", Action.DELETE: "31", Action.REPLACE: "35",
           Action.REPLACE_DESTROY_FIRST: "35"}
_SHOWN_ON_CREATE = ("filename", "purpose", "bytes", "name", "description", "metadata", "expires_after",
                    "memory_limit", "vector_store", "file", "attributes", "chunking_strategy", "source")


def _v(value: Any) -> str:
    if isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value):
        return json.dumps(value[:12] + "…", ensure_ascii=False)  # a sha256: the prefix is enough to tell
    if isinstance(value, str):
        return json.dumps(value if len(value) <= 64 else value[:16] + "…", ensure_ascii=False)
    if value is None:
        return "null"
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _paint(text: str, code: str | None, color: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if color and code else text


def render_change(c: Change, *, color: bool = False) -> list[str]:
    reason = "; ".join(r.detail or r.code.value.replace("_", " ") for r in c.reasons)
    lines = [f"  # {c.address} {_HEADER[c.action]}" + (f" ({reason})" if reason else "")]
    lines.append(_paint(f"{c.action.symbol:>3} {c.address}", _COLORS.get(c.action), color)
                 + (f"  [id={c.id}]" if c.id and c.action != Action.CREATE else ""))
    if c.action == Action.CREATE and c.after:
        for key in _SHOWN_ON_CREATE:
            value = c.after.get(key)
            if value not in (None, {}, []):
                lines.append(f"      + {key} = {_v(value)}")
    elif c.action == Action.DELETE:
        pass
    else:
        for a in c.attr_changes:
            note = "  # forces replacement" if a.forces_replacement and c.action.is_replace else ""
            if a.before is None:
                lines.append(f"      + {a.path} = {_v(a.after)}{note}")
            elif a.after is None:
                lines.append(f"      - {a.path} = {_v(a.before)}{note}")
            else:
                lines.append(f"      ~ {a.path} = {_v(a.before)} -> {_v(a.after)}{note}")
    lines.append("")
    return lines


def summary_line(plan: Plan) -> str:
    if not plan.changes:
        if plan.mode == "destroy":
            return "No changes. No objects need to be destroyed."
        if plan.mode == "refresh-only":
            return "No changes. Your infrastructure still matches the configuration." if not plan.drift else \
                f"Refresh: {len(plan.drift)} object(s) changed outside ocigen-iac will be recorded in state."
        return "No changes. Your infrastructure matches the configuration."
    n = plan.counts()
    forget = f", {n['forget']} to forget" if n["forget"] else ""
    return f"Plan: {n['add']} to add, {n['change']} to change, {n['destroy']} to destroy{forget}."


def render_text(plan: Plan, *, color: bool = False) -> str:
    out: list[str] = []
    for w in plan.warnings:
        out.append(f"Warning: {w}")
    if plan.adoptions:
        out.append("Adopted objects left behind by an interrupted run (no duplicates were created):")
        out.extend(f"  {a}" for a in plan.adoptions)
        out.append("")
    if plan.drift:
        out.append("Note: Objects have changed outside of ocigen-iac")
        out.append("")
        for d in plan.drift:
            verb = {"deleted": "has been deleted", "expired": "has expired"}.get(d.status, "has changed")
            out.append(f"  # {d.address} {verb}")
            for a in d.attr_changes:
                out.append(f"      ~ {a.path} = {_v(a.before)} -> {_v(a.after)}")
        out.append("")
    if plan.changes:
        symbols = sorted({c.action for c in plan.changes}, key=lambda a: list(Action).index(a))
        out.append("Resource actions are indicated with the following symbols:")
        legend = {Action.CREATE: "create", Action.UPDATE: "update in-place", Action.DELETE: "destroy",
                  Action.REPLACE: "create replacement and then destroy",
                  Action.REPLACE_DESTROY_FIRST: "destroy and then create replacement",
                  Action.FORGET: "forget (remove from state only)"}
        out.extend(f"  {a.symbol:>3} {legend[a]}" for a in symbols)
        out.append("")
        out.append(f"ocigen-iac will perform the following actions (environment {plan.env!r}):")
        out.append("")
        for c in plan.changes:
            out.extend(render_change(c, color=color))
    out.append(summary_line(plan))
    return "\n".join(out)
