"""Markdown plans for pull-request comments: counts first, a deletion warning, details folded."""

from __future__ import annotations

from ocigen_iac.engine.plan import Action, Plan
from ocigen_iac.engine.render.text import render_change, summary_line

FOLD_AFTER_LINES = 12  # Atlantis folds output longer than this


def render_markdown(plan: Plan) -> str:
    n = plan.counts()
    out = [f"### ocigen-iac plan: `{plan.env}`", ""]
    out.append(f"**{summary_line(plan)}**")
    out.append("")
    if plan.changes:
        out.append("| add | change | destroy |")
        out.append("|---:|---:|---:|")
        out.append(f"| {n['add']} | {n['change']} | {n['destroy']} |")
        out.append("")
    deleting = [c.address for c in plan.changes if c.action in (Action.DELETE, Action.REPLACE,
                                                                   Action.REPLACE_DESTROY_FIRST)]
    if deleting:
        out.append(f"> [!WARNING]\n> This plan destroys or replaces {len(deleting)} object(s): "
                   + ", ".join(f"`{a}`" for a in deleting[:10]) + (" …" if len(deleting) > 10 else ""))
        out.append("")
    if plan.drift:
        out.append(f"**Note: {len(plan.drift)} object(s) changed outside of ocigen-iac.**")
        out.append("")
    body: list[str] = []
    for c in plan.changes:
        body.extend(render_change(c))
    if body:
        fence = ["```diff", *body, "```"]
        if len(body) > FOLD_AFTER_LINES:
            out.extend(["<details><summary>Show plan details</summary>", "", *fence, "", "</details>"])
        else:
            out.extend(fence)
    return "\n".join(out) + "\n"
