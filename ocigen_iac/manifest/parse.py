"""One YAML document -> one validated document model (or Diagnostics).

Owns the envelope checks (mapping, apiVersion, kind, metadata.name) with friendly messages,
interpolation of every string under `spec`, and pydantic validation of the kind's model. It
looks at one document only; resolve.py relates documents to each other and to the disk.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from ocigen_iac.errors import Diagnostic
from ocigen_iac.manifest.diagnose import diagnostics_from, locate
from ocigen_iac.manifest.interpolate import InterpolationError, did_you_mean, interpolate
from ocigen_iac.manifest.models import API_VERSION, document_model
from ocigen_iac.manifest.yaml_positions import Document, Pos, PosDict, PosList

MAX_NODES = 200_000  # guards against alias bombs ("billion laughs")
MAX_DEPTH = 64


@dataclass
class ParsedDoc:
    kind: str
    name: str
    model: Any  # a models.*Document
    tree: PosDict  # the original YAML, for positions
    file: str  # display path of the manifest file
    manifest_dir: Path  # paths in the document are relative to this
    start: Pos

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
        try:
            return interpolate(text, self.variables, self.environ)
        except InterpolationError as exc:
            line, col = locate(self.tree, path, self.tree.start)[0]
            self.problems.append(Diagnostic(self.file, line, col, exc.message, exc.hint))
            return text


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
    try:
        model = model_cls.model_validate(plain)
    except ValidationError as exc:
        seen = {(d.line, d.column) for d in interp.problems}
        problems.extend(
            d for d in diagnostics_from(exc, model_cls, data, file, doc.start) if (d.line, d.column) not in seen
        )
        return name_only, problems
    if problems:
        return name_only, problems
    return ParsedDoc(kind, model.metadata.name, model, data, file, manifest_dir, doc.start), []
