"""A kind that exists only in tests: `Widget`, kept by an in-memory client.

It proves a new kind is one module: a document model, resolve/expand, and a resource type with
list/create/update/delete. Nothing in engine/ or state/ knows about it. `size` forces a
replacement, `label` updates in place; a widget may name a `base` widget it depends on (so its
identity follows the base's object).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import Field

from ocigen_iac.addresses import Address
from ocigen_iac.manifest.models import NonEmptyStr, _Model
from ocigen_iac.resources import DocumentKind, Instance, ResourceType, registry
from ocigen_iac.state.model import ResourceState


class WidgetSpecModel(_Model):
    size: int = Field(ge=1, le=100)
    label: NonEmptyStr = "plain"
    base: NonEmptyStr | None = Field(None, description="metadata.name of another Widget")


@dataclass(frozen=True)
class WidgetSpec:
    size: int
    label: str
    base: Address | None


class WidgetDocument(DocumentKind):
    kind: ClassVar[str] = "Widget"
    prefix: ClassVar[str] = "widget"
    spec_model = WidgetSpecModel
    produces: ClassVar[tuple[str, ...]] = ("widget",)
    references: ClassVar[tuple[str, ...]] = ("Widget",)

    def resolve(self, doc: Any, r: Any) -> None:
        spec = doc.model.spec
        base = None
        if spec.base is not None:
            base = r.lookup(doc, doc.pos("spec", "base"), spec.base, "Widget", "spec.base")
            if base is None:
                return
        r.add(doc, Address(self.prefix, doc.name), WidgetSpec(spec.size, spec.label, base),
              depends_on=[base] if base else [])

    def expand(self, res: Any, x: Any) -> list[Instance]:
        spec: WidgetSpec = res.spec
        attrs = {"size": spec.size, "label": spec.label, "base": str(spec.base) if spec.base else None}
        return [Instance(res.address, "widget", attrs, deps=(spec.base,) if spec.base else (),
                         lifecycle=res.lifecycle, location=res.location)]


class WidgetType(ResourceType):
    type: ClassVar[str] = "widget"
    collection: ClassVar[str] = "/widgets"
    update_fields: ClassVar[frozenset[str]] = frozenset({"label"})
    informational: ClassVar[frozenset[str]] = frozenset({"base"})
    shown_on_create: ClassVar[tuple[str, ...]] = ("size", "label")

    async def list_live(self, ctx: Any, parent_id: str | None) -> dict[str, dict[str, Any]]:
        return {k: dict(v) for k, v in ctx.api().widgets.items()}

    def project_live(self, live: dict[str, Any], rs: ResourceState, inst: Instance | None) -> dict[str, Any]:
        return {"size": live["size"], "label": live["label"], "base": rs.attrs.get("base")}

    def follows(self, inst: Instance, dep: Address) -> bool:
        return True

    async def create(self, ctx: Any, change: Any) -> ResourceState:
        a = change.after
        base_id = ctx.id_of(a["base"]) if a["base"] else None
        live = ctx.api().create(size=a["size"], label=a["label"], base=base_id)
        return ResourceState(self.type, live["id"], attrs=dict(a))

    async def update(self, ctx: Any, change: Any, rs: ResourceState) -> ResourceState:
        ctx.api().widgets[rs.id]["label"] = change.after["label"]
        ctx.api().calls.append(("update", rs.id))
        return ResourceState(self.type, rs.id, attrs=dict(change.after), dep_ids=dict(rs.dep_ids))

    async def delete(self, ctx: Any, rs: ResourceState) -> str | None:
        client = ctx.api()
        if rs.id not in client.widgets:
            return "already gone"
        if any(w.get("base") == rs.id for w in client.widgets.values()):
            raise RuntimeError(f"{rs.id} is still used by another widget")  # what a real service would say
        del client.widgets[rs.id]
        client.calls.append(("delete", rs.id))
        return None


class InMemoryWidgets:
    """The 'service' behind the Widget kind."""

    def __init__(self) -> None:
        self.widgets: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, str]] = []
        self._ids = itertools.count(1)
        self.fail_creates: set[str] = set()  # labels whose create fails

    def create(self, **fields: Any) -> dict[str, Any]:
        if fields["label"] in self.fail_creates:
            raise RuntimeError(f"the service refused to create a widget labelled {fields['label']!r}")
        wid = f"w-{next(self._ids)}"
        self.widgets[wid] = {"id": wid, **fields}
        self.calls.append(("create", wid))
        return self.widgets[wid]


def register() -> None:
    registry.register(WidgetDocument(), WidgetType())


def unregister() -> None:
    registry.unregister("Widget", "widget")
