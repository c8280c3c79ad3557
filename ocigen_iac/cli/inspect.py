"""Offline commands: `validate`, `schema`, `graph`, `show PLANFILE`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ocigen_iac.cli import _options as opt
from ocigen_iac.cli._app import app
from ocigen_iac.cli._common import (
    guarded,
    load,
    render,
    use_color,
    variables,
)


@app.command(short_help="Check manifests and ocigen.yaml offline.")
@guarded
def validate(
    manifests: opt.Manifests = Path("manifests"),
    env: opt.Env = None,
    root: opt.Root = None,
    var: opt.Var = None,
    var_file: opt.VarFile = None,
    json_out: opt.Json = False,
) -> None:
    """Check manifests and ocigen.yaml without touching the network."""
    _, desired = load(root, env, False, manifests, variables(var, var_file))  # failures: see guarded
    from ocigen_iac.engine.expand import declared_instances
    from ocigen_iac.manifest import summarize
    from ocigen_iac.manifest.loader import document_counts

    assert desired is not None
    objects: dict[str, int] = {}
    for inst in declared_instances(desired).values():
        objects[inst.kind] = objects.get(inst.kind, 0) + 1
    if json_out:
        typer.echo(json.dumps({"success": True, "valid": True, "error_count": 0, "counts": desired.counts_by_kind(),
                               "documents": document_counts(desired), "objects": objects,
                               "object_count": sum(objects.values())}, indent=2))
    else:
        typer.echo(summarize(desired, objects))
        typer.echo("Success! The configuration is valid.")


@app.command(short_help="Print the JSON Schema of a manifest document.")
@guarded
def schema() -> None:
    """Print the JSON Schema of a manifest document (for editor completion)."""
    from ocigen_iac.manifest import json_schema

    typer.echo(json.dumps(json_schema(), indent=2))


@app.command(short_help="Print the dependency graph in DOT.")
@guarded
def graph(
    manifests: opt.Manifests = Path("manifests"),
    env: opt.Env = None,
    root: opt.Root = None,
) -> None:
    """Print the dependency graph of the manifests in DOT (render with `dot -Tsvg`)."""
    from ocigen_iac.engine.commands import graph_dot

    settings, desired = load(root, env, False, manifests)
    assert desired is not None
    typer.echo(graph_dot(settings, desired))


@app.command(short_help="Show a plan saved with plan -out.")
@guarded
def show(
    planfile: Annotated[Path, typer.Argument(metavar="PLANFILE", help="A plan saved with `plan -out`.")],
    json_out: opt.Json = False,
    fmt: opt.PlanFormat = "text",
    no_color: opt.NoColor = False,
) -> None:
    """Show a saved plan as text, JSON or Markdown, without touching state or the service."""
    from ocigen_iac.engine.runner import load_saved_plan

    plan = load_saved_plan(planfile)
    typer.echo(render(plan, "json" if json_out else fmt, color=use_color(no_color)))
