"""`ocigen-iac plan`: refresh, then show what apply would change (reads only; writes no state)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ocigen_iac.cli import _options as opt
from ocigen_iac.cli._app import app
from ocigen_iac.cli._common import (
    fail,
    guarded,
    load,
    mode_of,
    options,
    render,
    use_color,
    variables,
)


@app.command(short_help="Show what apply would change (reads only).")
@guarded
def plan(
    manifests: opt.Manifests = Path("manifests"),
    env: opt.Env = None,
    local: opt.Local = False,
    root: opt.Root = None,
    out: Annotated[Path | None, typer.Option(
        "-out", "--out", metavar="FILE", help="Save the plan to FILE for `apply FILE`.")] = None,
    json_out: opt.Json = False,
    fmt: opt.PlanFormat = "text",
    detailed_exitcode: Annotated[bool, typer.Option("--detailed-exitcode",
                                                    help="Exit 0 no changes, 1 error, 2 changes.")] = False,
    destroy: Annotated[bool, typer.Option("--destroy", help="Plan to destroy everything in state.")] = False,
    refresh_only: Annotated[bool, typer.Option("--refresh-only", help="Only show drift to record in state.")] = False,
    target: opt.Target = None,
    exclude: opt.Exclude = None,
    replace: opt.Replace = None,
    var: opt.Var = None,
    var_file: opt.VarFile = None,
    parallelism: opt.Parallelism = opt.DEFAULT_PARALLELISM,
    rps: opt.Rps = None,
    lock_timeout: opt.LockTimeout = "0s",
    no_color: opt.NoColor = False,
    debug: opt.Debug = False,
) -> None:
    """Refresh the live service, then show what apply would change. Never writes state."""
    from ocigen_iac.engine.runner import run_plan, save_plan

    fmt = "json" if json_out else fmt
    if fmt not in ("text", "json", "markdown"):
        fail(f"Error: --format {fmt!r}: use text, json or markdown")
    mode = mode_of(destroy, refresh_only)
    given = variables(var, var_file)
    settings, desired = load(root, env, local, manifests, given)
    assert desired is not None
    opts = options(parallelism, rps, lock_timeout, debug, target, replace, exclude)
    result = run_plan(settings, desired, opts, mode=mode, manifests_dir=str(manifests))
    result.variables = given  # `apply FILE` plans again with the same values
    typer.echo(render(result, fmt, color=use_color(no_color)))
    if out is not None:
        save_plan(out, result)
        if fmt == "text":
            typer.echo(f"\nSaved the plan to: {out}\nTo perform exactly these actions, run: ocigen-iac apply {out}")
    if detailed_exitcode and result.has_changes:
        raise typer.Exit(2)
