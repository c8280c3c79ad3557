"""Desired documents -> managed instances (files, stores, attachments, containers, their files).

Local content is hashed here (through the hash cache), so everything after this step works on
addresses, attributes and digests only.
"""

from __future__ import annotations

from pathlib import Path

from ocigen_iac.engine.hashing import HashCache
from ocigen_iac.manifest.desired import ContainerSpec, DesiredSet, FileBatchSpec, FileSpec, VectorStoreSpec
from ocigen_iac.resources import KINDS, Instance
from ocigen_iac.resources.containers import ContainerFileKind, ContainerKind
from ocigen_iac.resources.files import FileKind
from ocigen_iac.resources.vector_store_files import VectorStoreFileKind
from ocigen_iac.resources.vector_stores import VectorStoreKind


def local_paths(desired: DesiredSet) -> list[Path]:
    paths: list[Path] = []
    for res in desired.resources.values():
        if isinstance(res.spec, FileSpec):
            paths.append(res.spec.path)
        elif isinstance(res.spec, ContainerSpec):
            paths.extend(item.path for item in res.spec.files if item.path is not None)
    return paths


def expand_instances(desired: DesiredSet, hashes: HashCache) -> tuple[dict[str, Instance], dict[str, str]]:
    """All desired instances in dependency order, and {rel_path: sha256} of local content."""
    digests = {str(p): d for p, d in hashes.digest_many(local_paths(desired)).items()}
    file_kind: FileKind = KINDS["file"]  # type: ignore[assignment]
    store_kind: VectorStoreKind = KINDS["vector_store"]  # type: ignore[assignment]
    vsf_kind: VectorStoreFileKind = KINDS["vector_store_file"]  # type: ignore[assignment]
    container_kind: ContainerKind = KINDS["container"]  # type: ignore[assignment]
    cfile_kind: ContainerFileKind = KINDS["container_file"]  # type: ignore[assignment]

    instances: dict[str, Instance] = {}
    file_digests: dict[str, str] = {}
    for res in desired.of_kind("File"):
        inst = file_kind.expand(res, digests)
        instances[inst.address] = inst
        file_digests[inst.attrs["source"]] = inst.attrs["sha256"]
    file_attrs = {a: i.attrs for a, i in instances.items()}

    store_specs: dict[str, VectorStoreSpec] = {}
    for res in desired.of_kind("VectorStore"):
        inst = store_kind.expand(res)
        instances[inst.address] = inst
        store_specs[res.address] = res.spec  # type: ignore[assignment]
    for res in desired.of_kind("Container"):
        inst = container_kind.expand(res)
        instances[inst.address] = inst

    for res in desired.of_kind("VectorStore"):
        spec = store_specs[res.address]
        for att in spec.files:
            a = vsf_kind.expand(res, res.address, att, spec.chunking_strategy)
            instances[a.address] = a
    for res in desired.of_kind("VectorStoreFileBatch"):
        batch = res.spec
        assert isinstance(batch, FileBatchSpec)
        store = store_specs.get(batch.vector_store)
        for att in batch.files:
            a = vsf_kind.expand(res, batch.vector_store, att, store.chunking_strategy if store else None)
            a.deps = [*a.deps]
            instances[a.address] = a
    for res in desired.of_kind("Container"):
        spec = res.spec
        assert isinstance(spec, ContainerSpec)
        for item in spec.files:
            c = cfile_kind.expand(res, item, digests, file_attrs)
            instances[c.address] = c
            if item.path is not None and item.rel_path:
                file_digests[item.rel_path] = c.attrs["sha256"]
    return instances, file_digests
