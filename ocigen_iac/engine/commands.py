"""Smaller commands: import, output, graph, and the `state` subcommands."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from pathlib import Path
from typing import Any

from ocigen_iac.engine.hashing import HashCache
from ocigen_iac.engine.runner import RunOptions, api_client, local_emulator, locked_state
from ocigen_iac.errors import PlanError, StateError
from ocigen_iac.manifest.desired import DesiredSet
from ocigen_iac.settings import Settings
from ocigen_iac.state import State, make_backend
from ocigen_iac.state.model import ResourceState

TOP_LEVEL = ("file", "vector_store", "container")


def _read_state(settings: Settings) -> State:
    backend = make_backend(settings)
    try:
        snapshot = backend.read_snapshot() or State(env=settings.env)
        for record in backend.journal_read():  # include a crashed run's journal, read-only
            snapshot.apply_record(record)
        return snapshot
    finally:
        backend.close()


def state_list(settings: Settings) -> list[str]:
    return sorted(_read_state(settings).resources)


def state_show(settings: Settings, address: str) -> str:
    state = _read_state(settings)
    rs = state.resources.get(address)
    if rs is None:
        raise StateError(f"no address {address!r} in state (see `ocigen-iac state list`)")
    return json.dumps({"address": address, **rs.to_dict()}, indent=2)


def state_rm(settings: Settings, addresses: list[str], lock_timeout_s: float) -> str:
    with locked_state(settings, "state rm", lock_timeout_s) as sync:
        missing = [a for a in addresses if a not in sync.state.resources]
        if missing:
            raise StateError(f"no address {missing[0]!r} in state; nothing was removed")
        removed = []
        for address in addresses:
            for child in [a for a in sync.state.resources if a.startswith(address + ".files[")]:
                sync.remove(child)
                removed.append(child)
            sync.remove(address)
            removed.append(address)
    listing = "\n  ".join(removed)
    return f"Removed {len(removed)} address(es) from state; the live objects were not touched:\n  {listing}"


def state_mv(settings: Settings, source: str, target: str, lock_timeout_s: float) -> str:
    with locked_state(settings, "state mv", lock_timeout_s) as sync:
        if source not in sync.state.resources:
            raise StateError(f"no address {source!r} in state")
        if target in sync.state.resources:
            raise StateError(f"{target!r} already exists in state; remove it first")
        moves = [(source, target)] + [
            (a, target + a[len(source):]) for a in sync.state.resources if a.startswith(source + ".files[")
        ]
        for a, b in moves:
            sync.move(a, b)
    return f"Moved {len(moves)} address(es): {source} -> {target}"


def state_pull(settings: Settings) -> str:
    return json.dumps(_read_state(settings).to_dict(), indent=1)


def state_push(settings: Settings, path: Path, force: bool, lock_timeout_s: float) -> str:
    try:
        incoming = State.from_dict(json.loads(path.read_text()))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise StateError(f"{path}: not a readable ocigen-iac state file ({exc})") from exc
    with locked_state(settings, "state push", lock_timeout_s) as sync:
        current = sync.state
        if not force and current.resources and incoming.lineage != current.lineage:
            raise StateError(f"cannot push: lineage {incoming.lineage} differs from the current state's "
                             f"{current.lineage}; use --force if you are sure")
        if not force and incoming.serial < current.serial:
            raise StateError(f"cannot push: serial {incoming.serial} is older than the current state's "
                             f"{current.serial}; use --force if you are sure")
        incoming.env = settings.env
        sync.backend.write_snapshot(incoming)
        sync.state = incoming
        sync._changed = False  # already written as-is
    return f"Pushed {path} (lineage {incoming.lineage}, serial {incoming.serial})."


def outputs(settings: Settings) -> dict[str, dict[str, Any]]:
    state = _read_state(settings)
    out: dict[str, dict[str, Any]] = {}
    for address, rs in sorted(state.resources.items()):
        if rs.kind in TOP_LEVEL and "#deposed" not in address:
            item: dict[str, Any] = {"kind": rs.kind, "id": rs.id}
            if rs.kind == "file":
                item["filename"] = rs.attrs.get("filename")
            if rs.kind in ("vector_store", "container"):
                item["name"] = rs.attrs.get("name")
            out[address] = item
    return out


def env_name(address: str) -> str:
    return "OCIGEN_" + re.sub(r"[^A-Z0-9]+", "_", address.upper()).strip("_") + "_ID"


def render_outputs(data: dict[str, dict[str, Any]], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(data, indent=2)
    if fmt == "env":
        return "\n".join(f"{env_name(a)}={v['id']}" for a, v in data.items())
    if not data:
        return "No outputs: state is empty. Run `ocigen-iac apply` first."
    width = max(len(a) for a in data)
    return "\n".join(f"{a.ljust(width)} = {v['id']}" for a, v in data.items())


def graph_dot(settings: Settings, desired: DesiredSet) -> str:
    from ocigen_iac.engine.expand import expand_instances

    instances, _ = expand_instances(desired, HashCache(settings.root / ".ocigen" / "cache" / "hashes.json"))
    lines = ["digraph ocigen {", '  rankdir = "LR";', '  node [shape = box, fontname = "Helvetica"];']
    for address, inst in instances.items():
        lines.append(f'  "{_dot(address)}" [label = "{_dot(address)}\\n({inst.kind})"];')
    for address, inst in instances.items():
        for dep in inst.deps:
            lines.append(f'  "{_dot(address)}" -> "{_dot(dep)}";')
    lines.append("}")
    return "\n".join(lines)


def _dot(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def import_object(settings: Settings, desired: DesiredSet, address: str, object_id: str, opts: RunOptions) -> str:
    """Adopt an existing object into state at `address`, reading its live attributes."""
    from ocigen_iac.engine.expand import expand_instances
    from ocigen_iac.resources import KINDS

    with local_emulator(settings) as settings, locked_state(settings, "import", opts.lock_timeout_s) as sync:
        instances, _ = expand_instances(desired, HashCache(settings.root / ".ocigen" / "cache" / "hashes.json"))
        inst = instances.get(address)
        if inst is None:
            raise PlanError(f"{address!r} is not in the manifests; declare it first, then import it")
        if address in sync.state.resources:
            raise StateError(f"{address} is already managed (id {sync.state.resources[address].id}); "
                             "use `state rm` first to import another object")
        kind = KINDS[inst.kind]

        async def fetch() -> ResourceState:
            from ocigen_iac.api import NotFound

            async with api_client(settings, opts) as client:
                try:
                    if inst.kind == "file":
                        live = (await client.get_file(object_id)).model_dump()
                        content = await client.file_content(object_id)
                        attrs = kind.project_live(live, ResourceState("file", object_id, attrs={
                            "sha256": hashlib.sha256(content).hexdigest(),
                            "expires_after": inst.attrs.get("expires_after"), "source": inst.attrs.get("source")}))
                    elif inst.kind == "vector_store":
                        live = (await client.get_vector_store(object_id)).model_dump()
                        attrs = kind.project_live(live, ResourceState("vector_store", object_id,
                                                                      attrs={"description": inst.attrs["description"]}))
                    elif inst.kind == "container":
                        live = (await client.get_container(object_id)).model_dump()
                        attrs = kind.project_live(live, ResourceState("container", object_id, attrs=inst.attrs))
                    elif inst.kind == "vector_store_file":
                        store = sync.state.resources.get(inst.attrs["vector_store"])
                        if store is None:
                            raise PlanError(f"import {inst.attrs['vector_store']} first")
                        live = (await client.get_vector_store_file(store.id, object_id)).model_dump()
                        rs = ResourceState("vector_store_file", object_id, parent_id=store.id,
                                           attrs=dict(inst.attrs), deps=list(inst.deps))
                        rs.attrs["attributes"] = dict(live.get("attributes") or {})
                        rs.live = kind.snapshot(live)
                        rs.status = live.get("status")
                        return rs
                    else:
                        raise PlanError(f"import of {inst.kind} is not supported; it is re-created on apply")
                except NotFound:
                    raise PlanError(f"no {inst.kind} with id {object_id!r} exists") from None
            snap = kind.snapshot(live)
            if inst.kind == "vector_store":
                snap["owner_key"] = settings.owner_tag_key
            return ResourceState(inst.kind, object_id, attrs=attrs, live=snap, deps=list(inst.deps),
                                 created_at=live.get("created_at"))

        rs = asyncio.run(fetch())
        sync.put(address, rs)
    return (f"Import successful: {address} -> {object_id}.\n"
            "Run `ocigen-iac plan` to see any differences between the object and the manifests.")
