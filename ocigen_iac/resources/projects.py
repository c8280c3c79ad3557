"""Project: the OCI Generative AI project (control plane, `/20231130/generativeAiProjects`).

Manifest: `kind: Project` with `display_name` (default: metadata.name), `description`,
`compartment` (default: ocigen.yaml's), `conversation_config` (retention of responses and
conversations in hours), `long_term_memory_config` and `short_term_memory_optimization_config`
(as the API takes them, snake_case keys) and `freeform_tags`. Address `genai_project.NAME`
(`project` is the scope's name in the engine, so the address prefix says what it is instead).

Scope: a managed project supplies the OpenAI-Project header of every data-plane call
(`provides_scope`): one apply against an empty compartment creates the project first, then the
Files, vector stores and containers in it (their creates wait for it); refresh treats those as not
existing while the project is declared but not created; destroy removes the project last. One
Project document at most, and not together with `project:` in ocigen.yaml.

Updates: every field updates in place (`PUT`); a new compartment moves the project
(`changeCompartment`). Freeform tags are one map the API replaces: tags the tool never managed
are sent back as they are.

Lost creates: the create carries an `opc-retry-token` made for this create, so a create whose
response is lost (a 5xx after the request was stored, a reset) is sent again with the same token
and the service answers the project it already made, instead of a second one: better than
adopting, because nothing has to be matched. A crash between the request and the state write
leaves an intent in state; the next refresh finds the project by its ownership freeform tag
(`<owner_tag_key>: owner:env:address`) and proposes adopting it (`leaked_candidates`); a
project that carries this project's tag but is not tracked (state lost) is proposed too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

from pydantic import Field, StringConstraints

from ocigen_iac.addresses import Address
from ocigen_iac.manifest.desired import DesiredResource
from ocigen_iac.manifest.models import NonEmptyStr, _Model
from ocigen_iac.resources import _oci
from ocigen_iac.resources.base import DocumentKind, Instance, ResourceType
from ocigen_iac.resources.ownership import DEFAULT_OWNER_KEY, TaggedAdoption
from ocigen_iac.resources.registry import register
from ocigen_iac.settings import PROJECT_SCOPE
from ocigen_iac.state.model import ResourceState

if TYPE_CHECKING:
    from ocigen_iac.engine.context import ExpandContext, RunContext
    from ocigen_iac.engine.plan import Change
    from ocigen_iac.manifest.parse import ParsedDoc
    from ocigen_iac.manifest.resolve import Resolver

CONFIGS = ("conversation_config", "long_term_memory_config", "short_term_memory_optimization_config")
PAGE = 1000
MAX_PAGES = 100


# ------------------------------------------------------------------------------------ manifest
class ConversationConfigModel(_Model):
    responses_retention_in_hours: int | None = Field(None, ge=1, description="how long responses are kept")
    conversations_retention_in_hours: int | None = Field(None, ge=1, description="how long conversations are kept")


TagMap = Annotated[dict[Annotated[str, StringConstraints(min_length=1, max_length=100)],
                        Annotated[str, StringConstraints(max_length=256)]], Field(max_length=64)]


class ProjectSpecModel(_Model):
    display_name: Annotated[str, StringConstraints(min_length=1, max_length=255)] | None = Field(
        None, description="default: metadata.name")
    description: Annotated[str, StringConstraints(max_length=400)] | None = None
    compartment: NonEmptyStr | None = Field(None, description="compartment OCID (default: ocigen.yaml's compartment)")
    conversation_config: ConversationConfigModel | None = None
    long_term_memory_config: dict[str, Any] | None = Field(
        None, description="as the API takes it, e.g. {standard_long_term_memory_strategy: {is_enabled: true}}")
    short_term_memory_optimization_config: dict[str, Any] | None = Field(
        None, description="as the API takes it, e.g. {is_enabled: true}")
    freeform_tags: TagMap = Field(default_factory=dict)


@dataclass(frozen=True)
class ProjectSpec:
    display_name: str
    compartment_id: str
    description: str | None = None
    configs: dict[str, Any] = field(default_factory=dict)  # config name -> snake_case dict
    freeform_tags: dict[str, str] = field(default_factory=dict)


class ProjectDocument(DocumentKind):
    kind: ClassVar[str] = "Project"
    prefix: ClassVar[str] = "genai_project"
    spec_model = ProjectSpecModel
    produces: ClassVar[tuple[str, ...]] = ("genai_project",)
    rank: ClassVar[int] = -10  # listed first: everything else lives in it

    def resolve(self, doc: ParsedDoc, r: Resolver) -> None:
        spec = doc.model.spec
        _oci.check_credentials(doc, r)
        others = r.scratch.setdefault("projects", [])
        if others:
            first = others[0]
            r.error(doc, doc.pos("metadata", "name"),
                    f"only one Project can be declared (the OpenAI-Project header of every call comes from it); "
                    f"{first.name!r} is declared at {first.file}:{first.start[0]}", "remove one of them")
            return
        others.append(doc)
        if r.settings is not None and r.settings.project:
            r.error(doc, doc.start, f"Project {doc.name!r} is declared, but ocigen.yaml (or OCIGEN_PROJECT) also sets "
                                    f"project: {r.settings.project}",
                    "remove `project:` from ocigen.yaml to manage the project here, or remove this document")
            return
        comp = _oci.compartment(doc, r, spec.compartment)
        if r.owner_tag_key in spec.freeform_tags:
            r.error(doc, doc.key_pos("spec", "freeform_tags", r.owner_tag_key),
                    f"freeform tag {r.owner_tag_key!r} is reserved for ocigen-iac's ownership tag", "rename the tag")
            return
        if comp is None:
            return
        configs = {k: v for k in CONFIGS if (v := _dump(getattr(spec, k))) is not None}
        r.add(doc, Address(self.prefix, doc.name), ProjectSpec(
            display_name=spec.display_name or doc.name, compartment_id=comp, description=spec.description,
            configs=configs, freeform_tags=dict(spec.freeform_tags)))

    def expand(self, res: DesiredResource, x: ExpandContext) -> list[Instance]:
        spec: ProjectSpec = res.spec
        attrs: dict[str, Any] = {
            "display_name": spec.display_name,
            "description": spec.description,
            "compartment_id": spec.compartment_id,
            **{k: spec.configs.get(k) for k in CONFIGS},
            "freeform_tags": dict(spec.freeform_tags),
            "ownership": {"key": x.owner_tag_key, "value": _oci.tag_value(x.owner_tag(res.address))},
        }
        return [Instance(res.address, ProjectType.type, attrs, lifecycle=res.lifecycle, location=res.location)]


def _dump(value: Any) -> Any:
    if value is None:
        return None
    if hasattr(value, "model_dump"):
        value = value.model_dump(exclude_none=True)
    return value or None


# ------------------------------------------------------------------------------------ live
def _epoch(text: Any) -> float | None:
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _slim(data: dict[str, Any]) -> dict[str, Any]:
    out = {k: data.get(k) for k in ("id", "display_name", "description", "compartment_id", "lifecycle_state",
                                    "lifecycle_details", "freeform_tags", *CONFIGS)}
    out["freeform_tags"] = out["freeform_tags"] or {}
    out["created_at"] = _epoch(data.get("time_created"))
    for k in CONFIGS:
        out[k] = _oci.strip_nones(out[k]) or None
    out["summary"] = data.get("conversation_config", "absent") == "absent"
    return out


class ProjectType(TaggedAdoption, ResourceType):
    type: ClassVar[str] = "genai_project"
    collection: ClassVar[str] = "/20231130/generativeAiProjects"
    provides_scope: ClassVar[frozenset[str]] = frozenset({PROJECT_SCOPE})
    update_fields: ClassVar[frozenset[str]] = frozenset({"display_name", "description", "compartment_id", *CONFIGS,
                                                         "freeform_tags", "ownership"})
    shown_on_create: ClassVar[tuple[str, ...]] = ("display_name", "description", "compartment_id", *CONFIGS,
                                                  "freeform_tags")
    output_fields: ClassVar[tuple[str, ...]] = ("display_name", "compartment_id")

    def scope(self, rs: ResourceState) -> dict[str, str]:
        return {PROJECT_SCOPE: rs.id}

    # --- refresh ------------------------------------------------------------------------------
    async def list_live(self, ctx: RunContext, parent_id: str | None) -> dict[str, dict[str, Any]]:
        import asyncio

        out, wanted = await _oci.list_owned(ctx, self.type, "list_generative_ai_projects", _slim,
                                            page_size=PAGE, max_pages=MAX_PAGES)
        full = await asyncio.gather(*(self._get(ctx, p["id"]) for p in wanted))  # lists omit the configs
        for item in full:
            if item is not None:
                out[item["id"]] = item
        return out

    async def _get(self, ctx: RunContext, pid: str) -> dict[str, Any] | None:
        from ocigen_iac.api import NotFound

        try:
            resp = await _oci.sdk(ctx).call("genai", "get_generative_ai_project", pid)
        except NotFound:
            return None
        return _slim(_oci.data(resp.data))

    async def get_live(self, ctx: RunContext, rs: ResourceState) -> dict[str, Any] | None:
        return await self._get(ctx, rs.id)

    def gone_reason(self, live: dict[str, Any]) -> str | None:
        state = live.get("lifecycle_state")
        return str(state).lower() if state in (*_oci.GONE_STATES, "FAILED") else None

    def _managed_tags(self, rs: ResourceState | None, inst: Instance | None) -> set[str]:
        keys: set[str] = set()
        for attrs in ((rs.attrs if rs else {}), (inst.attrs if inst else {})):
            keys |= set(attrs.get("freeform_tags") or {})
        return keys

    def project_live(self, live: dict[str, Any], rs: ResourceState, inst: Instance | None) -> dict[str, Any]:
        own = (inst.attrs if inst else rs.attrs).get("ownership") or {}
        key = own.get("key") or DEFAULT_OWNER_KEY
        tags = live.get("freeform_tags") or {}
        managed = self._managed_tags(rs, inst)
        out = {
            "display_name": live.get("display_name"),
            # an undeclared description is not managed (the API cannot clear it)
            "description": live.get("description") if (inst or rs).attrs.get("description") is not None else None,
            "compartment_id": live.get("compartment_id"),
            "freeform_tags": {k: v for k, v in tags.items() if k in managed and k != key},
            "ownership": {"key": key, "value": tags.get(key)},
        }
        for k in CONFIGS:
            out[k] = rs.attrs.get(k) if live.get("summary") else _declared_part(live.get(k), (inst or rs).attrs.get(k))
        return out

    async def health(self, ctx: RunContext, rs: ResourceState, live: dict[str, Any] | None) -> dict[str, Any]:
        from ocigen_iac.resources.base import HEALTHY, PROGRESSING

        if live is None or self.gone_reason(live):
            return {}
        state = live.get("lifecycle_state")
        return {"health": HEALTHY if state == "ACTIVE" else PROGRESSING,
                "summary": f"{state} in {live.get('compartment_id')}"}

    def snapshot(self, live: dict[str, Any]) -> dict[str, Any]:
        return {"display_name": live.get("display_name"), "compartment_id": live.get("compartment_id"),
                "freeform_tags": live.get("freeform_tags") or {}}

    # --- adoption -----------------------------------------------------------------------------
    def fingerprint(self, ctx: RunContext, change: Change) -> dict[str, Any]:
        return {**self.tag_fingerprint(ctx, change), "compartment_id": (change.after or {}).get("compartment_id")}

    def adopted_state(self, ctx: RunContext, attrs: dict[str, Any], live: dict[str, Any],
                      parent_id: str | None, dep_ids: dict[str, str]) -> ResourceState:
        return ResourceState(self.type, live["id"], attrs=dict(attrs), live=self.snapshot(live),
                             created_at=live.get("created_at"))

    # --- apply -------------------------------------------------------------------------------
    def _body(self, a: dict[str, Any], live: dict[str, Any] | None, before: dict[str, Any] | None) -> dict[str, Any]:
        own = a["ownership"]
        tags = _oci.merged_tags(a.get("freeform_tags") or {}, (before or {}).get("freeform_tags") or {},
                                (live or {}).get("freeform_tags"), own["key"], own["value"])
        body: dict[str, Any] = {"displayName": a["display_name"], "freeformTags": tags}
        if a.get("description") is not None:
            body["description"] = a["description"]
        for k in CONFIGS:
            if a.get(k) is not None:
                body[_oci.camel_key(k)] = _oci.camel(a[k])
        return body

    async def _wait(self, ctx: RunContext, pid: str, done: tuple[str, ...], first: dict[str, Any] | None = None
                    ) -> dict[str, Any] | None:
        return await _oci.wait_lifecycle(ctx, f"project {pid}", lambda: self._get(ctx, pid), done, first=first)

    async def create(self, ctx: RunContext, change: Change) -> ResourceState:
        a = change.after or {}
        body = {"compartmentId": a["compartment_id"], **self._body(a, None, None)}
        live = await _oci.create_with_retry_token(ctx, self, change, "create_generative_ai_project", body, _slim)
        ready = await self._wait(ctx, live["id"], ("ACTIVE",))
        if ready is None:
            from ocigen_iac.errors import PlanError

            raise PlanError(f"project {live['id']} disappeared while it was being created")
        return ResourceState(self.type, ready["id"], attrs=dict(a), live=self.snapshot(ready),
                             created_at=ready.get("created_at"))

    async def update(self, ctx: RunContext, change: Change, rs: ResourceState) -> ResourceState:
        from ocigen_iac.errors import PlanError

        a = change.after or {}
        clients = _oci.sdk(ctx)
        live = await self._wait(ctx, rs.id, ("ACTIVE",))
        if live is None:
            raise PlanError(f"project {rs.id} no longer exists; run plan again")
        if live.get("compartment_id") != a["compartment_id"]:
            await clients.call("genai", "change_generative_ai_project_compartment", rs.id,
                               {"compartmentId": a["compartment_id"]})
            live = await self._wait(ctx, rs.id, ("ACTIVE",))
        body = self._body(a, live, change.before)
        resp = await clients.call("genai", "update_generative_ai_project", rs.id, body)
        done = await self._wait(ctx, rs.id, ("ACTIVE",), first=_slim(_oci.data(resp.data)))
        return ResourceState(self.type, rs.id, attrs=dict(a), live=self.snapshot(done or live or {}),
                             created_at=rs.created_at)

    async def delete(self, ctx: RunContext, rs: ResourceState) -> str | None:
        return await _oci.delete_and_wait(ctx, self._wait, rs.id, "delete_generative_ai_project")

    async def import_object(self, ctx: RunContext, inst: Instance, object_id: str,
                            ids: dict[str, str]) -> tuple[ResourceState, str | None]:
        from ocigen_iac.errors import PlanError

        live = await self._get(ctx, object_id)
        if live is None or self.gone_reason(live):
            raise PlanError(f"project {object_id} does not exist (or is being deleted)")
        rs = ResourceState(self.type, object_id, attrs=dict(inst.attrs), live=self.snapshot(live),
                           created_at=live.get("created_at"))
        rs.attrs.update(self.project_live(live, rs, inst))
        return rs, None

    def outputs(self, rs: ResourceState) -> dict[str, Any]:
        return {"display_name": rs.attrs.get("display_name"), "compartment_id": rs.attrs.get("compartment_id")}


def _declared_part(live: Any, declared: Any) -> Any:
    """The live config reduced to the keys the manifest declares (the service fills in defaults
    for the others); the whole live value when nothing is declared."""
    if not isinstance(live, dict) or not isinstance(declared, dict):
        return live if declared is not None else None
    return {k: _declared_part(live.get(k), v) for k, v in declared.items() if k in live} or None


register(ProjectDocument(), ProjectType())
