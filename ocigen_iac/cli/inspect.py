"""Offline commands: `validate`, `schema`, `graph`, `show PLANFILE`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ocigen_iac.cli._app import app
from ocigen_iac.cli._common import (
    EnvOpt,
    JsonOpt,
    ManifestsArg,
    NoColorOpt,
    RootOpt,
    VarFileOpt,
    VarOpt,
    guarded,
    load,
    render,
    use_color,
    variables,
)


@app.command(short_help="Check manifests and ocigen.yaml offline.")
@guarded
def validate(
    manifests: ManifestsArg = Path("manifests"),
    env: EnvOpt = None,
    root: RootOpt = None,
    var: VarOpt = None,
    var_file: VarFileOpt = None,
    json_out: JsonOpt = False,
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
    manifests: ManifestsArg = Path("manifests"),
    env: EnvOpt = None,
    root: RootOpt = None,
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
    json_out: JsonOpt = False,
    fmt: Annotated[str, typer.Option("--format", metavar="FORMAT", help="text | json | markdown")] = "text",
    no_color: NoColorOpt = False,
) -> None:
    """Show a saved plan as text, JSON or Markdown, without touching state or the service."""
    from ocigen_iac.engine.runner import load_saved_plan

    plan = load_saved_plan(planfile)
    typer.echo(render(plan, "json" if json_out else fmt, color=use_color(no_color)))
