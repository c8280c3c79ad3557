"""`state list|show|rm|mv|pull|push`, `force-unlock` and `init`: state housekeeping."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ocigen_iac.cli import _options as opt
from ocigen_iac.cli._app import app, state_app
from ocigen_iac.cli._common import duration, guarded, load


@state_app.command("list", short_help="List every address in state.")
@guarded
def state_list(env: opt.Env = None, local: opt.Local = False, root: opt.Root = None) -> None:
    """List every address in state."""
    from ocigen_iac.engine.commands import state_list as do

    settings, _ = load(root, env, local, None)
    for line in do(settings):
        typer.echo(line)


@state_app.command("show", short_help="Show one address's state record.")
@guarded
def state_show(address: str, env: opt.Env = None, local: opt.Local = False, root: opt.Root = None) -> None:
    """Show one address's state record (ids, applied attributes, hashes)."""
    from ocigen_iac.engine.commands import state_show as do

    settings, _ = load(root, env, local, None)
    typer.echo(do(settings, address))


@state_app.command("rm", short_help="Forget addresses (the live objects are left alone).")
@guarded
def state_rm(addresses: list[str], env: opt.Env = None, local: opt.Local = False, root: opt.Root = None,
             lock_timeout: opt.LockTimeout = "0s") -> None:
    """Forget addresses (the live objects are left alone and not adopted again)."""
    from ocigen_iac.engine.commands import state_rm as do

    settings, _ = load(root, env, local, None)
    typer.echo(do(settings, addresses, duration(lock_timeout)))


@state_app.command("mv", short_help="Rename an address without touching the live object.")
@guarded
def state_mv(source: str, target: str, env: opt.Env = None, local: opt.Local = False, root: opt.Root = None,
             lock_timeout: opt.LockTimeout = "0s") -> None:
    """Rename an address (a resource with all its instances and dependents, or one instance)."""
    from ocigen_iac.engine.commands import state_mv as do

    settings, _ = load(root, env, local, None)
    typer.echo(do(settings, source, target, duration(lock_timeout)))


@state_app.command("pull", short_help="Print the current state as JSON.")
@guarded
def state_pull(env: opt.Env = None, local: opt.Local = False, root: opt.Root = None) -> None:
    """Print the current state as JSON."""
    from ocigen_iac.engine.commands import state_pull as do

    settings, _ = load(root, env, local, None)
    typer.echo(do(settings))


@state_app.command("push", short_help="Replace the state with a JSON file.")
@guarded
def state_push(path: Path, env: opt.Env = None, local: opt.Local = False, root: opt.Root = None,
               force: Annotated[bool, typer.Option(
                   "--force", help="Allow another lineage or an older serial.")] = False,
               lock_timeout: opt.LockTimeout = "0s") -> None:
    """Replace the state with a JSON file (refuses another lineage or an older serial)."""
    from ocigen_iac.engine.commands import state_push as do

    settings, _ = load(root, env, local, None)
    typer.echo(do(settings, path, force, duration(lock_timeout)))


@app.command("force-unlock", short_help="Release a lock a dead run left behind.")
@guarded
def force_unlock(
    lock_id: Annotated[str, typer.Argument(metavar="LOCK_ID")],
    env: opt.Env = None,
    local: opt.Local = False,
    root: opt.Root = None,
) -> None:
    """Release a state lock left behind by a run that can no longer release it."""
    from ocigen_iac.errors import StateError
    from ocigen_iac.state import make_backend

    settings, _ = load(root, env, local, None)
    backend = make_backend(settings)
    try:
        if backend.lock_info() is None:
            raise StateError(f"no lock is held on {backend.description}; nothing was unlocked")
        info = backend.force_unlock(lock_id)
    finally:
        backend.close()
    typer.echo(f"ocigen-iac state has been successfully unlocked (lock {lock_id}"
               + (f", held by {info.holder}@{info.host} for {info.operation}" if info else "") + ").")


@app.command(short_help="Start a project here (in a folder without ocigen.yaml), else check the state backend.")
@guarded
def init(
    migrate_state: Annotated[bool, typer.Option("--migrate-state",
                                                help="Copy the local state (state.path) to the oci backend.")] = False,
    force: Annotated[bool, typer.Option("--force", help="With --migrate-state: replace a remote state of "
                                                        "another lineage (its previous version is kept).")] = False,
    env: opt.Env = None,
    root: opt.Root = Path("."),
    lock_timeout: opt.LockTimeout = "0s",
) -> None:
    """In a folder without ocigen.yaml: write a small example project (ocigen.yaml, a manifest, .gitignore,
    a CI workflow), overwriting nothing. Otherwise check the configured state backend; with --migrate-state
    move local state to OCI Object Storage."""
    from ocigen_iac.state import make_backend
    from ocigen_iac.state.oci_backend import migrate_local_state

    folder = root or Path(".")
    if not migrate_state and not any((folder / name).exists() for name in ("ocigen.yaml", "ocigen.yml")):
        from ocigen_iac.cli.scaffold import scaffold

        written = scaffold(folder)
        typer.echo("Created a new ocigen-iac project:\n" + "\n".join(f"  {name}" for name in written))
        typer.echo("\nNext: `ocigen-iac validate`, then `ocigen-iac plan --local` (the embedded emulator: no "
                   "account needed).\nFor OCI: set `project:` in ocigen.yaml and the key in $OCI_GENAI_API_KEY, "
                   "then `ocigen-iac plan`.")
        return
    settings, _ = load(root, env, False, None)
    if migrate_state:
        typer.echo(migrate_local_state(settings, force=force, lock_timeout_s=duration(lock_timeout)))
        return
    backend = make_backend(settings)
    try:
        state = backend.read_snapshot()
        holder = backend.lock_info()
    finally:
        backend.close()
    typer.echo(f"State backend: {settings.state.backend} ({backend.description}).")
    typer.echo("No state yet." if state is None else
               f"State: lineage {state.lineage}, serial {state.serial}, {len(state.resources)} resource(s).")
    if holder is not None:
        typer.echo(f"Locked by {holder.holder}@{holder.host} for {holder.operation} (ID {holder.id}).")
