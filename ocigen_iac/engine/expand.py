"""Desired documents -> managed instances, through each document kind's `expand`.

Local content is hashed here (through the hash cache, in one pass over every kind's local
paths), so everything after this step works on addresses, attributes and digests only.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import orjson

from ocigen_iac.addresses import Address
from ocigen_iac.engine.context import ExpandContext
from ocigen_iac.engine.hashing import HashCache
from ocigen_iac.manifest.desired import DesiredSet
from ocigen_iac.resources import Instance, registry
from ocigen_iac.state.model import ResourceState


def local_paths(desired: DesiredSet) -> list[Path | str]:
    paths: list[Path | str] = []
    for res in desired.resources.values():
        kind = registry.document_kind(res.kind)
        if kind is not None:
            paths.extend(kind.local_paths(res))
    return paths


def same_value(a: Any, b: Any) -> bool:
    """Equal and alike: the same JSON, so the same types and key order all the way down (1 ==
    True == 1.0 and {a, b} == {b, a} for `==`, but not in a plan's JSON). Two C calls: this
    runs for every instance of a large plan."""
    if a != b:
        return False
    try:
        return orjson.dumps(a) == orjson.dumps(b)
    except TypeError:  # not JSON at all: then equal is as alike as it gets
        return True


def expand_instances(desired: DesiredSet, hashes: HashCache, root: Path, owner_tag: Callable[[Address], str],
                     owner_tag_key: str, recorded: Mapping[str, ResourceState] | None = None,
                     ) -> tuple[dict[Address, Instance], dict[str, str]]:
    """All desired instances (documents in reference order), and {path: sha256} of local content
    (paths relative to the root where possible: what a saved plan checks for staleness).

    `recorded`: the state's records by address. An instance whose attributes are what its record
    holds takes the record's dict instead of its own (neither is ever mutated in place): a no-op
    plan of 100,000 objects then holds one copy of each object's attributes, not two."""
    digests = {str(p): d for p, d in hashes.digest_many(local_paths(desired)).items()}
    x = ExpandContext(root, digests, {}, owner_tag, owner_tag_key)
    for kind in registry.document_kinds():
        for res in desired.of_kind(kind.kind):
            for inst in kind.expand(res, x):
                if recorded:
                    rs = recorded.get(str(inst.address))
                    if rs is not None and rs.kind == inst.kind and same_value(rs.attrs, inst.attrs):
                        inst.attrs = rs.attrs
                x.instances[inst.address] = inst
    root_text = str(root) + os.sep
    # interned: the relative paths the desired set and the state already hold (100,000 files)
    file_digests = {sys.intern(p[len(root_text):] if p.startswith(root_text) else p): d[0]
                    for p, d in digests.items()}
    return x.instances, file_digests


def declared_instances(desired: DesiredSet) -> dict[Address, Instance]:
    """Every instance the manifests declare, without reading local content (digests left empty):
    what `validate` counts, offline and fast, the way plan counts objects."""
    x = ExpandContext(Path("."), {str(p): ("", 0) for p in local_paths(desired)}, {}, str, "")
    for kind in registry.document_kinds():
        for res in desired.of_kind(kind.kind):
            for inst in kind.expand(res, x):
                x.instances[inst.address] = inst
    return x.instances
