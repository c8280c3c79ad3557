"""Smaller commands: import, output, graph, and the `state` subcommands. Generic over kinds."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

from ocigen_iac.addresses import Address, AddressError
from ocigen_iac.engine.hashing import HashCache
from ocigen_iac.engine.moves import move_record, rename_map
from ocigen_iac.engine.report import Reporter
from ocigen_iac.engine.runner import RunOptions, api_client, expand, local_emulator, locked_state, make_context
from ocigen_iac.errors import PlanError, StateError
from ocigen_iac.manifest.desired import DesiredSet
from ocigen_iac.resources import registry
from ocigen_iac.settings import Settings
from ocigen_iac.state import State, SyncState, make_backend
from ocigen_iac.state.model import ResourceState
from ocigen_iac.state.sync import replay


def _address(text: str) -> Address:
    try:
        return Address.parse(text)
    except AddressError as exc:
        raise StateError(str(exc)) from None


def read_state(settings: Settings) -> State:
    """The state as a run would see it (a crashed run's journal included), read-only, unlocked."""
    backend = make_backend(settings)
    try:
        return replay(backend.read_snapshot() or State(env=settings.env), backend.journal_read())
    finally:
        backend.close()


def state_list(settings: Settings) -> list[str]:
    state = read_state(settings)
    return sorted(state.resources) + [f"{d.address} (deposed object {d.resource.id})" for d in state.deposed]


def state_show(settings: Settings, address: str) -> str:
    state = read_state(settings)
    rs = state.resources.get(str(_address(address)))
    if rs is None:
        raise StateError(f"no address {address!r} in state (see `ocigen-iac state list`)")
    return json.dumps({"address": address, **rs.to_dict()}, indent=2)


def state_rm(settings: Settings, addresses: list[str], lock_timeout_s: float) -> str:
    """Forget addresses (and what lives inside them); the live objects are left alone and are
    never adopted again automatically."""
    with locked_state(settings, "state rm", lock_timeout_s) as sync:
        wanted = [_address(a) for a in addresses]
        removed: list[str] = []
        for target in wanted:
            matches = [a for a in sync.state.resources if Address.parse(a).within(target)]
            if not matches:
                raise StateError(f"no address {str(target)!r} in state; nothing was removed")
            removed.extend(m for m in matches if m not in removed)
        for address in sorted(removed, key=lambda a: -registry.depth_of(sync.state.resources[a].kind)):
            rs = sync.state.resources[address]
            sync.release(address, rs.id)
            sync.remove(address)
    listing = "\n  ".join(removed)
    return (f"Removed {len(removed)} address(es) from state; the live objects were not touched, and will not be "
            f"adopted again (a plan now creates new ones):\n  {listing}")


def apply_renames(sync: SyncState, renames: dict[str, str]) -> None:
    for old, new in renames.items():
        move_record(sync, old, new, renames)


def state_mv(settings: Settings, source: str, target: str, lock_timeout_s: float) -> str:
    """Rename a resource (all its instances and everything that depends on it) or one instance."""
    src, dst = _address(source), _address(target)
    with locked_state(settings, "state mv", lock_timeout_s) as sync:
        renames = rename_map(sync.state.resources, [(src, dst)])
        if not any(Address.parse(a).within(src) for a in renames):
            raise StateError(f"no address {source!r} in state (see `ocigen-iac state list`)")
        clash = sorted(n for o, n in renames.items() if n in sync.state.resources and n not in renames)
        if clash:
            raise StateError(f"{clash[0]!r} already exists in state; remove it first")
        apply_renames(sync, renames)
    lines = "\n  ".join(f"{o} -> {n}" for o, n in sorted(renames.items()))
    return f"Moved {len(renames)} address(es):\n  {lines}"


def state_pull(settings: Settings) -> str:
    return json.dumps(read_state(settings).to_dict(), indent=1)


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
        sync.replace_state(incoming)
    return f"Pushed {path} (lineage {incoming.lineage}, serial {incoming.serial})."


def outputs(settings: Settings) -> dict[str, dict[str, Any]]:
    state = read_state(settings)
    out: dict[str, dict[str, Any]] = {}
    for address, rs in sorted(state.resources.items()):
        kind = registry.resource_type(rs.kind)
        if kind.parent_type is not None:
            continue
        out[address] = {"kind": rs.kind, "id": rs.id, **kind.outputs(rs)}
    return out


def env_name(address: str) -> str:
    return "OCIGEN_" + re.sub(r"[^A-Z0-9]+", "_", address.upper()).strip("_") + "_ID"


def render_outputs(data: dict[str, dict[str, Any]], fmt: str, *, local: bool = False) -> str:
    if fmt == "json":
        return json.dumps(data, indent=2)
    if fmt == "env":
        return "\n".join(f"{env_name(a)}={v['id']}" for a, v in data.items())
    if not data:
        hint = "" if local else " (objects applied with --local are in the local emulator's state: add --local)"
        return f"No outputs: state is empty. Run `ocigen-iac apply` first{hint}."
    width = max(len(a) for a in data)
    return "\n".join(f"{a.ljust(width)} = {v['id']}" for a, v in data.items())


def graph_dot(settings: Settings, desired: DesiredSet) -> str:
    from ocigen_iac.engine.expand import expand_instances

    hashes = HashCache(settings.root / ".ocigen" / "cache" / "hashes.json")
    instances, _ = expand_instances(desired, hashes, settings.root, lambda a: f"{settings.env}:{a}",
                                    settings.owner_tag_key)
    lines = ["digraph ocigen {", '  rankdir = "LR";', '  node [shape = box, fontname = "Helvetica"];']
    for address, inst in instances.items():
        lines.append(f'  "{_dot(str(address))}" [label = "{_dot(str(address))}\\n({inst.kind})"];')
    for address, inst in instances.items():
        for dep in inst.deps:
            lines.append(f'  "{_dot(str(address))}" -> "{_dot(str(dep))}";')
    lines.append("}")
    return "\n".join(lines)


def _dot(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def import_object(settings: Settings, desired: DesiredSet, address: str, object_id: str, opts: RunOptions) -> str:
    """Adopt an existing object into state at `address`, reading its live attributes."""
    target = _address(address)
    with local_emulator(settings) as settings, locked_state(settings, "import", opts.lock_timeout_s) as sync:
        ctx = make_context(settings, sync, opts, Reporter(quiet=True))
        expand(ctx, desired)
        inst = ctx.instances.get(target)
        if inst is None:
            raise PlanError(f"{address!r} is not in the manifests; declare it first, then import it")
        if address in sync.state.resources:
            raise StateError(f"{address} is already managed (id {sync.state.resources[str(target)].id}); "
                             "use `state rm` first to import another object")
        kind = registry.resource_type(inst.kind)
        holder = next((a for a, rs in sync.state.resources.items() if rs.kind == kind.type and rs.id == object_id),
                      None)
        if holder is not None:
            raise StateError(f"{object_id} is already managed at {holder}; one object cannot be managed twice. "
                             f"Use `ocigen-iac state mv {holder} {address}` to rename it instead")
        if not kind.importable:
            raise PlanError(f"{kind.type} objects cannot be imported; apply re-creates them")
        ids = {a: rs.id for a, rs in sync.state.resources.items()}

        async def fetch() -> tuple[ResourceState, str | None]:
            from ocigen_iac.api import NotFound

            async with api_client(settings, opts, ctx.clock) as client:
                ctx.client = client
                ctx.set_scope(dict(ctx.scope))
                try:
                    return await kind.import_object(ctx, inst, object_id, ids)
                except NotFound:
                    raise PlanError(f"no {kind.type} with id {object_id!r} exists (or it is not visible to "
                                    "these credentials)") from None

        rs, note = asyncio.run(fetch())
        rs.dep_ids = rs.dep_ids or {str(d): ids[str(d)] for d in inst.deps if str(d) in ids}
        sync.put(address, rs)
    trusted = f"\nNote: {note}." if note else ""
    return (f"Import successful: {address} -> {object_id}.{trusted}\n"
            "Run `ocigen-iac plan` to see any differences between the object and the manifests.")
