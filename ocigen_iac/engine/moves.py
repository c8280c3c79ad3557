"""Renames: `moved:` entries in manifests and `state mv` share one rule (Address.renamed).

A move of a whole resource moves every instance and every child that mentions it: moving
`file.faq` to `file.faqs` also moves `vector_store.kb.files[file.faq["a.md"]]` to
`vector_store.kb.files[file.faqs["a.md"]]`. Nothing on the service changes.
"""

from __future__ import annotations

from collections.abc import Iterable

from ocigen_iac.addresses import Address
from ocigen_iac.manifest.desired import Move
from ocigen_iac.state.model import ResourceState
from ocigen_iac.state.sync import SyncState


def rename_map(addresses: Iterable[str], moves: list[tuple[Address, Address]]) -> dict[str, str]:
    """old -> new for every address a move touches (moves apply in order)."""
    out: dict[str, str] = {}
    if not moves:  # the usual case: no need to parse every tracked address
        return out
    for text in addresses:
        address = Address.parse(text)
        moved = address
        for source, target in moves:
            again = moved.renamed(source, target)
            if again is not None:
                moved = again
        if moved != address:
            out[text] = str(moved)
    return out


def manifest_moves(moves: list[Move]) -> list[tuple[Address, Address]]:
    return [(m.source, m.target) for m in moves]


def renamed_state(resources: dict[str, ResourceState], renames: dict[str, str]) -> dict[str, ResourceState]:
    """State records keyed by their address after the renames (records are shared, not copied)."""
    if not renames:
        return resources
    return {renames.get(a, a): rs for a, rs in resources.items()}


def move_record(sync: SyncState, old: str, new: str, renames: dict[str, str]) -> bool:
    """Move one state record (its deposed objects and intent with it) and rewrite the addresses
    recorded inside it. False if there is nothing at `old` or something already at `new`."""
    state = sync.state
    if old not in state.resources or new in state.resources:
        return False
    sync.move(old, new)
    rs = state.resources[new]
    moved = ResourceState.from_dict(rs.to_dict())
    moved.dep_ids = {renames.get(k, k): v for k, v in rs.dep_ids.items()}
    moved.attrs = {k: renames.get(v, v) if isinstance(v, str) else v for k, v in rs.attrs.items()}
    sync.put(new, moved)
    return True
