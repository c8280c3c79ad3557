"""What every command shares (flags: _options): error handling, loading settings and manifests,
rendering, and the approval prompt. Commands hold no engine logic."""

from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from ocigen_iac.cli._options import DEFAULT_PARALLELISM
from ocigen_iac.errors import OcigenError

if TYPE_CHECKING:
    from ocigen_iac.engine.plan import Plan
    from ocigen_iac.engine.runner import RunOptions
    from ocigen_iac.manifest.desired import DesiredSet
    from ocigen_iac.settings import Settings

class CommandLineError(OcigenError):
    """A flag or argument the command cannot use (reported like any other error, JSON included)."""


def fail(message: str) -> None:
    raise CommandLineError(message)


def guarded(fn: Any) -> Any:
    """Turn OcigenError into a clean message + exit code; never show a traceback for user errors.
    With --json (or --format json) the failure is JSON diagnostics on stdout instead."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        as_json = bool(kwargs.get("json_out")) or kwargs.get("fmt") == "json"
        try:
            return fn(*args, **kwargs)
        except OcigenError as exc:
            if as_json:
                echo_json(failure_json(exc))
            else:
                typer.echo(error_text(str(exc)), err=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            typer.echo("\nInterrupted.", err=True)
            raise typer.Exit(130) from None
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except Exception as exc:  # a bug: say so briefly; OCIGEN_TRACEBACK shows the traceback
            if os.environ.get("OCIGEN_TRACEBACK"):
                raise
            message = (f"internal error: {exc.__class__.__name__}: {exc}\n"
                       "This is a bug in ocigen-iac; set OCIGEN_TRACEBACK=1 to see where.")
            if as_json:
                echo_json({"success": False, "error_count": 1,
                           "diagnostics": [diagnostic_json(None, "internal_error", message)]})
            else:
                typer.echo(message, err=True)
            raise typer.Exit(1) from None

    return wrapper


def error_code(exc: OcigenError) -> str:
    """A stable code for machines: the error's class as snake case (validation_failed, lock_held,
    state_error, plan_error, needs_approval, not_found, auth_failed, rate_limited, ...)."""
    import re

    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(exc).__name__).lower()


def diagnostic_json(d: Any, code: str, message: str = "") -> dict[str, Any]:
    """One diagnostic in the JSON form every command uses (Diagnostic, or a message without place)."""
    if d is None:
        return {"severity": "error", "code": code, "file": None, "line": 0, "column": 0,
                "message": message, "hint": ""}
    return {"severity": "error", "code": code, "file": d.file, "line": d.line, "column": d.column,
            "message": d.message, "hint": d.hint}


def failure_json(exc: OcigenError) -> dict[str, Any]:
    """`{"success": false, "error_count": N, "diagnostics": [...]}`; bad input also says `"valid": false`."""
    from ocigen_iac.errors import ValidationFailed

    code = error_code(exc)
    if isinstance(exc, ValidationFailed):
        diags = [diagnostic_json(d, code) for d in exc.diagnostics]
        return {"success": False, "valid": False, "error_count": len(diags), "diagnostics": diags}
    diags = [diagnostic_json(None, code, str(exc).removeprefix("Error: "))]
    return {"success": False, "error_count": len(diags), "diagnostics": diags}


def error_text(text: str) -> str:
    plain = text.startswith(("Error", "error", "\n", "Interrupted")) or ": error:" in text
    return text if plain else f"Error: {text}"


def duration(text: str, flag: str = "--lock-timeout") -> float:
    from ocigen_iac.config import parse_duration

    try:
        return parse_duration(text, allow_zero=True)
    except ValueError as exc:
        fail(f"Error: {flag} {exc}")
        raise AssertionError from None


def find_root(start: Path) -> Path:
    """The nearest folder at or above `start` that holds ocigen.yaml, else the working directory."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / "ocigen.yaml").is_file():
            return folder
    return Path.cwd().resolve()


def variables(var: list[str] | None, var_file: list[Path] | None) -> dict[str, str]:
    """--var-file then --var values (later wins)."""
    from ocigen_iac.config import command_line_vars

    return command_line_vars(list(var or []), list(var_file or []))


def load(root: Path | None, env: str | None, local: bool, manifests: Path | None,
         variables: dict[str, str] | None = None) -> tuple[Settings, DesiredSet | None]:
    from ocigen_iac.config import load_settings

    if root is None:
        start = manifests if manifests is not None and manifests.is_dir() else Path.cwd()
        root = find_root(start)
    settings = load_settings(root.resolve(), env, local=local, overrides={"vars": variables or None})
    if manifests is None:
        return settings, None
    from ocigen_iac.manifest import load_desired

    mdir = manifests if manifests.is_absolute() else (Path.cwd() / manifests)
    return settings, load_desired(settings, mdir)


def options(parallelism: int = DEFAULT_PARALLELISM, rps: float | None = None, lock_timeout: str = "0s",
            debug: bool = False, targets: list[str] | None = None, replace: list[str] | None = None,
            excludes: list[str] | None = None) -> RunOptions:
    from ocigen_iac.engine.runner import RunOptions, stderr_debug

    return RunOptions(parallelism=parallelism, rps=rps, lock_timeout_s=duration(lock_timeout),
                      debug_log=stderr_debug if debug else None, targets=list(targets or []),
                      replace=list(replace or []), excludes=list(excludes or []))


def use_color(no_color: bool = False) -> bool:
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR") and not no_color


def render(plan: Plan, fmt: str, *, color: bool = False) -> str:
    from ocigen_iac.engine.render import render_json, render_text

    if fmt == "json":
        return render_json(plan)
    if fmt == "markdown":  # one layout for pull-request comments: the GitOps kit's, from the JSON plan
        from ocigen_iac.gitops.markdown import render_markdown

        return render_markdown(plan.to_dict()).rstrip("\n")
    return render_text(plan, color=color)


def mode_of(destroy: bool, refresh_only: bool) -> str:
    if destroy and refresh_only:
        fail("Error: --destroy and --refresh-only cannot be combined")
    return "destroy" if destroy else "refresh-only" if refresh_only else "normal"


def echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))
