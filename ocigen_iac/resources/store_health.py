"""A vector store's health for `ocigen-iac status`: its file counts, every failed or cancelled
file with its last_error (listed with the files endpoint's status filter, only when the counts
say there are some), usage_bytes and expiry. Read-only."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ocigen_iac.resources.files import FileType
from ocigen_iac.resources.health_text import DEGRADED, HEALTHY, PROGRESSING, human_bytes, relative, utc
from ocigen_iac.state.model import ResourceState

if TYPE_CHECKING:
    from ocigen_iac.engine.context import RunContext

COUNTS = ("completed", "in_progress", "failed", "cancelled", "total")
SETTLED_BAD = ("failed", "cancelled")
MAX_LISTED_FAILURES = 1000  # per status; the counts still say how many there are


async def failed_files(ctx: RunContext, store_id: str, counts: dict[str, int]) -> list[dict[str, Any]]:
    state = ctx.state.state.resources
    files = {rs.id: (address, rs.attrs.get("filename")) for address, rs in state.items() if rs.kind == FileType.type}
    out: list[dict[str, Any]] = []
    for status in SETTLED_BAD:
        if not counts.get(status):
            continue
        n = 0
        async for f in ctx.api().iter_vector_store_files(store_id, status=status):
            address, filename = files.get(f.id, (None, None))
            if filename is None:
                listed = ctx.live.get(FileType.type, f.id) or {}
                filename = listed.get("filename")
            err = f.last_error.model_dump() if f.last_error is not None else {}
            out.append({"file_id": f.id, "file": address, "filename": filename, "status": f.status,
                        "last_error": {"code": err.get("code"), "message": err.get("message")}})
            n += 1
            if n >= MAX_LISTED_FAILURES:
                break
    return out


async def store_health(ctx: RunContext, rs: ResourceState, live: dict[str, Any]) -> dict[str, Any]:
    raw = live.get("file_counts") or {}
    counts = {k: int(raw.get(k) or 0) for k in COUNTS}
    failures = await failed_files(ctx, rs.id, counts)
    out: dict[str, Any] = {"status": live.get("status"), "file_counts": counts, "usage_bytes": live.get("usage_bytes"),
                           "expires_at": live.get("expires_at"), "last_active_at": live.get("last_active_at"),
                           "failures": failures}
    if live.get("status") == "expired":
        return out  # the engine reports it Missing (expired)
    if counts["in_progress"] or live.get("status") == "in_progress":
        out["health"] = PROGRESSING
    elif counts["failed"] or counts["cancelled"]:
        out["health"] = DEGRADED
    else:
        out["health"] = HEALTHY
    summary = (f"{counts['total']} file(s): {counts['completed']} completed, {counts['in_progress']} in progress, "
               f"{counts['failed']} failed, {counts['cancelled']} cancelled; {human_bytes(live.get('usage_bytes'))}")
    if live.get("expires_at"):
        summary += f"; expires {utc(live['expires_at'])} ({relative(live['expires_at'])} unless used)"
    out["summary"] = summary
    out["problems"] = [
        f"{f['status']}: {f['file'] or 'untracked file'} ({f['filename'] or '?'}, {f['file_id']}): "
        f"{f['last_error']['code'] or 'unknown'}: {f['last_error']['message'] or ''}".rstrip(": ")
        for f in failures]
    return out
