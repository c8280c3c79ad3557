"""Files: uploaded bytes with a purpose. Immutable: any change is a replacement.

Identity: the API id in state, plus sha256/size/filename. A leaked create (crash or lost
response) is found by filename + size + created_at after the recorded intent, and, for files
small enough, by downloading and hashing the content.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any, ClassVar

from ocigen_iac.errors import PlanError
from ocigen_iac.manifest.desired import DesiredResource, FileSpec
from ocigen_iac.resources.base import Instance, ResourceKind, now, recent
from ocigen_iac.state.model import Intent, ResourceState

if TYPE_CHECKING:
    from ocigen_iac.engine.context import RunContext

VERIFY_CONTENT_MAX_BYTES = 8 << 20
LOST_CREATE_ROUNDS = 3  # look-up-then-create rounds after a create whose outcome is unknown


class FileKind(ResourceKind):
    kind: ClassVar[str] = "file"
    order: ClassVar[int] = 0

    def expand(self, res: DesiredResource, digests: dict[str, tuple[str, int]]) -> Instance:
        spec = res.spec
        assert isinstance(spec, FileSpec)
        sha256, size = digests[str(spec.path)]
        attrs: dict[str, Any] = {
            "filename": spec.filename,
            "purpose": spec.purpose,
            "sha256": sha256,
            "bytes": size,
            "expires_after": spec.expires_after,
            "source": spec.rel_path,
        }
        return Instance(res.address, self.kind, attrs, lifecycle=res.lifecycle, source=spec, origin=res)

    informational: ClassVar[frozenset[str]] = frozenset({"source"})

    def find_live(self, ctx: RunContext, rs: ResourceState) -> dict[str, Any] | None:
        return ctx.live.files.get(rs.id)

    def gone_reason(self, live: dict[str, Any]) -> str | None:
        expires_at = live.get("expires_at")
        if expires_at and float(expires_at) <= now():
            return "expired"
        return None

    def project_live(self, live: dict[str, Any], rs: ResourceState) -> dict[str, Any]:
        return {
            "filename": live.get("filename"),
            "purpose": live.get("purpose"),
            "sha256": rs.attrs.get("sha256"),  # not observable: the hash we uploaded
            "bytes": live.get("bytes"),
            "expires_after": rs.attrs.get("expires_after"),
            "source": rs.attrs.get("source"),
        }

    def snapshot(self, live: dict[str, Any]) -> dict[str, Any]:
        return {"filename": live.get("filename"), "purpose": live.get("purpose"), "bytes": live.get("bytes")}

    async def create(self, ctx: RunContext, inst: Instance) -> ResourceState:
        spec: FileSpec = inst.source
        sha256, size = ctx.hashes.digest(spec.path)
        if sha256 != inst.attrs["sha256"]:
            raise PlanError(
                f"{spec.rel_path} changed after the plan was made (sha256 {inst.attrs['sha256'][:12]}… "
                f"-> {sha256[:12]}…); run plan again"
            )
        fingerprint = {"filename": spec.filename, "bytes": size, "sha256": sha256, "purpose": spec.purpose,
                       "attrs": dict(inst.attrs)}
        ctx.state.record_intent(Intent(inst.address, self.kind, fingerprint))
        from ocigen_iac.api import OutcomeUnknown

        client = ctx.api()
        sent = 0

        def progress(total_sent: int) -> None:  # cumulative per attempt -> increments for the bar
            nonlocal sent
            if total_sent > sent:
                ctx.reporter.uploaded(total_sent - sent)
            sent = total_sent

        try:
            obj = await client.create_file(
                spec.path, purpose=spec.purpose, filename=spec.filename, expires_after=spec.expires_after,
                progress=progress,
            )
            live = obj.model_dump()
        except OutcomeUnknown:
            # Look the object up; only when it does not exist is it safe to send the create again.
            for attempt in range(LOST_CREATE_ROUNDS):
                live = await self._find_leaked(ctx, ctx.state.state.intents[inst.address])
                if live is not None:
                    break
                try:
                    obj = await client.create_file(
                        spec.path, purpose=spec.purpose, filename=spec.filename, expires_after=spec.expires_after
                    )
                    live = obj.model_dump()
                    break
                except OutcomeUnknown:
                    if attempt == LOST_CREATE_ROUNDS - 1:
                        raise
        rs = ResourceState(self.kind, live["id"], attrs=dict(inst.attrs), live=self.snapshot(live),
                           created_at=live.get("created_at"))
        return rs

    async def _find_leaked(self, ctx: RunContext, intent: Intent) -> dict[str, Any] | None:
        tracked = {r.id for r in ctx.state.state.resources.values() if r.kind == self.kind}
        client = ctx.api()
        ctx.live.files = {f.id: f.model_dump() async for f in client.iter_files()}
        match = await self.adopt_verified(ctx, intent, tracked)
        return ctx.live.files[match.id] if match is not None else None

    async def adopt_verified(self, ctx: RunContext, intent: Intent, tracked_ids: set[str]) -> ResourceState | None:
        """Candidates match by filename, size and time; the content decides (another upload of the
        same name and size may be racing this one)."""
        rejected = set(tracked_ids)
        for _ in range(len(ctx.live.files)):
            match = self.adopt(ctx, intent, rejected)
            if match is None or await self.verify_adoption(ctx, match, intent):
                return match
            rejected.add(match.id)
        return None

    async def delete(self, ctx: RunContext, address: str, rs: ResourceState) -> None:
        from ocigen_iac.api import NotFound

        try:
            await ctx.api().delete_file(rs.id)
        except NotFound:
            pass

    def adopt(self, ctx: RunContext, intent: Intent, tracked_ids: set[str]) -> ResourceState | None:
        fp = intent.fingerprint
        candidates = [
            f for f in ctx.live.files.values()
            if f["id"] not in tracked_ids
            and f.get("filename") == fp["filename"]
            and f.get("bytes") == fp["bytes"]
            and (f.get("purpose") in (None, fp["purpose"]))
            and recent(f.get("created_at"), intent.started_at)
        ]
        if not candidates:
            return None
        candidates.sort(key=lambda f: f.get("created_at") or 0)
        live = candidates[0]
        return ResourceState(self.kind, live["id"], attrs=dict(fp.get("attrs", {})), live=self.snapshot(live),
                             created_at=live.get("created_at"))

    async def verify_adoption(self, ctx: RunContext, rs: ResourceState, intent: Intent) -> bool:
        """Confirm an adoption candidate by content when it is small enough to download."""
        size = intent.fingerprint.get("bytes", 0)
        if size > VERIFY_CONTENT_MAX_BYTES:
            return True
        content = await ctx.api().file_content(rs.id)
        return hashlib.sha256(content).hexdigest() == intent.fingerprint.get("sha256")
