"""`ocigen-iac status` as text: one line per tracked object (address, health, id, summary), its
problems indented below; objects of a type with many objects are listed only when not Healthy."""

from __future__ import annotations

from ocigen_iac.engine.status import HEALTHY, StatusReport

MAX_HEALTHY_LISTED = 20  # per type; beyond that healthy ones are counted, not listed (see --json)


def render_status_text(report: StatusReport, *, local: bool = False) -> str:
    if not report.objects:
        hint = "" if local else " (objects applied with --local are in the local emulator's state: add --local)"
        return f"No objects: state is empty. Run `ocigen-iac apply` first{hint}."
    per_type: dict[str, int] = {}
    for o in report.objects:
        per_type[o.type] = per_type.get(o.type, 0) + 1
    shown = [o for o in report.objects if o.health != HEALTHY or per_type[o.type] <= MAX_HEALTHY_LISTED]
    width = max(len(o.address) for o in shown) if shown else 0
    out = []
    for o in shown:
        out.append(f"{o.address.ljust(width)}  {o.health:<11}  {o.id}  {o.summary}".rstrip())
        out.extend(f"{' ' * width}    {p}" for p in o.problems)
    listed: dict[str, int] = {}
    for o in shown:
        listed[o.type] = listed.get(o.type, 0) + 1
    for type_name, n in per_type.items():
        hidden = n - listed.get(type_name, 0)
        if hidden:
            out.append(f"... and {hidden} more Healthy {type_name} object(s) (all of them: --json)")
    counts = ", ".join(f"{n} {h}" for h, n in report.counts.items())
    out.append(f"\nHealth: {len(report.objects)} object(s): {counts}.")
    if report.deposed:
        out.append(f"{report.deposed} old object(s) of replacements are still to be deleted: run apply.")
    if report.pending_creates:
        out.append(f"{report.pending_creates} create(s) were interrupted: the next plan shows what became of them.")
    return "\n".join(out)
