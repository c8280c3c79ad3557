"""Adoption by the ownership tag, shared by the kinds whose objects carry one (vector stores in
their metadata; projects and connectors in their freeform tags).

A lost create, or a lost state, finds the object the tag names; ids that state tracks, released
(`state rm`) or keeps deposed are never taken. Mix `TaggedAdoption` in before `ResourceType`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ocigen_iac.engine.context import RunContext
    from ocigen_iac.engine.plan import Change
    from ocigen_iac.resources.base import Instance
    from ocigen_iac.state.model import Intent

DEFAULT_OWNER_KEY = "ocigen-iac-owner"


class TaggedAdoption:
    type: str
    if TYPE_CHECKING:  # supplied by the ResourceType this is mixed into
        def gone_reason(self, live: dict[str, Any]) -> str | None: ...

    def owner_tags(self, live: dict[str, Any]) -> dict[str, Any]:
        """Where a live object keeps its tags (freeform tags unless the kind says otherwise)."""
        return live.get("freeform_tags") or {}

    def tag_fingerprint(self, ctx: RunContext, change: Change) -> dict[str, Any]:
        a = change.after or {}
        own = a.get("ownership") or {}
        return {"owner": own.get("value"), "owner_key": own.get("key"),
                "retry_token": ctx.extras.get(("retry_token", str(change.address))), "attrs": dict(a)}

    def owned(self, pool: dict[str, dict[str, Any]], key: str, value: str, tracked_ids: set[str]
              ) -> list[dict[str, Any]]:
        """Untracked live objects carrying the tag, oldest first."""
        return sorted((o for o in pool.values() if o["id"] not in tracked_ids and not self.gone_reason(o)
                       and self.owner_tags(o).get(key) == value),
                      key=lambda o: o.get("created_at") or 0)

    def leaked_candidates(self, intent: Intent, pool: dict[str, dict[str, Any]],
                          tracked_ids: set[str]) -> list[dict[str, Any]]:
        fp = intent.fingerprint
        return self.owned(pool, fp.get("owner_key") or DEFAULT_OWNER_KEY, fp.get("owner") or "", tracked_ids)

    def find_existing(self, ctx: RunContext, inst: Instance, ids: dict[str, str]) -> dict[str, Any] | None:
        own = inst.attrs["ownership"]
        tracked = {r.id for r in ctx.state.state.resources.values() if r.kind == self.type}
        tracked |= set(ctx.state.state.released) | {d.resource.id for d in ctx.state.state.deposed}
        found = self.owned(ctx.live.objects(self.type), own["key"], own["value"], tracked)
        return found[0] if found else None
