"""The registry of kinds: registered once, iterated by every layer.

`register(document_kind, *resource_types)` is called at import time by each kind's module (and by
tests that add a kind of their own). Nothing outside `resources/` names a kind: the manifest
layer asks for document kinds, the engine for resource types.
"""

from __future__ import annotations

from ocigen_iac.resources.base import DocumentKind, ResourceType

_DOCUMENTS: dict[str, DocumentKind] = {}
_TYPES: dict[str, ResourceType] = {}


def register(document: DocumentKind | None, *types: ResourceType) -> None:
    if document is not None:
        _DOCUMENTS[document.kind] = document
    for t in types:
        _TYPES[t.type] = t


def unregister(document: str | None, *types: str) -> None:
    if document is not None:
        _DOCUMENTS.pop(document, None)
    for t in types:
        _TYPES.pop(t, None)


def document_kind(kind: str) -> DocumentKind | None:
    return _DOCUMENTS.get(kind)


def document_kinds() -> list[DocumentKind]:
    """Every document kind, each after the kinds it references (the order references resolve in)."""
    done: dict[str, DocumentKind] = {}

    def visit(kind: DocumentKind, path: tuple[str, ...]) -> None:
        if kind.kind in done or kind.kind in path:
            return
        for ref in kind.references:
            target = _DOCUMENTS.get(ref)
            if target is not None:
                visit(target, (*path, kind.kind))
        done[kind.kind] = kind

    for kind in sorted(_DOCUMENTS.values(), key=lambda k: k.rank):
        visit(kind, ())
    return list(done.values())


def document_kind_names() -> list[str]:
    return list(_DOCUMENTS)


def by_prefix(prefix: str) -> DocumentKind | None:
    for kind in _DOCUMENTS.values():
        if kind.prefix == prefix:
            return kind
    return None


def resource_type(name: str) -> ResourceType:
    try:
        return _TYPES[name]
    except KeyError:
        from ocigen_iac.errors import StateError

        raise StateError(f"unknown resource type {name!r} (state written by a newer ocigen-iac?)") from None


def has_type(name: str) -> bool:
    return name in _TYPES


def resource_types() -> list[ResourceType]:
    """Every resource type, parents before children."""
    def depth(t: ResourceType) -> int:
        n, seen = 0, set()
        while t.parent_type is not None and t.parent_type in _TYPES and t.type not in seen:
            seen.add(t.type)
            t = _TYPES[t.parent_type]
            n += 1
        return n

    return sorted(_TYPES.values(), key=depth)


def depth_of(name: str) -> int:
    """0 for top-level types, 1 for their children, ..."""
    return next(i for i, level in enumerate(levels()) if name in {t.type for t in level})


def levels() -> list[list[ResourceType]]:
    """Resource types grouped by depth: top-level first, then their children, ..."""
    out: list[list[ResourceType]] = []
    placed: set[str] = set()
    remaining = list(_TYPES.values())
    while remaining:
        level = [t for t in remaining if t.parent_type is None or t.parent_type in placed
                 or t.parent_type not in _TYPES]
        if not level:
            level = remaining  # a cycle: never loop
        out.append(level)
        placed |= {t.type for t in level}
        remaining = [t for t in remaining if t.type not in placed]
    return out
