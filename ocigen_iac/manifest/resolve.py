"""Validated documents -> DesiredSet: names, references, local files and cross-document rules.

Owns everything that needs more than one document or the disk:
* duplicate names per kind;
* File expansion (`path` -> one resource, `glob` -> one resource per match) with confinement and
  purpose/file-type checks;
* references (`files:` entries, `vector_store:`, container `file:`): unknown names (with "did
  you mean"), wrong kinds; a glob File reference means all of its members;
* a vector store attaching the same File twice (directly, via batches, or both);
* batch-level attributes/chunking folded into each Attachment (per-file values win);
* vector-store names (after interpolation), the 16-key metadata limit including the ownership
  tag, lifecycle.ignore_changes field names.
Cycles cannot occur: references only point from VectorStore/VectorStoreFileBatch/Container to
File and from VectorStoreFileBatch to VectorStore, and nothing points back.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from ocigen_iac.errors import Diagnostic
from ocigen_iac.manifest.desired import (
    KIND_PREFIX,
    Attachment,
    ContainerFileSpec,
    ContainerSpec,
    DesiredResource,
    DesiredSet,
    FileBatchSpec,
    FileSpec,
    Lifecycle,
    Location,
    VectorStoreSpec,
)
from ocigen_iac.manifest.interpolate import did_you_mean
from ocigen_iac.manifest.models import (
    MAX_MAP_KEYS,
    PURPOSE_EXTENSIONS,
    SPEC_FIELDS,
    VECTOR_STORE_NAME_RE,
)
from ocigen_iac.manifest.parse import NameOnly, ParsedDoc
from ocigen_iac.manifest.paths import Confinement, PathProblem, expand_glob

KIND_ARTICLE = {
    "File": "a File",
    "VectorStore": "a VectorStore",
    "VectorStoreFileBatch": "a VectorStoreFileBatch",
    "Container": "a Container",
}


def member_address(name: str, key: str) -> str:
    return f"file.{name}[{json.dumps(key, ensure_ascii=False)}]"


def _dump(model: Any) -> dict[str, Any] | None:
    return None if model is None else model.model_dump(mode="json")


class Resolver:
    def __init__(self, docs: list[ParsedDoc], broken: list[NameOnly], conf: Confinement, owner_tag_key: str):
        self.docs = docs
        self.broken = broken
        self.conf = conf
        self.owner_tag_key = owner_tag_key
        self.problems: list[Diagnostic] = []
        self.by_kind: dict[str, dict[str, ParsedDoc]] = {k: {} for k in KIND_PREFIX}
        self.broken_names: set[tuple[str, str]] = {(b.kind, b.name) for b in broken}
        self.file_members: dict[str, list[str]] = {}  # File name -> addresses (empty if failed)
        self.resources: dict[str, DesiredResource] = {}

    # ------------------------------------------------------------------------------ helpers
    def error(self, doc: ParsedDoc, pos: tuple[int, int], message: str, hint: str = "") -> None:
        self.problems.append(Diagnostic(doc.file, pos[0], pos[1], message, hint))

    def location(self, doc: ParsedDoc) -> Location:
        return Location(doc.file, doc.start[0], doc.start[1])

    def lifecycle(self, doc: ParsedDoc) -> Lifecycle:
        lc = doc.model.lifecycle
        if lc is None:
            return Lifecycle()
        if lc.ignore_changes == "all":
            return Lifecycle(lc.prevent_destroy, ("all",))
        allowed = SPEC_FIELDS[doc.kind]
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

    def lookup(self, doc: ParsedDoc, pos: tuple[int, int], name: str, want: str, field: str) -> str | None:
        """The address of `want` named `name`, or None (with a diagnostic unless cascading)."""
        if name in self.by_kind[want]:
            return f"{KIND_PREFIX[want]}.{name}"
        if (want, name) in self.broken_names:
            return None  # that document has its own errors already
        others = [k for k, table in self.by_kind.items() if name in table and k != want]
        if others:
            self.error(
                doc,
                pos,
                f"{field} refers to {name!r}, which is {KIND_ARTICLE[others[0]]}, but {KIND_ARTICLE[want]} "
                f"is expected here",
                f"name a {want} here (known: {', '.join(sorted(self.by_kind[want])) or 'none'})",
            )
            return None
        known = sorted(set(self.by_kind[want]) | {n for k, n in self.broken_names if k == want})
        hint = did_you_mean(name, known)
        self.error(
            doc,
            pos,
            f"{field} refers to {want} {name!r}, which is not defined in the manifests",
            (hint + " " if hint else "")
            + (f"known {want}s: {', '.join(known)}" if known else f"define a {want} named {name!r}"),
        )
        return None

    # ------------------------------------------------------------------------------- passes
    def register(self) -> None:
        for doc in self.docs:
            table = self.by_kind[doc.kind]
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

    def files(self, doc: ParsedDoc) -> None:
        spec = doc.model.spec
        lifecycle = self.lifecycle(doc)
        members: list[str] = []
        self.file_members[doc.name] = members
        exp = _dump(spec.expires_after)
        if spec.path is not None:
            try:
                path = self.conf.resolve_file(doc.manifest_dir, spec.path)
            except PathProblem as p:
                self.error(doc, doc.pos("spec", "path"), p.message, p.hint)
                return
            filename = spec.filename or path.name
            if not self.purpose_ok(doc, filename, ("spec", "path")):
                return
            address = f"file.{doc.name}"
            self.add(doc, address, FileSpec(path, self.conf.display(path), filename, spec.purpose, exp), lifecycle)
            members.append(address)
            return
        try:
            found = expand_glob(self.conf, doc.manifest_dir, spec.glob, list(spec.exclude))
        except PathProblem as p:
            self.error(doc, doc.pos("spec", "glob"), p.message, p.hint)
            return
        bad = [m.key for m in found if not self._ext_ok(spec.purpose, m.key)]
        if bad:
            self.purpose_ok(doc, bad[0], ("spec", "glob"), count=len(bad))
            return
        for m in found:
            address = member_address(doc.name, m.key)
            self.add(
                doc,
                address,
                FileSpec(m.path, self.conf.display(m.path), m.key, spec.purpose, exp),
                lifecycle,
            )
            members.append(address)

    @staticmethod
    def _ext_ok(purpose: str, filename: str) -> bool:
        allowed = PURPOSE_EXTENSIONS.get(purpose)
        return allowed is None or filename.lower().endswith(allowed)

    def purpose_ok(self, doc: ParsedDoc, filename: str, loc: tuple[str, ...], count: int = 1) -> bool:
        purpose = doc.model.spec.purpose
        if self._ext_ok(purpose, filename):
            return True
        allowed = PURPOSE_EXTENSIONS[purpose] or ()
        more = f" (and {count - 1} more)" if count > 1 else ""
        pos = doc.pos("spec", "purpose") if "purpose" in doc.tree.get("spec", {}) else doc.pos(*loc)
        self.error(
            doc,
            pos,
            f"purpose {purpose!r} accepts only {' '.join(allowed)} files, but {filename!r}{more} is not one",
            "use purpose: assistants (or user_data) for documents, or point at files of the accepted type",
        )
        return False

    def add(
        self, doc: ParsedDoc, address: str, spec: Any, lifecycle: Lifecycle, depends_on: Iterable[str] = ()
    ) -> None:
        self.resources[address] = DesiredResource(
            address=address,
            kind=doc.kind,
            name=doc.name,
            spec=spec,
            lifecycle=lifecycle,
            location=self.location(doc),
            depends_on=tuple(dict.fromkeys(depends_on)),
        )

    def attachments(
        self,
        doc: ParsedDoc,
        entries: list[Any],
        loc: tuple[Any, ...],
        batch_attrs: dict[str, Any] | None = None,
        batch_chunking: dict[str, Any] | None = None,
    ) -> list[tuple[Attachment, tuple[int, int]]]:
        out: list[tuple[Attachment, tuple[int, int]]] = []
        for i, entry in enumerate(entries):
            pos = doc.pos(*loc, i)
            ref_pos = doc.pos(*loc, i, "file") if isinstance(doc.tree_at(*loc, i), dict) else pos
            if self.lookup(doc, ref_pos, entry.file, "File", f"{'.'.join(map(str, loc))}[{i}]") is None:
                continue
            attrs = entry.attributes
            if batch_attrs is not None or attrs is not None:
                attrs = {**(batch_attrs or {}), **(attrs or {})}
                if len(attrs) > MAX_MAP_KEYS:
                    self.error(
                        doc,
                        pos,
                        f"file {entry.file!r} would get {len(attrs)} attributes (batch + per-file); "
                        f"at most {MAX_MAP_KEYS} are allowed",
                        "drop some attributes",
                    )
                    continue
            chunking = _dump(entry.chunking_strategy) or batch_chunking
            for address in self.file_members.get(entry.file, []):
                out.append((Attachment(address, attrs, chunking), pos))
        return out

    def vector_stores(self, doc: ParsedDoc) -> None:
        spec = doc.model.spec
        lifecycle = self.lifecycle(doc)
        name = spec.name if spec.name is not None else doc.name
        name_pos = doc.pos("spec", "name") if spec.name is not None else doc.pos("metadata", "name")
        if not VECTOR_STORE_NAME_RE.match(name):
            self.error(
                doc,
                name_pos,
                f"vector store name {name!r}"
                + (" (after interpolation)" if "${" in str(doc.tree_at("spec", "name") or "") else "")
                + " is not valid",
                "use 1-255 letters, digits, '-' or '_', starting with a letter or '_' (OCI rule)",
            )
        if self.owner_tag_key in spec.metadata:
            self.error(
                doc,
                doc.key_pos("spec", "metadata", self.owner_tag_key),
                f"metadata key {self.owner_tag_key!r} is reserved for ocigen-iac's ownership tag",
                "rename the key",
            )
        elif len(spec.metadata) > MAX_MAP_KEYS - 1:
            self.error(
                doc,
                doc.pos("spec", "metadata"),
                f"spec.metadata has {len(spec.metadata)} keys; at most {MAX_MAP_KEYS - 1} are allowed "
                f"(the API allows {MAX_MAP_KEYS} and ocigen-iac uses one for its ownership tag)",
                "drop some metadata keys",
            )
        atts = self.attachments(doc, list(spec.files), ("spec", "files"))
        self.add(
            doc,
            f"vector_store.{doc.name}",
            VectorStoreSpec(
                name=name,
                description=spec.description,
                metadata=dict(spec.metadata),
                expires_after=_dump(spec.expires_after),
                chunking_strategy=_dump(spec.chunking_strategy),
                files=tuple(a for a, _ in atts),
            ),
            lifecycle,
            depends_on=[a.file for a, _ in atts],
        )
        self._attached.setdefault(f"vector_store.{doc.name}", []).append((doc, atts))

    def batches(self, doc: ParsedDoc) -> None:
        spec = doc.model.spec
        lifecycle = self.lifecycle(doc)
        store = self.lookup(doc, doc.pos("spec", "vector_store"), spec.vector_store, "VectorStore", "spec.vector_store")
        atts = self.attachments(
            doc,
            list(spec.files),
            ("spec", "files"),
            batch_attrs=dict(spec.attributes) if spec.attributes is not None else None,
            batch_chunking=_dump(spec.chunking_strategy),
        )
        if store is None:
            return
        self.add(
            doc,
            f"vector_store_file_batch.{doc.name}",
            FileBatchSpec(vector_store=store, files=tuple(a for a, _ in atts)),
            lifecycle,
            depends_on=[store, *(a.file for a, _ in atts)],
        )
        self._attached.setdefault(store, []).append((doc, atts))

    def containers(self, doc: ParsedDoc) -> None:
        spec = doc.model.spec
        lifecycle = self.lifecycle(doc)
        files: list[ContainerFileSpec] = []
        seen: dict[str, int] = {}
        for i, entry in enumerate(spec.files):
            pos = doc.pos("spec", "files", i)
            items: list[ContainerFileSpec] = []
            if entry.file is not None:
                ref_pos = (
                    doc.pos("spec", "files", i, "file") if isinstance(doc.tree_at("spec", "files", i), dict) else pos
                )
                if self.lookup(doc, ref_pos, entry.file, "File", f"spec.files[{i}]") is None:
                    continue
                items = [ContainerFileSpec(file=a) for a in self.file_members.get(entry.file, [])]
            else:
                try:
                    path = self.conf.resolve_file(doc.manifest_dir, entry.path)
                except PathProblem as p:
                    self.error(doc, doc.pos("spec", "files", i, "path"), p.message, p.hint)
                    continue
                items = [
                    ContainerFileSpec(path=path, rel_path=self.conf.display(path), filename=entry.filename or path.name)
                ]
            for item in items:
                if item.key in seen:
                    self.error(
                        doc,
                        pos,
                        f"container {doc.name!r} lists {item.file or item.rel_path!r} twice "
                        f"(also spec.files[{seen[item.key]}])",
                        "remove the duplicate entry",
                    )
                    continue
                seen[item.key] = i
                files.append(item)
        self.add(
            doc,
            f"container.{doc.name}",
            ContainerSpec(
                name=spec.name if spec.name is not None else doc.name,
                memory_limit=spec.memory_limit,
                expires_after=_dump(spec.expires_after),
                files=tuple(files),
            ),
            lifecycle,
            depends_on=[f.file for f in files if f.file],
        )

    def duplicate_attachments(self) -> None:
        for store, groups in self._attached.items():
            first: dict[str, tuple[ParsedDoc, tuple[int, int]]] = {}
            reported: set[tuple[str, tuple[int, int]]] = set()
            for doc, atts in groups:
                for att, pos in atts:
                    if att.file in first:
                        prev_doc, prev_pos = first[att.file]
                        if (doc.file, pos) in reported:
                            continue
                        reported.add((doc.file, pos))
                        via = "" if doc.kind == "VectorStore" else f" (through batch {doc.name!r})"
                        self.error(
                            doc,
                            pos,
                            f"{att.file} is attached to {store} twice{via}; it is already attached at "
                            f"{prev_doc.file}:{prev_pos[0]}",
                            "attach each file to a vector store once: remove one of the entries",
                        )
                    else:
                        first[att.file] = (doc, pos)

    def run(self) -> DesiredSet:
        self._attached: dict[str, list[tuple[ParsedDoc, list[tuple[Attachment, tuple[int, int]]]]]] = {}
        self.register()
        registered = [d for d in self.docs if self.by_kind[d.kind].get(d.name) is d]
        for doc in registered:
            if doc.kind == "File":
                self.files(doc)
        handlers = {
            "VectorStore": self.vector_stores,
            "VectorStoreFileBatch": self.batches,
            "Container": self.containers,
        }
        for doc in registered:
            if doc.kind in handlers:
                handlers[doc.kind](doc)
        self.duplicate_attachments()
        # document order, members in glob order
        order = {id(d): i for i, d in enumerate(self.docs)}
        ordered = sorted(
            self.resources.values(),
            key=lambda r: order.get(id(self.by_kind[r.kind].get(r.name)), 0),
        )
        return DesiredSet(resources={r.address: r for r in ordered})


def resolve(
    docs: list[ParsedDoc], broken: list[NameOnly], conf: Confinement, owner_tag_key: str
) -> tuple[DesiredSet, list[Diagnostic]]:
    r = Resolver(docs, broken, conf, owner_tag_key)
    desired = r.run()
    return desired, r.problems
