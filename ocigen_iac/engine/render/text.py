"""Terraform-style text plans: symbols, per-resource headers with reasons, attribute diffs.

Which attributes a create lists comes from the kind (`ResourceType.shown_on_create`).
"""

from __future__ import annotations

import json
from typing import Any

from ocigen_iac.engine.plan import Action, Change, Plan, ReasonCode
from ocigen_iac.resources import registry

_HEADER = {
    Action.CREATE: "will be created",
    Action.UPDATE: "will be updated in-place",
    Action.DELETE: "will be destroyed",
    Action.REPLACE: "must be replaced",
    Action.REPLACE_DESTROY_FIRST: "must be replaced",
    Action.ADOPT: "will be adopted into state",
    Action.MOVE: "has moved",
}
_LEGEND = {
    Action.CREATE: "create",
    Action.UPDATE: "update in-place",
    Action.DELETE: "destroy",
    Action.REPLACE: "create replacement and then destroy",
    Action.REPLACE_DESTROY_FIRST: "destroy and then create replacement",
    Action.ADOPT: "adopt an existing object (nothing changes on the service)",
    Action.MOVE: "move to a new address (nothing changes on the service)",
}
_COLORS = {Action.CREATE: "32", Action.UPDATE: "33", Action.DELETE: "31", Action.REPLACE: "35",
           Action.REPLACE_DESTROY_FIRST: "35", Action.ADOPT: "36", Action.MOVE: "36"}
# reasons whose code says nothing the header does not already say
_SILENT = {ReasonCode.NEW, ReasonCode.UPDATE_IN_PLACE, ReasonCode.NOT_IN_CONFIG, ReasonCode.DESTROY_MODE}
_REASON_TEXT = {
    ReasonCode.NOT_IN_CONFIG: "because it is not in the manifests",
    ReasonCode.DESTROY_MODE: "",
}


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


def _reason(c: Change) -> str:
    parts = []
    for r in c.reasons:
        if r.detail:
            parts.append(r.detail)
        elif r.code not in _SILENT:
            parts.append(r.code.value.replace("_", " "))
        elif _REASON_TEXT.get(r.code):
            parts.append(_REASON_TEXT[r.code])
    return "; ".join(parts)


def header(c: Change) -> str:
    what = _HEADER[c.action]
    if c.action == Action.MOVE and c.previous_address is not None:
        return f"# {c.previous_address} has moved to {c.address}"
    if c.previous_address is not None:
        what = f"has moved from {c.previous_address} and {what}"
    if c.importing is not None and c.action != Action.ADOPT:
        what = f"will be adopted and {what.removeprefix('will be ')}"
    subject = f"{c.address} (old object {c.id})" if c.deposed else str(c.address)
    reason = _reason(c)
    if c.reason == ReasonCode.NOT_IN_CONFIG and not any(r.detail for r in c.reasons):
        return f"# {subject} {what} (because it is not in the manifests)"
    return f"# {subject} {what}" + (f" ({reason})" if reason else "")


def render_change(c: Change, *, color: bool = False) -> list[str]:
    lines = [f"  {header(c)}"]
    symbol = c.action.symbol
    lines.append(_paint(f"{symbol:>3} {c.address}", _COLORS.get(c.action), color)
                 + (f"  [id={c.id}]" if c.id and c.action != Action.CREATE else ""))
    if c.action == Action.CREATE and c.after:
        shown = registry.resource_type(c.kind).shown_on_create if registry.has_type(c.kind) else tuple(c.after)
        for key in shown:
            value = c.after.get(key)
            if value not in (None, {}, []):
                lines.append(f"      + {key} = {_v(value)}")
    elif c.action not in (Action.DELETE, Action.ADOPT, Action.MOVE):
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
    imports = f"{n['import']} to import, " if n["import"] else ""
    moves = f", {n['move']} to move" if n["move"] else ""
    return f"Plan: {imports}{n['add']} to add, {n['change']} to change, {n['destroy']} to destroy{moves}."


def _bytes(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} B"


def render_text(plan: Plan, *, color: bool = False) -> str:
    out: list[str] = []
    for w in plan.warnings:
        out.append(f"Warning: {w}")
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
        out.extend(f"  {a.symbol:>3} {_LEGEND[a]}" for a in symbols)
        out.append("")
        out.append(f"ocigen-iac will perform the following actions (environment {plan.env!r}):")
        out.append("")
        for c in plan.changes:
            out.extend(render_change(c, color=color))
        if plan.upload_bytes:
            out.append(f"Uploads: {_bytes(plan.upload_bytes)} of local content.")
    out.append(summary_line(plan))
    return "\n".join(out)
