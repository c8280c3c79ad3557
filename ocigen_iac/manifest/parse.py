"""One YAML document -> one validated document model (or Diagnostics).

Owns the envelope checks (mapping, apiVersion, kind, metadata.name) with friendly messages,
interpolation of every string under `spec`, and pydantic validation of the kind's model. It
looks at one document only; resolve.py relates documents to each other and to the disk.

Every problem is reported at once: a document that fails validation is validated again with the
failing fields left out (a bad list item leaves out its whole list, so positions stay true), and
that *partial* document still goes through resolution, so its references, paths and duplicate
entries are checked too. Resolution problems at a field that already has an error are not
reported twice (`ParsedDoc.suppressed`).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from ocigen_iac.errors import Diagnostic
from ocigen_iac.manifest.diagnose import diagnostics_from, locate
from ocigen_iac.manifest.interpolate import did_you_mean, interpolate_all
from ocigen_iac.manifest.models import API_VERSION, document_model
from ocigen_iac.manifest.yaml_positions import Document, Pos, PosDict, PosList

MAX_NODES = 200_000  # guards against alias bombs ("billion laughs")
MAX_DEPTH = 64
MAX_REVALIDATIONS = 4  # rounds of "leave the failing fields out and validate again"
ENVELOPE = ("apiVersion", "kind", "metadata")  # without these a document cannot be resolved


@dataclass
class ParsedDoc:
    kind: str
    name: str
    model: Any  # a models.*Document
    tree: PosDict  # the original YAML, for positions
    file: str  # display path of the manifest file
    manifest_dir: Path  # paths in the document are relative to this
    start: Pos
    # positions that already have a diagnostic: a partial document (validated with its failing
    # fields left out) reports no second problem there
    suppressed: frozenset[Pos] = field(default_factory=frozenset)

    def pos(self, *loc: Any) -> Pos:
        return locate(self.tree, loc, self.start)[0]

    def tree_at(self, *loc: Any) -> Any:
        node: Any = self.tree
        for part in loc:
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                return None
        return node

    def key_pos(self, *loc: Any) -> Pos:
        value, key, _, _ = locate(self.tree, loc, self.start)
        return key or value


@dataclass
class NameOnly:
    """A document whose kind and name are known even though it failed validation (used to
    avoid cascading 'unknown reference' errors)."""

    kind: str
    name: str


class _TooBig(Exception):
    pass


def _plain(value: Any, env: _Interp | None, path: tuple[Any, ...], budget: list[int], depth: int = 0) -> Any:
    """A plain (dict/list/scalar) copy, interpolating strings when `env` is given."""
    budget[0] -= 1
    if budget[0] < 0 or depth > MAX_DEPTH:
        raise _TooBig
    if isinstance(value, dict):
        return {k: _plain(v, env, (*path, k), budget, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v, env, (*path, i), budget, depth + 1) for i, v in enumerate(value)]
    if isinstance(value, str) and env is not None:
        return env(value, path)
    return value


class _Interp:
    def __init__(
        self, tree: PosDict, variables: Mapping[str, str], environ: Mapping[str, str] | None, file: str
    ) -> None:
        self.tree = tree
        self.variables = variables
        self.environ = environ
        self.file = file
        self.problems: list[Diagnostic] = []

    def __call__(self, text: str, path: tuple[Any, ...]) -> str:
        out, errors = interpolate_all(text, self.variables, self.environ)
        if errors:
            line, col = locate(self.tree, path, self.tree.start)[0]
            self.problems.extend(Diagnostic(self.file, line, col, e.message, e.hint) for e in errors)
        return out


def _leave_out(data: dict[str, Any], loc: tuple[Any, ...]) -> bool:
    """Remove the field a validation error's `loc` points at from `data` (plain dicts and lists).
    A list item goes with its whole list (indices must keep matching the YAML); a missing field
    takes the mapping that lacks it. False when only the envelope itself could go."""
    trail: list[tuple[Any, Any]] = []  # (container, key) walked; a missing field stops the walk early
    node: Any = data
    for part in loc:
        if part == "[key]":
            break
        in_dict = isinstance(node, dict) and part in node
        if in_dict or (isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)):
            trail.append((node, part))
            node = node[part]
        # else: a missing field, or a union tag pydantic put into the loc ('static', 'function-after[…]')
    while trail and isinstance(trail[-1][0], list):
        trail.pop()
    if not trail or (len(trail) == 1 and trail[0][1] in ENVELOPE):
        return False
    container, key = trail[-1]
    del container[key]
    return True


def _partial_model(model_cls: type[BaseModel], plain: dict[str, Any], exc: ValidationError, tree: PosDict,
                   start: Pos) -> tuple[Any, set[Pos]]:
    """(the model validated with every failing field left out, or None; positions of those fields)."""
    data = copy.deepcopy(plain)
    failed: set[Pos] = set()
    for _ in range(MAX_REVALIDATIONS):
        for err in exc.errors():
            failed.add(locate(tree, tuple(err["loc"]), start)[0])
            if not _leave_out(data, tuple(err["loc"])):
                return None, failed
        try:
            return model_cls.model_validate(data), failed
        except ValidationError as again:
            exc = again
    return None, failed


def _type_name(value: Any) -> str:
    if isinstance(value, PosList | list):
        return "a list"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return type(value).__name__


def parse_document(
    doc: Document,
    manifest_dir: Path,
    variables: Mapping[str, str],
    environ: Mapping[str, str] | None = None,
) -> tuple[ParsedDoc | NameOnly | None, list[Diagnostic]]:
    file = doc.file
    data = doc.data
    line, col = doc.start
    where = f"document {doc.index + 1}" if doc.index else "the document"
    if not isinstance(data, PosDict):
        return None, [
            Diagnostic(
                file,
                line,
                col,
                f"{where} is {_type_name(data)}, but a manifest must be a mapping",
                "start the document with apiVersion: ocigen-iac/v1, kind, metadata and spec",
            )
        ]
    problems: list[Diagnostic] = []

    def at(key: str) -> Pos:
        return data.value_pos.get(key, doc.start)

    api = data.get("apiVersion")
    if "apiVersion" not in data:
        alt = did_you_mean("apiVersion", [k for k in data if isinstance(k, str)])
        problems.append(
            Diagnostic(file, line, col, f"{where} has no apiVersion", alt or f"add apiVersion: {API_VERSION}")
        )
    elif api != API_VERSION:
        problems.append(
            Diagnostic(
                file,
                *at("apiVersion"),
                f"unsupported apiVersion {api!r}",
                f"this version of ocigen-iac reads apiVersion: {API_VERSION}",
            )
        )
    from ocigen_iac.resources import registry

    KINDS = registry.document_kind_names()
    kind = data.get("kind")
    if "kind" not in data:
        problems.append(Diagnostic(file, line, col, f"{where} has no kind", f"add kind: one of {', '.join(KINDS)}"))
        return None, problems
    if not isinstance(kind, str) or kind not in KINDS:
        hint = did_you_mean(str(kind), [*KINDS, *(k.lower() for k in KINDS)])
        if hint and str(kind).lower() in {k.lower() for k in KINDS}:
            proper = next(k for k in KINDS if k.lower() == str(kind).lower())
            hint = f"did you mean {proper!r}? (kinds are case-sensitive)"
        elif hint:
            guess = hint.split("'")[1]
            proper = next(k for k in KINDS if k.lower() == guess.lower())
            hint = f"did you mean {proper!r}?"
        problems.append(
            Diagnostic(
                file,
                *at("kind"),
                f"unknown kind {kind!r}",
                (hint + " " if hint else "") + f"known kinds: {', '.join(KINDS)}",
            )
        )
        return None, problems

    meta = data.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    name_only = NameOnly(kind, name) if isinstance(name, str) else None

    doc_kind = registry.document_kind(kind)
    assert doc_kind is not None
    model_cls: type[BaseModel] = document_model(kind, doc_kind.spec_model)
    interp = _Interp(data, variables, environ, file)
    try:
        plain = {k: _plain(v, interp if k == "spec" else None, (k,), [MAX_NODES]) for k, v in data.items()}
    except (_TooBig, RecursionError):
        problems.append(
            Diagnostic(
                file,
                line,
                col,
                f"{where} is too large or too deeply nested (YAML aliases?)",
                "write the document out without deeply nested aliases",
            )
        )
        return name_only, problems
    problems.extend(interp.problems)
    if api != API_VERSION:
        plain["apiVersion"] = API_VERSION  # already reported; don't report it twice
    suppressed = {(d.line, d.column) for d in problems}
    try:
        model = model_cls.model_validate(plain)
    except ValidationError as exc:
        problems.extend(
            d for d in diagnostics_from(exc, model_cls, data, file, doc.start) if (d.line, d.column) not in suppressed
        )
        model, failed = _partial_model(model_cls, plain, exc, data, doc.start)
        if model is None:
            return name_only, problems
        suppressed |= failed
    return ParsedDoc(kind, model.metadata.name, model, data, file, manifest_dir, doc.start,
                     frozenset(suppressed)), problems
