"""`ocigen-iac apply` and `ocigen-iac destroy`: plan (or load a saved plan), approve, execute, verify."""

from __future__ import annotations

import json
import os
import select
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from ocigen_iac.cli import _options as opt
from ocigen_iac.cli._app import app
from ocigen_iac.cli._common import (
    fail,
    guarded,
    load,
    mode_of,
    options,
    use_color,
    variables,
)
from ocigen_iac.errors import OcigenError

AutoApproveOpt = Annotated[bool, typer.Option("--auto-approve", help="Skip the interactive approval.")]


class NeedsApproval(OcigenError):
    def __init__(self, what: str) -> None:
        super().__init__(f"apply needs approval to {what}, and there is no terminal to ask on. "
                         "Run with --auto-approve, or save a plan with `plan -out FILE` and `apply FILE`.")


def read_answer(prompt: str) -> str:
    """One line typed at the terminal. Not `input()`: a Ctrl-C that lands between the prompt's write
    and a blocking read is only handled once a line is typed, so the prompt would seem to ignore it.
    Waiting in short `select` rounds gives the interrupt a way in after each one."""
    sys.stdout.write(prompt)
    sys.stdout.flush()
    try:
        while not select.select([sys.stdin], [], [], 0.1)[0]:
            pass
    except (OSError, ValueError):  # stdin that select cannot wait on: read it plainly
        pass
    line = sys.stdin.readline()
    if not line:
        raise EOFError
    return line


def confirm_interactive(auto_approve: bool, what: str) -> Any:
    def confirm(_plan: Any) -> bool:
        if auto_approve:
            return True
        if not sys.stdin.isatty():
            raise NeedsApproval(what)
        typer.echo(f"\nDo you want to {what}?\n  Only 'yes' will be accepted to approve.\n")
        try:
            answer = read_answer("  Enter a value: ")
        except (KeyboardInterrupt, EOFError):
            raise KeyboardInterrupt from None
        return answer.strip() == "yes"

    return confirm


def run(manifests_or_plan: Path, env: str | None, local: bool, root: Path | None, auto_approve: bool, mode: str,
        opts: Any, fmt: str, color: bool, given: dict[str, str]) -> None:
    from ocigen_iac.engine.render import render_text
    from ocigen_iac.engine.report import Reporter
    from ocigen_iac.engine.runner import load_saved_plan, run_apply

    saved = None
    manifests = manifests_or_plan
    if manifests_or_plan.is_file():
        saved = load_saved_plan(manifests_or_plan)
        manifests = Path(saved.manifests_dir)
        env = env or saved.env
        opts.targets, opts.excludes = list(saved.targets), list(saved.excludes)
        opts.replace = [str(c.address) for c in saved.changes
                        if any(r.code.value == "replace_because_requested" for r in c.reasons)]
        mode = saved.mode
        auto_approve = True  # approving the saved plan was the review
        if given:
            fail("Error: a saved plan carries the variables it was made with; --var/--var-file cannot change "
                 "them. Run plan again with the new values.")
        given = saved.variables
    settings, desired = load(root, env, local, manifests, given)
    assert desired is not None
    if fmt != "json" and sys.stdout.isatty() and not os.environ.get("CI"):
        from ocigen_iac.engine.report import TerminalReporter

        reporter: Reporter = TerminalReporter(color=color)
    else:
        reporter = Reporter(quiet=fmt == "json", color=color)

    def on_plan(p: Any) -> None:
        if fmt != "json":
            typer.echo(render_text(p, color=color))

    what = "destroy these objects" if mode == "destroy" else "perform these actions"
    outcome = run_apply(settings, desired, opts, mode=mode, confirm=confirm_interactive(auto_approve, what),
                        saved_plan=saved, reporter=reporter, on_plan=on_plan, manifests_dir=str(manifests))
    result = outcome.result
    if fmt == "json":
        typer.echo(json.dumps({"plan": outcome.plan.to_dict(), "applied": outcome.applied,
                               "result": None if result is None else result.to_dict()}, indent=2))
    if not outcome.plan.changes and mode != "refresh-only":
        return
    if result is None:
        typer.echo("Apply cancelled: nothing was changed." if outcome.plan.changes else "")
        raise typer.Exit(1 if outcome.plan.changes else 0)
    if fmt != "json":
        word = "Destroy" if mode == "destroy" else "Apply"
        counts = f"Resources: {result.added} added, {result.changed} changed, {result.destroyed} destroyed"
        extra = ", ".join(p for p in (f"{result.adopted} adopted" if result.adopted else "",
                                      f"{result.moved} moved" if result.moved else "") if p)
        counts += f" ({extra})." if extra else "."
        for note in result.notes:
            typer.echo(f"Note: {note}", err=True)
        if result.checks:
            from ocigen_iac.engine.render.checks import render_checks_text

            typer.echo(render_checks_text(result.checks, only_failures=True), err=bool(result.failed_checks))
        if result.failures or result.missing or result.failed_checks:
            if result.failed_checks:
                typer.echo(f"\n{len(result.failed_checks)} declared check(s) failed after apply (nothing was "
                           "rolled back).", err=True)
            if result.failures:
                typer.echo(f"\n{word} failed for {len(result.failures)} object(s):", err=True)
                for address, message in sorted(result.failures.items()):
                    typer.echo(f"  {address}: {message}", err=True)
                if result.skipped:
                    typer.echo(f"  {len(result.skipped)} dependent step(s) were skipped.", err=True)
            if result.missing:
                typer.echo(f"\n{word} is not complete: {len(result.missing)} declared object(s) are missing or "
                           "not ready on the service after apply:", err=True)
                for address, message in sorted(result.missing.items()):
                    typer.echo(f"  {address}: {message}", err=True)
            typer.echo(f"{counts} State is saved; run apply again to retry what failed.", err=True)
        elif mode == "destroy":
            typer.echo(f"\nDestroy complete! Resources: {result.destroyed} destroyed.")
        elif mode == "refresh-only":
            typer.echo("\nRefresh complete: state records what the service holds now.")
        else:
            repaired = f" (verified; {result.repaired} repaired)" if result.repaired else " (verified)"
            typer.echo(f"\nApply complete! {counts}{repaired if result.added or result.changed else ''}")
    if result.failures or result.missing or result.failed_checks:
        raise typer.Exit(1)


@app.command(short_help="Make the live service match the manifests (or apply a saved plan).")
@guarded
def apply(
    manifests_or_plan: Annotated[Path, typer.Argument(help="Manifests directory, or a plan saved with plan -out.")]
    = Path("manifests"),
    env: opt.Env = None,
    local: opt.Local = False,
    root: opt.Root = None,
    auto_approve: AutoApproveOpt = False,
    destroy: Annotated[bool, typer.Option("--destroy", help="Destroy everything in state.")] = False,
    refresh_only: Annotated[bool, typer.Option("--refresh-only", help="Only record drift in state.")] = False,
    target: opt.Target = None,
    exclude: opt.Exclude = None,
    replace: opt.Replace = None,
    var: opt.Var = None,
    var_file: opt.VarFile = None,
    parallelism: opt.Parallelism = opt.DEFAULT_PARALLELISM,
    rps: opt.Rps = None,
    lock_timeout: opt.LockTimeout = "0s",
    json_out: opt.Json = False,
    no_color: opt.NoColor = False,
    debug: opt.Debug = False,
    skip_checks: Annotated[bool, typer.Option(
        "--skip-checks", help="Do not run the declared checks (retrieval checks) of what apply changed.")] = False,
) -> None:
    """Make the live service match the manifests, or apply exactly a plan saved with `plan -out`."""
    opts = options(parallelism, rps, lock_timeout, debug, target, replace, exclude)
    opts.skip_checks = skip_checks
    run(manifests_or_plan, env, local, root, auto_approve, mode_of(destroy, refresh_only), opts,
        "json" if json_out else "text", use_color(no_color), variables(var, var_file))


@app.command(short_help="Destroy what this environment's state tracks.")
@guarded
def destroy(
    manifests: opt.Manifests = Path("manifests"),
    env: opt.Env = None,
    local: opt.Local = False,
    root: opt.Root = None,
    auto_approve: AutoApproveOpt = False,
    target: opt.Target = None,
    exclude: opt.Exclude = None,
    var: opt.Var = None,
    var_file: opt.VarFile = None,
    parallelism: opt.Parallelism = opt.DEFAULT_PARALLELISM,
    lock_timeout: opt.LockTimeout = "0s",
    no_color: opt.NoColor = False,
    debug: opt.Debug = False,
) -> None:
    """Destroy everything this environment's state tracks (with --target: that, and what depends on it)."""
    opts = options(parallelism, None, lock_timeout, debug, target, None, exclude)
    run(manifests, env, local, root, auto_approve, "destroy", opts, "text", use_color(no_color),
        variables(var, var_file))
