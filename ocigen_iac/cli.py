"""The command line: parse, call the engine, render, exit code. Nothing else lives here.

Heavy modules (engine, API client, emulator, `oci`) are imported inside the commands that need
them, so `--version` and `validate` start fast.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from ocigen_iac import __version__
from ocigen_iac.errors import OcigenError

app = typer.Typer(
    name="ocigen-iac",
    help="Infrastructure as code for OCI Generative AI agent building blocks: files, vector stores, "
    "file batches and containers. Declare them in YAML; `plan` shows what would change, `apply` makes it so.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
state_app = typer.Typer(help="Inspect and edit state: list, show, rm, mv, pull, push.", no_args_is_help=True)
app.add_typer(state_app, name="state")

# --- shared options -------------------------------------------------------------------------
ManifestsArg = Annotated[Path, typer.Argument(help="Directory of manifests (*.yaml, recursively).")]
EnvOpt = Annotated[str | None, typer.Option(
    "--env", "-e", metavar="NAME", help="Environment from ocigen.yaml (own vars and state).", envvar="OCIGEN_ENV")]
LocalOpt = Annotated[bool, typer.Option(
    "--local", help="Target the embedded emulator (.ocigen/local/); no credentials.")]
RootOpt = Annotated[Path | None, typer.Option(
    "--root", "-C", help="Project root (where ocigen.yaml lives). Default: the nearest folder holding ocigen.yaml "
    "above the manifests (or the working directory), else the working directory.")]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Log every HTTP request (secrets redacted) to stderr.")]
ParallelismOpt = Annotated[int, typer.Option(
    "--parallelism", metavar="N", min=1, max=64, help="Concurrent operations.")]
RpsOpt = Annotated[float | None, typer.Option("--rps", metavar="N", help="Cap on requests per second.")]
LockTimeoutOpt = Annotated[str, typer.Option(
    "--lock-timeout", metavar="DURATION", help="Wait this long for the state lock (e.g. 30s, 5m).")]
TargetOpt = Annotated[list[str] | None, typer.Option(
    "--target", metavar="ADDR", help="Limit to this address (repeatable).")]
ReplaceOpt = Annotated[list[str] | None, typer.Option(
    "--replace", metavar="ADDR", help="Force replacement of this address (repeatable).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def _fail(message: str, code: int = 1) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(code)


def guarded(fn: Any) -> Any:
    """Turn OcigenError into a clean message + exit code; never show a traceback for user errors."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except OcigenError as exc:
            typer.echo(_error_text(str(exc)), err=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            typer.echo("Interrupted.", err=True)
            raise typer.Exit(130) from None
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except Exception as exc:  # a bug: say so briefly; --debug / OCIGEN_TRACEBACK shows the traceback
            if os.environ.get("OCIGEN_TRACEBACK"):
                raise
            typer.echo(f"internal error: {exc.__class__.__name__}: {exc}\n"
                       "This is a bug in ocigen-iac; set OCIGEN_TRACEBACK=1 to see where.", err=True)
            raise typer.Exit(1) from None

    return wrapper


def _error_text(text: str) -> str:
    return f"Error: {text}" if not text.startswith(("Error", "error")) and ": error:" not in text else text


def _duration(text: str) -> float:
    text = text.strip().lower()
    if not text:
        return 0.0
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    for suffix in ("ms", "s", "m", "h"):
        if text.endswith(suffix):
            number = text[: -len(suffix)]
            break
    else:
        suffix, number = "s", text
    try:
        return float(number) * units[suffix]
    except ValueError:
        _fail(f"Error: --lock-timeout {text!r} is not a duration; use e.g. 30s, 5m or 1h")
        return 0.0


def find_root(start: Path) -> Path:
    """The nearest folder at or above `start` that holds ocigen.yaml, else the working directory."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / "ocigen.yaml").is_file():
            return folder
    return Path.cwd().resolve()


def _load(root: Path | None, env: str | None, local: bool, manifests: Path | None):
    from ocigen_iac.config import load_settings

    if root is None:
        start = manifests if manifests is not None and manifests.is_dir() else Path.cwd()
        root = find_root(start)
    settings = load_settings(root.resolve(), env, local=local)
    if manifests is None:
        return settings, None
    from ocigen_iac.manifest import load_desired

    mdir = manifests if manifests.is_absolute() else (Path.cwd() / manifests)
    return settings, load_desired(settings, mdir)


def _options(parallelism: int = 8, rps: float | None = None, lock_timeout: str = "0s", debug: bool = False,
             targets: list[str] | None = None, replace: list[str] | None = None, quiet: bool = False):
    from ocigen_iac.engine.runner import RunOptions, stderr_debug

    return RunOptions(parallelism=parallelism, rps=rps, lock_timeout_s=_duration(lock_timeout),
                      debug_log=stderr_debug if debug else None, targets=list(targets or []),
                      replace=list(replace or []), quiet=quiet)


def _color() -> bool:
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def _render(plan: Any, fmt: str) -> str:
    from ocigen_iac.engine.render import render_json, render_markdown, render_text

    if fmt == "json":
        return render_json(plan)
    if fmt == "markdown":
        return render_markdown(plan)
    return render_text(plan, color=_color())


def _mode(destroy: bool, refresh_only: bool) -> str:
    if destroy and refresh_only:
        _fail("Error: --destroy and --refresh-only cannot be combined")
    return "destroy" if destroy else "refresh-only" if refresh_only else "normal"


# --- commands -------------------------------------------------------------------------------
def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"ocigen-iac {__version__}")
        raise typer.Exit(0)


@app.callback()
def main_callback(
    version: Annotated[bool, typer.Option("--version", callback=_version_callback, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """ocigen-iac: plan and apply OCI Generative AI files, vector stores and containers."""


@app.command()
@guarded
def validate(
    manifests: ManifestsArg = Path("manifests"),
    env: EnvOpt = None,
    root: RootOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Check manifests and ocigen.yaml without touching the network."""
    from ocigen_iac.errors import ValidationFailed

    try:
        _, desired = _load(root, env, False, manifests)
    except ValidationFailed as exc:
        if json_out:
            typer.echo(json.dumps({"valid": False, "error_count": len(exc.diagnostics),
                                   "diagnostics": [d.__dict__ for d in exc.diagnostics]}, indent=2))
            raise typer.Exit(1) from None
        raise
    from ocigen_iac.manifest import summarize

    if json_out:
        typer.echo(json.dumps({"valid": True, "error_count": 0, "counts": desired.counts_by_kind()}, indent=2))
    else:
        typer.echo(summarize(desired))
        typer.echo("Success! The configuration is valid.")


@app.command()
@guarded
def schema() -> None:
    """Print the JSON Schema of a manifest document (for editor completion)."""
    from ocigen_iac.manifest import json_schema

    typer.echo(json.dumps(json_schema(), indent=2))


@app.command()
@guarded
def plan(
    manifests: ManifestsArg = Path("manifests"),
    env: EnvOpt = None,
    local: LocalOpt = False,
    root: RootOpt = None,
    out: Annotated[Path | None, typer.Option(
        "-out", "--out", metavar="FILE", help="Save the plan to FILE for `apply FILE`.")] = None,
    json_out: JsonOpt = False,
    fmt: Annotated[str, typer.Option("--format", metavar="FORMAT", help="text | json | markdown")] = "text",
    detailed_exitcode: Annotated[bool, typer.Option("--detailed-exitcode",
                                                    help="Exit 0 no changes, 1 error, 2 changes.")] = False,
    destroy: Annotated[bool, typer.Option("--destroy", help="Plan to destroy everything in state.")] = False,
    refresh_only: Annotated[bool, typer.Option("--refresh-only", help="Only record drift in state.")] = False,
    target: TargetOpt = None,
    replace: ReplaceOpt = None,
    parallelism: ParallelismOpt = 8,
    rps: RpsOpt = None,
    lock_timeout: LockTimeoutOpt = "0s",
    debug: DebugOpt = False,
) -> None:
    """Show what apply would change."""
    from ocigen_iac.engine.runner import run_plan, save_plan

    fmt = "json" if json_out else fmt
    if fmt not in ("text", "json", "markdown"):
        _fail(f"Error: --format {fmt!r}: use text, json or markdown")
    mode = _mode(destroy, refresh_only)
    settings, desired = _load(root, env, local, manifests)
    opts = _options(parallelism, rps, lock_timeout, debug, target, replace)
    result = run_plan(settings, desired, opts, mode=mode)
    typer.echo(_render(result, fmt))
    if out is not None:
        save_plan(out, result, str(manifests), opts)
        if fmt == "text":
            typer.echo(f"\nSaved the plan to: {out}\nTo perform exactly these actions, run: ocigen-iac apply {out}")
    if detailed_exitcode and result.has_changes:
        raise typer.Exit(2)


def _confirm_interactive(auto_approve: bool, what: str):
    def confirm(p: Any) -> bool:
        if auto_approve:
            return True
        if not sys.stdin.isatty():
            raise _NeedsApproval(what)
        typer.echo(f"\nDo you want to {what}?\n  Only 'yes' will be accepted to approve.\n")
        answer = typer.prompt("  Enter a value", default="", show_default=False)
        return answer.strip() == "yes"

    return confirm


class _NeedsApproval(OcigenError):
    def __init__(self, what: str) -> None:
        super().__init__(f"apply needs approval to {what}, and there is no terminal to ask on. "
                         "Run with --auto-approve, or save a plan with `plan -out FILE` and `apply FILE`.")


def _apply(manifests_or_plan: Path, env: str | None, local: bool, root: Path, auto_approve: bool, mode: str,
           opts: Any, fmt: str) -> None:
    from ocigen_iac.engine.render import render_text
    from ocigen_iac.engine.report import Reporter
    from ocigen_iac.engine.runner import load_saved_plan, run_apply

    saved = None
    manifests = manifests_or_plan
    if manifests_or_plan.is_file():
        saved = load_saved_plan(manifests_or_plan)
        manifests = Path(saved.get("saved", {}).get("manifests_dir", "manifests"))
        env = env or saved.get("env")
        opts.targets = saved.get("saved", {}).get("targets", []) or []
        opts.replace = saved.get("saved", {}).get("replace", []) or []
        mode = saved.get("mode", mode)
        auto_approve = True  # approving the saved plan was the review
    settings, desired = _load(root, env, local, manifests)
    if fmt != "json" and sys.stdout.isatty() and not os.environ.get("CI"):
        from ocigen_iac.engine.report import TerminalReporter

        reporter: Reporter = TerminalReporter(color=_color())
    else:
        reporter = Reporter(quiet=fmt == "json", color=_color())
    shown: list[Any] = []

    def on_plan(p: Any) -> None:
        shown.append(p)
        if fmt != "json":
            typer.echo(render_text(p, color=_color()))

    what = "destroy these objects" if mode == "destroy" else "perform these actions"
    outcome = run_apply(settings, desired, opts, mode=mode, confirm=_confirm_interactive(auto_approve, what),
                        saved_plan=saved, reporter=reporter, on_plan=on_plan)
    result = outcome.result
    if fmt == "json":
        typer.echo(json.dumps({"plan": outcome.plan.to_dict(), "applied": outcome.applied,
                               "result": None if result is None else {
                                   "added": result.added, "changed": result.changed, "destroyed": result.destroyed,
                                   "failures": result.failures, "skipped": result.skipped}}, indent=2))
    if not outcome.plan.changes and mode != "refresh-only":
        return
    if result is None:
        typer.echo("Apply cancelled." if outcome.plan.changes else "")
        raise typer.Exit(1 if outcome.plan.changes else 0)
    if fmt != "json":
        word = "Destroy" if mode == "destroy" else "Apply"
        if result.failures:
            typer.echo(f"\n{word} failed for {len(result.failures)} object(s):", err=True)
            for address, message in sorted(result.failures.items()):
                typer.echo(f"  {address}: {message}", err=True)
            if result.skipped:
                typer.echo(f"  {len(result.skipped)} dependent step(s) were skipped.", err=True)
            typer.echo(f"Resources: {result.added} added, {result.changed} changed, {result.destroyed} destroyed. "
                       "State is saved; run apply again to retry what failed.", err=True)
        elif mode == "destroy":
            typer.echo(f"\nDestroy complete! Resources: {result.destroyed} destroyed.")
        else:
            typer.echo(f"\nApply complete! Resources: {result.added} added, {result.changed} changed, "
                       f"{result.destroyed} destroyed.")
    if result.failures:
        raise typer.Exit(1)


@app.command()
@guarded
def apply(
    manifests_or_plan: Annotated[Path, typer.Argument(help="Manifests directory, or a plan saved with plan -out.")]
    = Path("manifests"),
    env: EnvOpt = None,
    local: LocalOpt = False,
    root: RootOpt = None,
    auto_approve: Annotated[bool, typer.Option("--auto-approve", help="Skip the interactive approval.")] = False,
    destroy: Annotated[bool, typer.Option("--destroy", help="Destroy everything in state.")] = False,
    refresh_only: Annotated[bool, typer.Option("--refresh-only", help="Only record drift in state.")] = False,
    target: TargetOpt = None,
    replace: ReplaceOpt = None,
    parallelism: ParallelismOpt = 8,
    rps: RpsOpt = None,
    lock_timeout: LockTimeoutOpt = "0s",
    json_out: JsonOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Make the live service match the manifests (or apply a saved plan)."""
    opts = _options(parallelism, rps, lock_timeout, debug, target, replace)
    _apply(manifests_or_plan, env, local, root, auto_approve, _mode(destroy, refresh_only), opts,
           "json" if json_out else "text")


@app.command()
@guarded
def destroy(
    manifests: ManifestsArg = Path("manifests"),
    env: EnvOpt = None,
    local: LocalOpt = False,
    root: RootOpt = None,
    auto_approve: Annotated[bool, typer.Option("--auto-approve", help="Skip the interactive approval.")] = False,
    target: TargetOpt = None,
    parallelism: ParallelismOpt = 8,
    lock_timeout: LockTimeoutOpt = "0s",
    debug: DebugOpt = False,
) -> None:
    """Destroy everything this environment's state tracks."""
    opts = _options(parallelism, None, lock_timeout, debug, target, None)
    _apply(manifests, env, local, root, auto_approve, "destroy", opts, "text")


@app.command("import")
@guarded
def import_(
    address: Annotated[str, typer.Argument(help="Address from the manifests, e.g. vector_store.support-kb")],
    object_id: Annotated[str, typer.Argument(metavar="ID", help="Live id, e.g. vs_abc123")],
    manifests: Annotated[Path, typer.Option("--manifests", "-m", help="Manifests directory.")] = Path("manifests"),
    env: EnvOpt = None,
    local: LocalOpt = False,
    root: RootOpt = None,
    lock_timeout: LockTimeoutOpt = "0s",
) -> None:
    """Bring an existing object under management without changing it."""
    from ocigen_iac.engine.commands import import_object

    settings, desired = _load(root, env, local, manifests)
    typer.echo(import_object(settings, desired, address, object_id, _options(lock_timeout=lock_timeout)))


@app.command()
@guarded
def output(
    env: EnvOpt = None,
    local: LocalOpt = False,
    root: RootOpt = None,
    json_out: JsonOpt = False,
    fmt: Annotated[str, typer.Option("--format", help="text | json | env")] = "text",
) -> None:
    """Print the live ids an application needs (vector store ids, file ids, container ids)."""
    from ocigen_iac.engine.commands import outputs, render_outputs

    settings, _ = _load(root, env, local, None)
    typer.echo(render_outputs(outputs(settings), "json" if json_out else fmt))


@app.command()
@guarded
def graph(
    manifests: ManifestsArg = Path("manifests"),
    env: EnvOpt = None,
    root: RootOpt = None,
) -> None:
    """Print the dependency graph of the manifests in DOT (render with `dot -Tsvg`)."""
    from ocigen_iac.engine.commands import graph_dot

    settings, desired = _load(root, env, False, manifests)
    typer.echo(graph_dot(settings, desired))


@app.command("force-unlock")
@guarded
def force_unlock(
    lock_id: Annotated[str, typer.Argument(metavar="LOCK_ID")],
    env: EnvOpt = None,
    local: LocalOpt = False,
    root: RootOpt = None,
) -> None:
    """Release a state lock left behind by a run that can no longer release it."""
    from ocigen_iac.state import make_backend

    settings, _ = _load(root, env, local, None)
    info = make_backend(settings).force_unlock(lock_id)
    typer.echo(f"ocigen-iac state has been successfully unlocked (lock {lock_id}"
               + (f", held by {info.holder}@{info.host} for {info.operation}" if info else "") + ").")


@app.command()
@guarded
def emulator(
    host: Annotated[str, typer.Option(help="Listen address (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (0 = any free port).")] = 8088,
    data: Annotated[Path, typer.Option("--data", help="Where objects persist.")] = Path(".ocigen/emulator"),
    api_key: Annotated[list[str] | None, typer.Option("--api-key", help="Accepted API key (repeatable).")] = None,
    access_log: Annotated[bool, typer.Option("--access-log", help="One line per request on stdout.")] = False,
    no_project_header: Annotated[bool, typer.Option("--no-project-header",
                                                    help="Do not require the OpenAI-Project header.")] = False,
) -> None:
    """Run the local OCI Generative AI emulator (files, vector stores, containers, object storage)."""
    from ocigen_iac.emulator import EmulatorConfig, serve

    cfg = EmulatorConfig(data_dir=data, api_keys=list(api_key or []), access_log=access_log,
                         require_project=not no_project_header)
    serve(cfg, host, port)


# --- state subcommands ---------------------------------------------------------------------
@state_app.command("list")
@guarded
def state_list(env: EnvOpt = None, local: LocalOpt = False, root: RootOpt = None) -> None:
    """List every address in state."""
    from ocigen_iac.engine.commands import state_list as do

    settings, _ = _load(root, env, local, None)
    for line in do(settings):
        typer.echo(line)


@state_app.command("show")
@guarded
def state_show(address: str, env: EnvOpt = None, local: LocalOpt = False, root: RootOpt = None) -> None:
    """Show one address's state record (ids, applied attributes, hashes)."""
    from ocigen_iac.engine.commands import state_show as do

    settings, _ = _load(root, env, local, None)
    typer.echo(do(settings, address))


@state_app.command("rm")
@guarded
def state_rm(addresses: list[str], env: EnvOpt = None, local: LocalOpt = False, root: RootOpt = None,
             lock_timeout: LockTimeoutOpt = "0s") -> None:
    """Forget addresses (the live objects are left alone)."""
    from ocigen_iac.engine.commands import state_rm as do

    settings, _ = _load(root, env, local, None)
    typer.echo(do(settings, addresses, _duration(lock_timeout)))


@state_app.command("mv")
@guarded
def state_mv(source: str, target: str, env: EnvOpt = None, local: LocalOpt = False, root: RootOpt = None,
             lock_timeout: LockTimeoutOpt = "0s") -> None:
    """Rename an address (after renaming a manifest document) without touching the live object."""
    from ocigen_iac.engine.commands import state_mv as do

    settings, _ = _load(root, env, local, None)
    typer.echo(do(settings, source, target, _duration(lock_timeout)))


@state_app.command("pull")
@guarded
def state_pull(env: EnvOpt = None, local: LocalOpt = False, root: RootOpt = None) -> None:
    """Print the current state as JSON."""
    from ocigen_iac.engine.commands import state_pull as do

    settings, _ = _load(root, env, local, None)
    typer.echo(do(settings))


@state_app.command("push")
@guarded
def state_push(path: Path, env: EnvOpt = None, local: LocalOpt = False, root: RootOpt = None,
               force: Annotated[bool, typer.Option(
                   "--force", help="Allow another lineage or an older serial.")] = False,
               lock_timeout: LockTimeoutOpt = "0s") -> None:
    """Replace the state with a JSON file (refuses another lineage or an older serial)."""
    from ocigen_iac.engine.commands import state_push as do

    settings, _ = _load(root, env, local, None)
    typer.echo(do(settings, path, force, _duration(lock_timeout)))


@app.command()
@guarded
def init(
    migrate_state: Annotated[bool, typer.Option("--migrate-state", "-migrate-state",
                                                help="Copy the local state (state.path) to the oci backend.")] = False,
    force: Annotated[bool, typer.Option("--force", help="With --migrate-state: replace a remote state of "
                                                        "another lineage (its previous version is kept).")] = False,
    env: EnvOpt = None,
    root: RootOpt = Path("."),
    lock_timeout: LockTimeoutOpt = "0s",
) -> None:
    """Check the configured state backend; with --migrate-state move local state to OCI Object Storage."""
    from ocigen_iac.state import make_backend
    from ocigen_iac.state.oci_backend import migrate_local_state

    settings, _ = _load(root, env, False, None)
    if migrate_state:
        typer.echo(migrate_local_state(settings, force=force, lock_timeout_s=_duration(lock_timeout)))
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


def main() -> None:
    import gc

    # Collect cycles less often: plans over tens of thousands of objects otherwise spend about a
    # third of their CPU re-traversing long-lived state (see engine.runner.fewer_gc_passes).
    gc.set_threshold(50_000, 20, 100)
    app()


if __name__ == "__main__":
    main()
