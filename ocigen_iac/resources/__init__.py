"""One module per kind of resource, behind the small protocol in base.py."""

from __future__ import annotations

from ocigen_iac.resources.base import Instance, LiveView, ResourceKind
from ocigen_iac.resources.containers import ContainerFileKind, ContainerKind
from ocigen_iac.resources.files import FileKind
from ocigen_iac.resources.vector_store_files import VectorStoreFileKind
from ocigen_iac.resources.vector_stores import VectorStoreKind

KINDS: dict[str, ResourceKind] = {
    k.kind: k
    for k in (FileKind(), VectorStoreKind(), ContainerKind(), VectorStoreFileKind(), ContainerFileKind())
}

__all__ = ["KINDS", "Instance", "LiveView", "ResourceKind"]
