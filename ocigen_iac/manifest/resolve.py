"""Validated documents -> DesiredSet: names, references, moves and cross-document rules.

The generic part of resolution: duplicate names per kind, `lifecycle` field names, `moved:`
entries, and the helpers every kind's `resolve` uses (`lookup` of a reference with "did you
mean", `add` of a desired resource, `error`). What a reference means and which local files a
document reads is the kind's business (`DocumentKind.resolve` in its module); kinds are resolved
in reference order (a kind after the kinds it references), so a reference to a glob File can
expand to its members (`expansion`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ocigen_iac.addresses import Address, AddressError
from ocigen_iac.errors import Diagnostic
from ocigen_iac.manifest.desired import DesiredResource, DesiredSet, Lifecycle, Location, Move
from ocigen_iac.manifest.interpolate import did_you_mean
from ocigen_iac.manifest.models import spec_fields
from ocigen_iac.manifest.parse import NameOnly, ParsedDoc
from ocigen_iac.manifest.paths import Confinement
from ocigen_iac.settings import Settings


def dump(model: Any) -> dict[str, Any] | None:
    return None if model is None else model.model_dump(mode="json")


class Resolver:
    def __init__(self, docs: list[ParsedDoc], broken: list[NameOnly], conf: Confinement, owner_tag_key: str,
                 settings: Settings | None = None):
        from ocigen_iac.resources import registry

        self.registry = registry
        self.docs = docs
        self.broken = broken
        self.conf = conf
        self.owner_tag_key = owner_tag_key
        self.settings = settings  # for kinds whose documents depend on ocigen.yaml (compartment, auth)
        self.problems: list[Diagnostic] = []
        self.by_kind: dict[str, dict[str, ParsedDoc]] = {k: {} for k in registry.document_kind_names()}
        self.broken_names: set[tuple[str, str]] = {(b.kind, b.name) for b in broken}
        self._expansions: dict[tuple[str, str], list[Address]] = {}
        self.resources: dict[Address, DesiredResource] = {}
        self.moves: list[Move] = []
        self._move_docs: list[tuple[Move, ParsedDoc]] = []
        self.scratch: dict[str, Any] = {}  # per-kind data shared between resolve() and finish()
        self._locations: dict[Location, Location] = {}

    # ------------------------------------------------------------------------------ helpers
    def error(self, doc: ParsedDoc, pos: tuple[int, int], message: str, hint: str = "") -> None:
        if tuple(pos) in doc.suppressed:  # that field of a partial document has its own error
            return
        self.problems.append(Diagnostic(doc.file, pos[0], pos[1], message, hint))

    def location(self, doc: ParsedDoc) -> Location:
        where = Location(doc.file, doc.start[0], doc.start[1])
        return self._locations.setdefault(where, where)  # one per document, not per glob member

    def article(self, kind: str) -> str:
        k = self.registry.document_kind(kind)
        return k.article if k else f"a {kind}"

    def lifecycle(self, doc: ParsedDoc) -> Lifecycle:
        lc = doc.model.lifecycle
        if lc is None:
            return Lifecycle()
        if lc.ignore_changes == "all":
            return Lifecycle(lc.prevent_destroy, ("all",))
        kind = self.registry.document_kind(doc.kind)
        allowed = spec_fields(kind.spec_model) if kind else ()
        for i, field in enumerate(lc.ignore_changes):
            if field not in allowed:
                hint = did_you_mean(field, allowed)
                self.error(
                    doc,
                    doc.pos("lifecycle", "ignore_changes", i),
                    f"lifecycle.ignore_changes names {field!r}, which is not a {doc.kind} spec field",
                    (hint + " " if hint else "") + f'fields: {", ".join(allowed)} (or "all")',
                )
        return Lifecycle(lc.prevent_destroy, tuple(lc.ignore_changes))

    def address_of(self, kind: str, name: str) -> Address:
        doc_kind = self.registry.document_kind(kind)
        assert doc_kind is not None
        return Address(doc_kind.prefix, name)

    def set_expansion(self, kind: str, name: str, addresses: list[Address]) -> None:
        """What a reference to (kind, name) stands for (a glob File: its members)."""
        self._expansions[(kind, name)] = addresses

    def expansion(self, kind: str, name: str) -> list[Address]:
        return self._expansions.get((kind, name), [self.address_of(kind, name)])

    def lookup(self, doc: ParsedDoc, pos: tuple[int, int], name: str, want: str, field: str) -> Address | None:
        """The address of the `want` document named `name`, or None (with a diagnostic unless
        that document already has errors of its own)."""
        if name in self.by_kind.get(want, {}):
            return self.address_of(want, name)
        if (want, name) in self.broken_names:
            return None  # that document has its own errors already
        others = [k for k, table in self.by_kind.items() if name in table and k != want]
        if others:
            self.error(
                doc,
                pos,
                f"{field} refers to {name!r}, which is {self.article(others[0])}, but {self.article(want)} "
                f"is expected here",
                f"name a {want} here (known: {', '.join(sorted(self.by_kind.get(want, {}))) or 'none'})",
            )
            return None
        known = sorted(set(self.by_kind.get(want, {})) | {n for k, n in self.broken_names if k == want})
        hint = did_you_mean(name, known)
        self.error(
            doc,
            pos,
            f"{field} refers to {want} {name!r}, which is not defined in the manifests",
            (hint + " " if hint else "")
            + (f"known {want}s: {', '.join(known)}" if known else f"define a {want} named {name!r}"),
        )
        return None

    def add(self, doc: ParsedDoc, address: Address, spec: Any, lifecycle: Lifecycle | None = None,
            depends_on: Iterable[Address] = ()) -> None:
        self.resources[address] = DesiredResource(
            address=address,
            kind=doc.kind,
            name=doc.name,
            spec=spec,
            lifecycle=lifecycle if lifecycle is not None else self.lifecycle(doc),
            location=self.location(doc),
            depends_on=tuple(dict.fromkeys(depends_on)),
        )

    # ------------------------------------------------------------------------------- passes
    def register(self) -> None:
        for doc in self.docs:
            table = self.by_kind.setdefault(doc.kind, {})
            if doc.name in table:
                first = table[doc.name]
                self.error(
                    doc,
                    doc.pos("metadata", "name"),
                    f"duplicate {doc.kind} name {doc.name!r} (already defined at {first.file}:{first.start[0]})",
                    f"{doc.kind} names must be unique: rename one of them",
                )
                continue
            table[doc.name] = doc

    def collect_moves(self, doc: ParsedDoc) -> None:
        for i, entry in enumerate(doc.model.moved or []):
            own = self.address_of(doc.kind, doc.name)
            try:
                source = Address.parse(entry.from_)
                target = Address.parse(entry.to) if entry.to else own
            except AddressError as exc:
                self.error(doc, doc.pos("moved", i), str(exc), "write the address as `ocigen-iac state list` shows it")
                continue
            if source == target:
                self.error(doc, doc.pos("moved", i), f"moved entry {i} moves {source} to itself",
                           "remove the entry, or fix its `from`")
                continue
            move = Move(source, target, self.location(doc))
            self.moves.append(move)
            self._move_docs.append((move, doc))

    def check_moves(self) -> None:
        desired = set(self.resources)
        for move, doc in self._move_docs:
            if any(a.within(move.source) for a in desired):
                self.error(doc, doc.pos("moved"), f"moved: {move.source} is still declared in the manifests",
                           "a moved entry names an address that no longer exists; remove the old document or "
                           "the entry")
            elif not any(a.within(move.target) for a in desired):
                self.error(doc, doc.pos("moved"), f"moved: the target {move.target} is not declared in the manifests",
                           "point `to` at an address of this document (or leave it out)")

    def run(self) -> DesiredSet:
        self.register()
        registered = [d for d in self.docs if self.by_kind.get(d.kind, {}).get(d.name) is d]
        for kind in self.registry.document_kinds():
            for doc in registered:
                if doc.kind == kind.kind:
                    kind.resolve(doc, self)
                    self.collect_moves(doc)
        for kind in self.registry.document_kinds():
            kind.finish(self)
        self.check_moves()
        # document order, members in glob order
        order = {(d.kind, d.name): i for i, d in enumerate(self.docs)}
        ordered = sorted(self.resources.values(), key=lambda r: order.get((r.kind, r.name), 0))
        return DesiredSet(resources={r.address: r for r in ordered}, moves=list(self.moves))


def resolve(
    docs: list[ParsedDoc], broken: list[NameOnly], conf: Confinement, owner_tag_key: str,
    settings: Settings | None = None,
) -> tuple[DesiredSet, list[Diagnostic]]:
    r = Resolver(docs, broken, conf, owner_tag_key, settings)
    desired = r.run()
    return desired, r.problems
