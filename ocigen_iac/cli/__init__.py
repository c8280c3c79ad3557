"""The command line: one module per command, registered on one Typer app; thin by design.

Commands parse flags, call the engine, render, and map outcomes to exit codes. Heavy modules
(engine, API client, emulator, `oci`) are imported inside the commands that need them, so
`--version` and `validate` start fast.

    plan.py      plan                      apply.py    apply, destroy
    inspect.py   validate, schema, graph, show
    objects.py   import, output            state.py    state *, force-unlock, init
    emulator.py  emulator                  checks.py   check
    status.py    status
    emulator.py  emulator                  scaffold.py the project `init` writes in an empty folder
    _app.py      the app, usage errors     _common.py  errors (text or JSON), loading, rendering
    _options.py  the flags commands share
"""

from __future__ import annotations

import typer

from ocigen_iac import __version__
from ocigen_iac.cli import (  # noqa: F401  (registers commands)
    apply,
    checks,
    doctor,
    emulator,
    inspect,
    objects,
    plan,
    state,
    status,
)
from ocigen_iac.cli._app import app


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"ocigen-iac {__version__}")
        raise typer.Exit(0)


@app.callback()
def main_callback(
    version: bool = typer.Option(False, "--version", callback=_version_callback, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """ocigen-iac: plan and apply OCI Generative AI files, vector stores and containers."""


def main() -> None:
    import gc

    # Collect cycles less often: plans over tens of thousands of objects otherwise spend about a
    # third of their CPU re-traversing long-lived state (see engine.runner.fewer_gc_passes).
    gc.set_threshold(50_000, 20, 100)
    app(prog_name="ocigen-iac")


__all__ = ["app", "main"]
