"""`import ADDR ID` and `output`: bring objects under management, print their ids."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ocigen_iac.cli import _options as opt
from ocigen_iac.cli._app import app
from ocigen_iac.cli._common import fail, guarded, load, options


@app.command("import", short_help="Bring an existing object under management.")
@guarded
def import_(
    address: Annotated[str, typer.Argument(help="Address from the manifests, e.g. vector_store.support-kb")],
    object_id: Annotated[str, typer.Argument(metavar="ID", help="Live id, e.g. vs_abc123")],
    manifests: Annotated[Path, typer.Option("--manifests", "-m", help="Manifests directory.")] = Path("manifests"),
    env: opt.Env = None,
    local: opt.Local = False,
    root: opt.Root = None,
    lock_timeout: opt.LockTimeout = "0s",
) -> None:
    """Bring an existing object under management without changing it."""
    from ocigen_iac.engine.commands import import_object

    settings, desired = load(root, env, local, manifests)
    assert desired is not None
    typer.echo(import_object(settings, desired, address, object_id, options(lock_timeout=lock_timeout)))


@app.command(short_help="Print the live ids an application needs.")
@guarded
def output(
    name: Annotated[str | None, typer.Argument(metavar="[ADDR]", help="One address only.")] = None,
    env: opt.Env = None,
    local: opt.Local = False,
    root: opt.Root = None,
    json_out: opt.Json = False,
    raw: Annotated[bool, typer.Option("--raw", help="With ADDR: print only its id (for scripts).")] = False,
    fmt: Annotated[str, typer.Option("--format", help="text | json | env")] = "text",
) -> None:
    """Print the live ids an application needs (vector store ids, file ids, container ids)."""
    from ocigen_iac.engine.commands import outputs, render_outputs

    settings, _ = load(root, env, local, None)
    data = outputs(settings)
    # objects applied with --local live in the embedded emulator's own state: say so when it has some
    local_hint = not local and not data and (settings.root / ".ocigen" / "local" / "state" /
                                             f"{settings.env}.json").exists()
    if name is not None:
        if name not in data:
            empty = "; state is empty" + (" (objects applied with --local are in the local emulator's state: "
                                          "add --local)" if local_hint else "")
            fail(f"Error: no output for {name!r}" + (f"; known: {', '.join(sorted(data)[:10])}" if data else empty))
        data = {name: data[name]}
        if raw:
            typer.echo(data[name]["id"])
            return
    elif raw:
        fail("Error: --raw needs an address: `ocigen-iac output ADDR --raw`")
    if json_out:
        fmt = "json"
    if fmt not in ("text", "json", "env"):
        fail(f"Error: --format {fmt!r}: use text, json or env")
    typer.echo(render_outputs(data, fmt, local=not local_hint) if fmt != "json" else json.dumps(data, indent=2))
