"""VectorStoreConnector: OCI's managed sync of Object Storage into a vector store (control plane,
`/20231130/vectorStoreConnectors`, file syncs under `/vectorStoreConnectorFileSyncs`).

Manifest: `kind: VectorStoreConnector` with `vector_store` (a VectorStore document), `configuration`
(`buckets`: `bucket`, `namespace` (default: the tenancy's), `prefixes`), `schedule` (`cron`, or
`frequency` HOURLY|DAILY + `interval`; `enabled`, `start`, `end`), `vault_secret_id`,
`display_name`, `description`, `compartment` (default: ocigen.yaml's), `freeform_tags`, and:

* `sync: on_apply` (the default) — an apply that creates the connector, changes its
  configuration, or changes the declared documents it reads (the `ObjectStorageObjects` objects in
  its buckets and prefixes: their names and content hashes make `synced_content`) starts a file
  sync once the uploads are done, waits for it (bounded, with a progress bar), and puts its
  stats (created, updated, deleted, failed, unsupported) and the files that were not ingested in
  the apply summary. `sync: manual` never starts one (the schedule, or someone else, does).
* `tolerate_failed_files: N` (default 0) — how many files of the bucket may fail to ingest
  (failed or unsupported) before the apply fails. The count is the connector's own: the latest
  outcome of every object it holds, so a file that failed once keeps failing the apply until it is
  fixed, removed, or tolerated.

`synced_content` is read back from the service: each sync this tool starts carries the digest it
syncs in a freeform tag, and the live value is the digest of the last such sync that SUCCEEDED
with no more failed files than tolerated. A sync that failed, was interrupted, or did not reach
the declared content therefore shows in the next plan as an update. The last sync this tool did
not start (a schedule's, or someone's) is recorded in state, so a plan's drift section notes the
syncs that ran outside it since the last apply.

Removed documents: a sync must not start while deletes of removed objects it would read are
still pending (it would ingest them again). The engine orders a change after the *new* objects it
depends on, not after deletes, so the sync waits for this run's state to stop tracking the removed
objects of its buckets, as long as they keep going away; when they stop (`--target` left a delete
out, or it hangs), it syncs anyway, says so, and tags the sync as partial so the next apply syncs
again.

Identity: the connector is made for its vector store (`follows`): a store replaced means a new
connector (destroy first: two connectors must not feed one store). `vector_store`,
`compartment` and `vault_secret_id` cannot change in place; everything else updates.

Lost creates: like Project, the create carries an `opc-retry-token` (a lost response is retried
with the same token and answered with the same connector), file syncs too; a crash leaves an
intent, and the next refresh adopts the connector by its ownership freeform tag.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import AwareDatetime, Field, StringConstraints, model_validator

from ocigen_iac.addresses import Address
from ocigen_iac.errors import OcigenError, PlanError
from ocigen_iac.manifest.desired import DesiredResource
from ocigen_iac.manifest.models import NonEmptyStr, _Model
from ocigen_iac.resources import _oci
from ocigen_iac.resources.base import CreateOutcome, DocumentKind, Instance, ResourceType
from ocigen_iac.resources.object_storage_objects import BucketName, ObjectType, namespace, split_id
from ocigen_iac.resources.ownership import DEFAULT_OWNER_KEY, TaggedAdoption
from ocigen_iac.resources.projects import TagMap
from ocigen_iac.resources.registry import register
from ocigen_iac.state.model import ResourceState

if TYPE_CHECKING:
    from ocigen_iac.engine.context import ExpandContext, RunContext
    from ocigen_iac.engine.plan import Change
    from ocigen_iac.manifest.parse import ParsedDoc
    from ocigen_iac.manifest.resolve import Resolver

CONTENT_TAG = "ocigen-iac-content"  # freeform tag on the file syncs this tool starts
PARTIAL = ":partial"
SYNC_DONE = ("SUCCEEDED", "FAILED", "CANCELED")
SYNC_WAIT_S = 3600.0
REMOVED_NO_PROGRESS_S = 5.0  # stop waiting for removed objects' deletes when none went for this long
REMOVED_WAIT_S = 300.0
MAX_PAGES = 100
OUTSIDE_SYNCS_SEEN = 100  # how far back refresh looks for the last sync this tool did not start
SHOWN_FILES = 10
STAT_KEYS = ("created", "updated", "deleted", "failed", "unsupported")
CONNECTOR_FIELDS = frozenset({"display_name", "description", "configuration", "schedule", "freeform_tags",
                              "ownership"})


class SyncFailed(OcigenError):
    """A file sync failed, or more files failed to ingest than the manifest tolerates."""


# ------------------------------------------------------------------------------------ manifest
class BucketSourceModel(_Model):
    bucket: BucketName
    namespace: NonEmptyStr | None = Field(None, description="default: the tenancy's namespace")
    prefixes: list[NonEmptyStr] = Field(default_factory=list, description="object name prefixes (none: all)")


class ConfigurationModel(_Model):
    buckets: Annotated[list[BucketSourceModel], Field(min_length=1)]


class ScheduleModel(_Model):
    """Either `cron`, or `frequency` + `interval`."""

    cron: Annotated[str, StringConstraints(pattern=r"^\S+(\s+\S+){4,5}$")] | None = Field(
        None, description="a cron expression of 5 or 6 fields")
    frequency: Literal["HOURLY", "DAILY"] | None = None
    interval: int | None = Field(None, ge=1, description="every N hours or days (with frequency)")
    enabled: bool = True
    start: AwareDatetime | None = Field(None, description="RFC 3339, e.g. 2026-01-31T12:00:00Z (default: now)")
    end: AwareDatetime | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> ScheduleModel:
        if (self.cron is None) == (self.frequency is None):
            raise ValueError("set exactly one of 'cron' or 'frequency' (+ 'interval')")
        if self.cron is not None and self.interval is not None:
            raise ValueError("'interval' goes with 'frequency', not with 'cron'")
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValueError("'end' must be after 'start'")
        return self


class ConnectorSpecModel(_Model):
    vector_store: NonEmptyStr = Field(description="metadata.name of a VectorStore")
    configuration: ConfigurationModel
    schedule: ScheduleModel | None = None
    display_name: Annotated[str, StringConstraints(min_length=1, max_length=255)] | None = Field(
        None, description="default: metadata.name")
    description: Annotated[str, StringConstraints(max_length=400)] | None = None
    compartment: NonEmptyStr | None = Field(None, description="default: ocigen.yaml's compartment")
    vault_secret_id: NonEmptyStr | None = None
    freeform_tags: TagMap = Field(default_factory=dict)
    sync: Literal["on_apply", "manual"] = Field("on_apply", description="on_apply: apply syncs when content changes")
    tolerate_failed_files: int = Field(0, ge=0, description="files that may fail to ingest before apply fails")


@dataclass(frozen=True)
class ConnectorSpec:
    vector_store: Address
    display_name: str
    compartment_id: str
    configuration: dict[str, Any]
    schedule: dict[str, Any] | None = None
    description: str | None = None
    vault_secret_id: str | None = None
    freeform_tags: dict[str, str] = field(default_factory=dict)
    sync: str = "on_apply"
    tolerate_failed_files: int = 0


def _when(value: Any) -> str | None:
    """One text form for a time (manifest datetimes, the SDK's and the service's strings)."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        try:
            value = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return str(value)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _schedule(spec: ScheduleModel | None) -> dict[str, Any] | None:
    if spec is None:
        return None
    out: dict[str, Any] = {"state": "ENABLED" if spec.enabled else "DISABLED"}
    if spec.cron is not None:
        out.update(config_type="CRON", cron_expression=spec.cron)
    else:
        out.update(config_type="INTERVAL", frequency=spec.frequency, interval=spec.interval or 1)
    out.update(time_start=_when(spec.start), time_end=_when(spec.end))
    return out


class ConnectorDocument(DocumentKind):
    kind: ClassVar[str] = "VectorStoreConnector"
    prefix: ClassVar[str] = "vector_store_connector"
    spec_model = ConnectorSpecModel
    produces: ClassVar[tuple[str, ...]] = ("vector_store_connector",)
    rank: ClassVar[int] = 40
    references: ClassVar[tuple[str, ...]] = ("VectorStore", "ObjectStorageObjects")

    def resolve(self, doc: ParsedDoc, r: Resolver) -> None:
        spec = doc.model.spec
        _oci.check_credentials(doc, r)
        store = r.lookup(doc, doc.pos("spec", "vector_store"), spec.vector_store, "VectorStore", "spec.vector_store")
        comp = _oci.compartment(doc, r, spec.compartment)
        if r.owner_tag_key in spec.freeform_tags:
            r.error(doc, doc.key_pos("spec", "freeform_tags", r.owner_tag_key),
                    f"freeform tag {r.owner_tag_key!r} is reserved for ocigen-iac's ownership tag", "rename the tag")
            return
        if store is None or comp is None:
            return
        conf = {"buckets": [{"namespace": b.namespace, "bucket": b.bucket, "prefixes": list(b.prefixes)}
                            for b in spec.configuration.buckets]}
        r.add(doc, Address(self.prefix, doc.name), ConnectorSpec(
            vector_store=store, display_name=spec.display_name or doc.name, compartment_id=comp,
            configuration=conf, schedule=_schedule(spec.schedule), description=spec.description,
            vault_secret_id=spec.vault_secret_id, freeform_tags=dict(spec.freeform_tags), sync=spec.sync,
            tolerate_failed_files=spec.tolerate_failed_files), depends_on=[store])

    def expand(self, res: DesiredResource, x: ExpandContext) -> list[Instance]:
        spec: ConnectorSpec = res.spec
        fed = sorted((i for i in x.instances.values() if i.kind == ObjectType.type
                      and reads(spec.configuration, i.attrs.get("namespace"), i.attrs["bucket"], i.attrs["name"])),
                     key=lambda i: (i.attrs["bucket"], i.attrs["name"]))
        attrs: dict[str, Any] = {
            "display_name": spec.display_name,
            "description": spec.description,
            "compartment_id": spec.compartment_id,
            "vector_store": str(spec.vector_store),
            "configuration": spec.configuration,
            "schedule": spec.schedule,
            "vault_secret_id": spec.vault_secret_id,
            "freeform_tags": dict(spec.freeform_tags),
            "ownership": {"key": x.owner_tag_key, "value": _oci.tag_value(x.owner_tag(res.address))},
            "sync": spec.sync,
            "tolerate_failed_files": spec.tolerate_failed_files,
            "synced_content": content_digest(spec.configuration, [i.attrs for i in fed])
            if spec.sync == "on_apply" else None,
        }
        deps = (spec.vector_store, *(i.address for i in fed))  # uploads first, then the sync
        return [Instance(res.address, ConnectorType.type, attrs, deps=deps, lifecycle=res.lifecycle,
                         location=res.location)]


def reads(configuration: dict[str, Any], ns: str | None, bucket: str, name: str) -> bool:
    """Whether a connector of this configuration reads the object (an unset namespace on either
    side is the tenancy's, so it matches)."""
    for b in configuration.get("buckets") or []:
        if b["bucket"] != bucket or (ns and b.get("namespace") and ns != b["namespace"]):
            continue
        if not b.get("prefixes") or any(name.startswith(p) for p in b["prefixes"]):
            return True
    return False


def content_digest(configuration: dict[str, Any], objects: list[dict[str, Any]]) -> str:
    material = {"configuration": configuration,
                "objects": [[o["bucket"], o["name"], o["sha256"]] for o in objects]}
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


# ------------------------------------------------------------------------------------ live
def _epoch(text: Any) -> float | None:
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _stat(stats: dict[str, Any] | None, key: str) -> int:
    return int(((stats or {}).get(key) or {}).get("total_files_synced") or 0)


def _sync_summary(data: dict[str, Any]) -> dict[str, Any]:
    """What state and plans keep of a file sync."""
    stats = data.get("stats") or {}
    return {"id": data.get("id"), "state": data.get("lifecycle_state"), "trigger": data.get("trigger_type"),
            "started": _when(data.get("time_created")), "ended": _when(data.get("time_ended")),
            "content": (data.get("freeform_tags") or {}).get(CONTENT_TAG),
            "stats": {k: _stat(stats, k) for k in STAT_KEYS}}


def _slim(data: dict[str, Any]) -> dict[str, Any]:
    out = {k: data.get(k) for k in ("id", "display_name", "description", "compartment_id", "vector_store_id",
                                    "lifecycle_state", "lifecycle_details", "vault_secret_id")}
    out["freeform_tags"] = data.get("freeform_tags") or {}
    out["schedule_config"] = _oci.strip_nones(data.get("schedule_config"))
    out["configuration"] = _oci.strip_nones(data.get("configuration"))
    out["created_at"] = _epoch(data.get("time_created"))
    return out


def _live_configuration(live: dict[str, Any], declared: dict[str, Any] | None) -> dict[str, Any]:
    items = (live.get("configuration") or {}).get("storage_config_list") or []
    wanted = (declared or {}).get("buckets") or []
    buckets = []
    for i, sc in enumerate(items):
        ns = sc.get("namespace")
        if i < len(wanted) and wanted[i].get("namespace") is None:
            ns = None  # declared as the tenancy's namespace, which is what was sent
        buckets.append({"namespace": ns, "bucket": sc.get("bucket_name"),
                        "prefixes": list(sc.get("prefix_list") or [])})
    return {"buckets": buckets}


def _live_schedule(live: dict[str, Any], declared: dict[str, Any] | None) -> dict[str, Any] | None:
    sc = live.get("schedule_config")
    if not sc:
        return None
    out: dict[str, Any] = {"state": sc.get("state") or "ENABLED", "config_type": sc.get("config_type")}
    if sc.get("config_type") == "CRON":
        out["cron_expression"] = sc.get("cron_expression")
    else:
        out.update(frequency=sc.get("frequency"), interval=sc.get("interval"))
    # an unset start is "now" on the service: only a declared one is compared
    out["time_start"] = _when(sc.get("time_start")) if (declared or {}).get("time_start") else None
    out["time_end"] = _when(sc.get("time_end"))
    return out


class ConnectorType(TaggedAdoption, ResourceType):
    type: ClassVar[str] = "vector_store_connector"
    collection: ClassVar[str] = "/20231130/vectorStoreConnectors"
    update_fields: ClassVar[frozenset[str]] = CONNECTOR_FIELDS | {"synced_content"}
    # which store it feeds is its identity (follows); how apply treats syncs is not the service's
    informational: ClassVar[frozenset[str]] = frozenset({"vector_store", "sync", "tolerate_failed_files"})
    create_before_destroy: ClassVar[bool] = False  # two connectors must not feed one store
    batch_limit: ClassVar[int] = 1  # create_many: a connector whose first sync failed is still recorded
    shown_on_create: ClassVar[tuple[str, ...]] = ("display_name", "vector_store", "configuration", "schedule",
                                                  "sync", "tolerate_failed_files")
    output_fields: ClassVar[tuple[str, ...]] = ("display_name",)

    def batch_key(self, change: Change) -> Any:
        return str(change.address)

    # --- refresh ------------------------------------------------------------------------------
    async def list_live(self, ctx: RunContext, parent_id: str | None) -> dict[str, dict[str, Any]]:
        import asyncio

        out, wanted = await _oci.list_owned(ctx, self.type, "list_vector_store_connectors", _slim,
                                            max_pages=MAX_PAGES)
        await asyncio.gather(*(self._add_syncs(ctx, c) for c in wanted))
        return out

    async def _add_syncs(self, ctx: RunContext, live: dict[str, Any]) -> dict[str, Any]:
        """The last sync this tool started, the last one it did not (a schedule's, someone's: the
        drift baseline, among the latest OUTSIDE_SYNCS_SEEN), and the connector's failed files."""
        clients = _oci.sdk(ctx)
        live["last_sync"] = live["last_ocigen_sync"] = None
        page = None
        seen = 0
        for _ in range(MAX_PAGES):
            resp = await clients.call("genai", "list_vector_store_connector_file_syncs", live["compartment_id"],
                                      vector_store_connector_id=live["id"], limit=50, page=page)
            for item in _oci.items(resp.data):
                seen += 1
                summary = _sync_summary(item)
                if summary["content"] is not None:
                    live["last_ocigen_sync"] = live["last_ocigen_sync"] or summary
                elif live["last_sync"] is None and seen <= OUTSIDE_SYNCS_SEEN:
                    live["last_sync"] = summary
            page = resp.headers.get("opc-next-page")
            done_outside = live["last_sync"] is not None or seen >= OUTSIDE_SYNCS_SEEN
            if not page or (live["last_ocigen_sync"] is not None and done_outside):
                break
        live["failed_files"] = await self._failed_files(ctx, live["id"])
        return live

    async def _failed_files(self, ctx: RunContext, cid: str) -> list[str]:
        """The files whose latest ingestion failed, of every object the connector holds."""
        clients = _oci.sdk(ctx)
        paths: list[str] = []
        page = None
        for _ in range(MAX_PAGES):
            resp = await clients.call("genai", "list_vector_store_connector_ingestion_logs", cid, status="FAILED",
                                      limit=1000, page=page)
            paths.extend(str(item.get("file_path")) for item in _oci.items(resp.data))
            page = resp.headers.get("opc-next-page")
            if not page:
                break
        return sorted(paths)

    async def _get(self, ctx: RunContext, cid: str, *, syncs: bool = False) -> dict[str, Any] | None:
        from ocigen_iac.api import NotFound

        try:
            resp = await _oci.sdk(ctx).call("genai", "get_vector_store_connector", cid)
        except NotFound:
            return None
        live = _slim(_oci.data(resp.data))
        return await self._add_syncs(ctx, live) if syncs else live

    async def get_live(self, ctx: RunContext, rs: ResourceState) -> dict[str, Any] | None:
        return await self._get(ctx, rs.id, syncs=True)

    def gone_reason(self, live: dict[str, Any]) -> str | None:
        state = live.get("lifecycle_state")
        return str(state).lower() if state in (*_oci.GONE_STATES, "FAILED") else None

    def project_live(self, live: dict[str, Any], rs: ResourceState, inst: Instance | None) -> dict[str, Any]:
        a = (inst or rs).attrs
        own = a.get("ownership") or {}
        key = own.get("key") or DEFAULT_OWNER_KEY
        tags = live.get("freeform_tags") or {}
        managed = set(rs.attrs.get("freeform_tags") or {}) | set(a.get("freeform_tags") or {})
        return {
            "display_name": live.get("display_name"),
            "description": live.get("description") if a.get("description") is not None else None,
            "compartment_id": live.get("compartment_id"),
            "vector_store": rs.attrs.get("vector_store"),
            "configuration": _live_configuration(live, a.get("configuration")),
            "schedule": _live_schedule(live, a.get("schedule")),
            "vault_secret_id": live.get("vault_secret_id") or rs.attrs.get("vault_secret_id"),  # lists omit it
            "freeform_tags": {k: v for k, v in tags.items() if k in managed and k != key},
            "ownership": {"key": key, "value": tags.get(key)},
            "sync": a.get("sync"),
            "tolerate_failed_files": a.get("tolerate_failed_files"),
            "synced_content": self._synced(live, a) if a.get("sync") == "on_apply" else None,
        }

    @staticmethod
    def _synced(live: dict[str, Any], a: dict[str, Any]) -> str:
        """The content the service has in the store, as far as this tool's syncs say."""
        ours = live.get("last_ocigen_sync")
        if ours is None:
            return "never synced by ocigen-iac"
        if ours["state"] != "SUCCEEDED":
            return f"last sync {str(ours['state']).lower()}"
        failed = len(live.get("failed_files") or [])
        if failed > int(a.get("tolerate_failed_files") or 0):
            return f"{failed} file(s) not ingested"
        if str(ours["content"]).endswith(PARTIAL):
            return "partial: removed objects were still in the bucket"
        return str(ours["content"])

    async def health(self, ctx: RunContext, rs: ResourceState, live: dict[str, Any] | None) -> dict[str, Any]:
        """`ocigen-iac status`: the last sync (this tool's or another's) and the files not ingested."""
        from ocigen_iac.resources.base import DEGRADED, HEALTHY, PROGRESSING

        if live is None:
            return {}
        syncs = [x for x in (live.get("last_ocigen_sync"), live.get("last_sync")) if x]
        last = max(syncs, key=lambda x: x.get("started") or "", default=None)
        failed = live.get("failed_files") or []
        tolerated = int(rs.attrs.get("tolerate_failed_files") or 0)
        problems = [f"not ingested: {path}" for path in failed[:SHOWN_FILES]]
        if len(failed) > SHOWN_FILES:
            problems.append(f"... and {len(failed) - SHOWN_FILES} more")
        if last is None:
            summary = "no sync has run yet"
        else:
            counts = ", ".join(f"{last['stats'][k]} {k}" for k in STAT_KEYS)
            summary = (f"last sync {str(last['state']).lower()} ({str(last['trigger']).lower()}, "
                       f"{last.get('ended') or 'running since ' + str(last.get('started'))}): {counts}")
        if live.get("lifecycle_state") in ("CREATING", "UPDATING") or (last and last["state"] not in SYNC_DONE):
            health = PROGRESSING
        elif (last and last["state"] != "SUCCEEDED") or len(failed) > tolerated:
            health = DEGRADED
        else:
            health = HEALTHY
        return {"health": health, "summary": summary, "problems": problems, "last_sync": last,
                "failed_files": len(failed)}

    def snapshot(self, live: dict[str, Any]) -> dict[str, Any]:
        # syncs this tool starts are its own business (synced_content); others are drift to note
        return {"display_name": live.get("display_name"), "schedule": live.get("schedule_config"),
                "configuration": live.get("configuration"), "last_sync": live.get("last_sync")}

    # --- identity -----------------------------------------------------------------------------
    def follows(self, inst: Instance, dep: Address) -> bool:
        return str(dep) == inst.attrs["vector_store"]

    def pointed_ids(self, rs: ResourceState) -> dict[str, str]:
        """Only its store: the objects it reads are deleted without waiting for it."""
        store = rs.attrs.get("vector_store", "")
        return {store: rs.dep_ids[store]} if store in rs.dep_ids else {}

    def can_coexist(self, inst: Instance, rs: ResourceState, new_dependency: bool) -> bool:
        return False

    # --- adoption -----------------------------------------------------------------------------
    def fingerprint(self, ctx: RunContext, change: Change) -> dict[str, Any]:
        return self.tag_fingerprint(ctx, change)

    def adopted_state(self, ctx: RunContext, attrs: dict[str, Any], live: dict[str, Any],
                      parent_id: str | None, dep_ids: dict[str, str]) -> ResourceState:
        store = attrs.get("vector_store", "")
        ids = {store: live["vector_store_id"]} if live.get("vector_store_id") else {}
        return ResourceState(self.type, live["id"], attrs=dict(attrs), live=self.snapshot(live), dep_ids=ids,
                             created_at=live.get("created_at"))

    # --- apply -------------------------------------------------------------------------------
    async def _body(self, ctx: RunContext, a: dict[str, Any], live: dict[str, Any] | None,
                    before: dict[str, Any] | None) -> dict[str, Any]:
        own = a["ownership"]
        tags = _oci.merged_tags(a.get("freeform_tags") or {}, (before or {}).get("freeform_tags") or {},
                                (live or {}).get("freeform_tags"), own["key"], own["value"])
        sources = [{"namespace": await namespace(ctx, b.get("namespace")), "bucketName": b["bucket"],
                    **({"prefixList": b["prefixes"]} if b.get("prefixes") else {})}
                   for b in a["configuration"]["buckets"]]
        body: dict[str, Any] = {
            "displayName": a["display_name"],
            "configuration": {"type": "OBJECT_STORAGE_FILES", "storageConfigList": sources},
            "freeformTags": tags,
        }
        if a.get("description") is not None:
            body["description"] = a["description"]
        if a.get("schedule") is not None:
            body["scheduleConfig"] = _oci.camel({k: v for k, v in a["schedule"].items() if v is not None})
        return body

    async def _wait(self, ctx: RunContext, cid: str, done: tuple[str, ...], first: dict[str, Any] | None = None,
                    *, syncs: bool = False) -> dict[str, Any] | None:
        return await _oci.wait_lifecycle(ctx, f"vector store connector {cid}",
                                         lambda: self._get(ctx, cid, syncs=syncs), done, first=first)

    def _state(self, ctx: RunContext, a: dict[str, Any], live: dict[str, Any], created_at: float | None
               ) -> ResourceState:
        store = a["vector_store"]
        return ResourceState(self.type, live["id"], attrs=dict(a), live=self.snapshot(live),
                             dep_ids={store: ctx.id_of(store)}, created_at=created_at)

    async def create_many(self, ctx: RunContext, changes: list[Change]) -> list[CreateOutcome]:
        out = []
        for change in changes:
            try:
                rs = await self._create(ctx, change)
            except Exception as exc:  # reported per connector
                out.append(CreateOutcome(change, None, str(exc) or exc.__class__.__name__))
                continue
            error = None
            if (change.after or {}).get("sync") == "on_apply":
                try:
                    rs = await self._sync_and_record(ctx, change, rs)
                except SyncFailed as exc:  # the connector exists: recorded, and the apply fails
                    error = str(exc)
            out.append(CreateOutcome(change, rs, error))
        return out

    async def create(self, ctx: RunContext, change: Change) -> ResourceState:
        outcome = (await self.create_many(ctx, [change]))[0]
        if outcome.error or outcome.state is None:
            raise PlanError(outcome.error or "the connector was not created")
        return outcome.state

    async def _create(self, ctx: RunContext, change: Change) -> ResourceState:
        a = change.after or {}
        body = {"compartmentId": a["compartment_id"], "vectorStoreId": ctx.id_of(a["vector_store"]),
                **await self._body(ctx, a, None, None)}
        if a.get("vault_secret_id"):
            body["vaultSecretId"] = a["vault_secret_id"]
        live = await _oci.create_with_retry_token(ctx, self, change, "create_vector_store_connector", body, _slim)
        ready = await self._wait(ctx, live["id"], ("ACTIVE",), syncs=True)
        if ready is None:
            raise PlanError(f"vector store connector {live['id']} disappeared while it was being created")
        ctx.reporter.line(f"{change.address}: Created [id={ready['id']}]")
        return self._state(ctx, a, ready, ready.get("created_at"))

    async def update(self, ctx: RunContext, change: Change, rs: ResourceState) -> ResourceState:
        a = change.after or {}
        changed = {c.path.split(".", 1)[0] for c in change.attr_changes}
        live = await self._wait(ctx, rs.id, ("ACTIVE",))
        if live is None:
            raise PlanError(f"vector store connector {rs.id} no longer exists; run plan again")
        if changed & CONNECTOR_FIELDS:
            resp = await _oci.sdk(ctx).call("genai", "update_vector_store_connector", rs.id,
                                            await self._body(ctx, a, live, change.before))
            await self._wait(ctx, rs.id, ("ACTIVE",), first=_slim(_oci.data(resp.data)))
        live = await self._get(ctx, rs.id, syncs=True)
        if live is None:
            raise PlanError(f"vector store connector {rs.id} disappeared during the update")
        new = self._state(ctx, a, live, rs.created_at)
        if a.get("sync") == "on_apply" and changed & {"synced_content", "configuration"}:
            new = await self._sync_and_record(ctx, change, new)  # SyncFailed: state keeps the old record
        return new

    # --- the sync -----------------------------------------------------------------------------
    async def _sync_and_record(self, ctx: RunContext, change: Change, rs: ResourceState) -> ResourceState:
        """Run one file sync of the declared content; the record's snapshot carries its outcome.
        Raises SyncFailed (after recording it in `rs`) when it failed or too many files failed."""
        a = change.after or {}
        address = str(change.address)
        partial = await self._await_removed(ctx, a)
        content = str(a["synced_content"]) + (PARTIAL if partial else "")
        sync = await self._run_sync(ctx, address, rs.id, content, a)
        live = await self._get(ctx, rs.id, syncs=True) or {}
        rs.live = self.snapshot(live) if live else rs.live
        failed = live.get("failed_files") or []
        stats = sync["stats"]
        counts = ", ".join(f"{stats[k]} {k}" for k in STAT_KEYS)
        if partial:
            ctx.note(f"{address}: {len(partial)} removed object(s) were still in the bucket when sync {sync['id']} "
                     f"started ({', '.join(sorted(partial)[:3])}); the next apply syncs again to remove them from the "
                     "store")
        if sync["state"] != "SUCCEEDED":
            details = f": {sync['details']}" if sync.get("details") else ""
            raise SyncFailed(f"file sync {sync['id']} {str(sync['state']).lower()}{details}")
        tolerated = int(a.get("tolerate_failed_files") or 0)
        shown = ", ".join(failed[:SHOWN_FILES]) + (f" and {len(failed) - SHOWN_FILES} more" if len(failed) > SHOWN_FILES
                                                   else "")
        if len(failed) > tolerated:
            raise SyncFailed(f"file sync {sync['id']}: {counts}; {len(failed)} file(s) of the bucket were not ingested "
                             f"(tolerate_failed_files: {tolerated}): {shown}"
                             + (f". {sync['details']}" if sync.get("details") else ""))
        ctx.note(f"{address}: file sync {sync['id']} succeeded: {counts}"
                 + (f"; not ingested (tolerated): {shown}" if failed else ""))
        return rs

    def _removed(self, ctx: RunContext, a: dict[str, Any]) -> set[str]:
        """Objects of its buckets that state still tracks but the manifests no longer declare."""
        out = set()
        for address, rs in ctx.state.state.resources.items():
            if rs.kind != ObjectType.type or address in ctx.instances:
                continue
            ns, bucket, name = split_id(rs.id)
            if reads(a["configuration"], ns, bucket, name):
                out.add(address)
        return out

    async def _await_removed(self, ctx: RunContext, a: dict[str, Any]) -> set[str]:
        """Wait while this run's deletes of removed objects make progress; what is left."""
        from ocigen_iac.clock import Backoff

        pending = self._removed(ctx, a)
        backoff = Backoff(ctx.clock, first=0.05, cap=0.5, timeout_s=min(ctx.poll_timeout_s, REMOVED_WAIT_S))
        last_progress = ctx.clock.monotonic()
        while pending and not backoff.expired and ctx.clock.monotonic() - last_progress < REMOVED_NO_PROGRESS_S:
            await backoff.wait()
            now = self._removed(ctx, a)
            if now != pending:
                last_progress = ctx.clock.monotonic()
            pending = now
        return pending

    async def _run_sync(self, ctx: RunContext, address: str, cid: str, content: str, a: dict[str, Any]
                        ) -> dict[str, Any]:
        from ocigen_iac.api import ApiError, OutcomeUnknown
        from ocigen_iac.clock import Backoff

        clients = _oci.sdk(ctx)
        own = a["ownership"]
        body = {"vectorStoreConnectorId": cid, "displayName": f"ocigen-iac {address}"[:255],
                "freeformTags": {CONTENT_TAG: content, own["key"]: own["value"]}}
        token = uuid.uuid4().hex
        backoff = Backoff(ctx.clock, first=1.0, cap=10.0, timeout_s=min(ctx.poll_timeout_s, SYNC_WAIT_S))
        started: dict[str, Any] | None = None
        for _ in range(100):  # another sync in flight (a schedule), or a lost response: bounded either way
            try:
                resp = await clients.call("genai", "create_vector_store_connector_file_sync", body,
                                          opc_retry_token=token, create=True)
                started = _oci.data(resp.data)
                break
            except OutcomeUnknown:
                continue  # the same token: the service answers the sync it made, if it made one
            except ApiError as exc:
                if exc.status != 409 or backoff.expired:
                    raise
                await backoff.wait()
        if started is None:
            raise SyncFailed(f"could not start a file sync of {cid}: another sync kept running")
        sid = started["id"]
        ctx.reporter.line(f"{address}: Syncing (file sync {sid})...")
        poll = Backoff(ctx.clock, first=0.1, cap=5.0, timeout_s=min(ctx.poll_timeout_s, SYNC_WAIT_S))
        data = started
        while data.get("lifecycle_state") not in SYNC_DONE:
            stats = data.get("stats") or {}
            total = sum(int((v or {}).get("total_files_synced") or 0) for k, v in stats.items()
                        if isinstance(v, dict) and "total_files_synced" in v)
            ctx.reporter.ingestion(address, total - _stat(stats, "in_progress"), total)
            if poll.expired:
                raise SyncFailed(f"file sync {sid} is still {data.get('lifecycle_state')} after "
                                 f"{min(ctx.poll_timeout_s, SYNC_WAIT_S):.0f} s; it goes on on the service, "
                                 "and the next apply looks at it again")
            await poll.wait()
            data = _oci.data((await clients.call("genai", "get_vector_store_connector_file_sync", sid)).data)
        summary = _sync_summary(data)
        summary["details"] = data.get("lifecycle_details")
        total = sum(summary["stats"].values())
        ctx.reporter.ingestion(address, total, total)
        return summary

    async def delete(self, ctx: RunContext, rs: ResourceState) -> str | None:
        return await _oci.delete_and_wait(ctx, self._wait, rs.id, "delete_vector_store_connector")

    async def import_object(self, ctx: RunContext, inst: Instance, object_id: str,
                            ids: dict[str, str]) -> tuple[ResourceState, str | None]:
        live = await self._get(ctx, object_id, syncs=True)
        if live is None or self.gone_reason(live):
            raise PlanError(f"vector store connector {object_id} does not exist (or is being deleted)")
        store = inst.attrs["vector_store"]
        rs = ResourceState(self.type, object_id, attrs=dict(inst.attrs), live=self.snapshot(live),
                           dep_ids={store: live["vector_store_id"]}, created_at=live.get("created_at"))
        rs.attrs.update(self.project_live(live, rs, inst))
        return rs, None


register(ConnectorDocument(), ConnectorType())
