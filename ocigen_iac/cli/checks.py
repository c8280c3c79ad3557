"""`ocigen-iac check`: does the knowledge base answer what it should (the declared checks).

Reads state without changing it (as plan does); the checks call the service read-only.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ocigen_iac.cli import _options as opt
from ocigen_iac.cli._app import app
from ocigen_iac.cli._common import echo_json, guarded, load, options


@app.command(short_help="Run the declared checks (retrieval checks) against the live service.")
@guarded
def check(
    manifests: opt.Manifests = Path("manifests"),
    env: opt.Env = None,
    local: opt.Local = False,
    root: opt.Root = None,
    json_out: opt.Json = False,
    junit: Annotated[Path | None, typer.Option("--junit", metavar="FILE",
                                               help="Also write the results as JUnit XML to FILE.")] = None,
    parallelism: opt.Parallelism = opt.DEFAULT_PARALLELISM,
    lock_timeout: opt.LockTimeout = "0s",
    debug: opt.Debug = False,
) -> None:
    """Run every declared check: each retrieval check's queries go through vector store search and
    are scored (rank of each expected document, recall@k, MRR). Exit 1 if any check fails."""
    from ocigen_iac.engine.checks import run_check_suite
    from ocigen_iac.engine.render.checks import checks_json, junit_xml, render_checks_text
    from ocigen_iac.engine.report import Reporter
    from ocigen_iac.state.files import atomic_write

    settings, desired = load(root, env, local, manifests)
    assert desired is not None
    opts = options(parallelism, None, lock_timeout, debug)
    reporter = Reporter(out=sys.stderr, quiet=json_out)  # progress (waiting for ingestion) on stderr
    results = run_check_suite(settings, desired, opts, reporter)
    if junit is not None:
        atomic_write(junit, junit_xml(results).encode(), mode=0o644)
    if json_out:
        echo_json(checks_json(results))
    elif not results:
        typer.echo("No checks are declared in the manifests (add a RetrievalCheck document).")
    else:
        typer.echo(render_checks_text(results))
        failed = sum(not c.passed for c in results)
        typer.echo(f"\n{len(results) - failed} of {len(results)} check(s) passed."
                   + (f" JUnit report: {junit}" if junit is not None else ""))
    if any(not c.passed for c in results):
        raise typer.Exit(1)
