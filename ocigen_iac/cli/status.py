"""`ocigen-iac status`: the health of every tracked object (read-only, list endpoints only)."""

from __future__ import annotations

import typer

from ocigen_iac.cli import _options as opt
from ocigen_iac.cli._app import app
from ocigen_iac.cli._common import echo_json, guarded, load, options


@app.command(short_help="Show the health of every tracked object (read-only).")
@guarded
def status(
    env: opt.Env = None,
    local: opt.Local = False,
    root: opt.Root = None,
    json_out: opt.Json = False,
    parallelism: opt.Parallelism = opt.DEFAULT_PARALLELISM,
    lock_timeout: opt.LockTimeout = "0s",
    debug: opt.Debug = False,
) -> None:
    """Health of every object state tracks: vector stores (file counts, failed files with their
    last_error, usage, expiry), containers (status, last activity, expiry), files. Read-only,
    through list endpoints only (it does not list container files: that counts as activity)."""
    from ocigen_iac.engine.render.status import render_status_text
    from ocigen_iac.engine.status import run_status

    settings, _ = load(root, env, local, None)
    report = run_status(settings, options(parallelism, None, lock_timeout, debug))
    if json_out:
        echo_json(report.to_dict())
    else:
        typer.echo(render_status_text(report, local=local))
