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

import atexit
import contextlib
import os
import sys
from typing import NoReturn

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
    """The console script: run one command, then leave at once."""
    import gc

    # Collect cycles less often: plans over tens of thousands of objects otherwise spend about a
    # third of their CPU re-traversing long-lived state (see engine.runner.fewer_gc_passes).
    gc.set_threshold(50_000, 20, 100)
    # httpx imports its own command-line client (click, rich, pygments: ~80 ms) whenever those are
    # installed; this process never runs it, and httpx does without it when it cannot be imported.
    sys.modules.setdefault("httpx._main", None)  # type: ignore[assignment]
    try:
        app(prog_name="ocigen-iac")
        code: object = 0
    except SystemExit as exit_:
        code = exit_.code
    exit_now(code)


def exit_now(code: object) -> NoReturn:
    """Exit without tearing the interpreter down (as mypy does): freeing hundreds of modules and
    the run's objects one by one takes 0.15-0.25 s of a 1-2 s run, and nothing needs it. Every
    command has written, fsynced and closed what it keeps (state, locks, plan files) before it
    returns; atexit handlers still run and the standard streams are flushed. Under a profiler or
    a coverage tracer the normal exit is kept, since they write their reports there."""
    if sys.getprofile() is not None or sys.gettrace() is not None:
        sys.exit(code)
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # what sys.exit("message") does
        print(code, file=sys.stderr)
        status = 1
    atexit._run_exitfuncs()  # private but long-standing: the handlers a normal exit would run
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe (`| head`) loses nothing of ours
            stream.flush()
    os._exit(status)


__all__ = ["app", "main"]
