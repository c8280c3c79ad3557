"""`ocigen-iac doctor`: check the configured target (read-only) and say how to fix what fails."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ocigen_iac.cli import _options as opt
from ocigen_iac.cli._app import app
from ocigen_iac.cli._common import echo_json, guarded, load


@app.command(short_help="Check credentials, endpoints, headers and APIs of the target (read-only).")
@guarded
def doctor(
    manifests: Annotated[Path | None, typer.Argument(
        help="Manifests directory (optional): a missing API they need is a failure, else a warning.")] = None,
    env: opt.Env = None,
    local: opt.Local = False,
    root: opt.Root = None,
    json_out: opt.Json = False,
    debug: opt.Debug = False,
) -> None:
    """Check authentication on both hosts, the project and compartment headers, which APIs answer,
    TLS and clock skew. Never writes anything. Exit 1 if a check fails."""
    from ocigen_iac.doctor import render, run_doctor
    from ocigen_iac.engine.runner import stderr_debug

    settings, desired = load(root, env, local, manifests)
    report = run_doctor(settings, desired, debug_log=stderr_debug if debug else None)
    if json_out:
        echo_json(report.to_dict())
    else:
        typer.echo(render(report))
    if not report.ok:
        raise typer.Exit(1)
