"""The flags several commands share, as Annotated types: `env: opt.Env = None` declares `--env`/`-e`
with the same help everywhere. Typer takes defaults from the signature, so each command writes its own."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

Manifests = Annotated[Path, typer.Argument(help="Directory of manifests (*.yaml, recursively).")]
Env = Annotated[str | None, typer.Option(
    "--env", "-e", metavar="NAME", help="Environment from ocigen.yaml (own vars and state).", envvar="OCIGEN_ENV")]
Local = Annotated[bool, typer.Option(
    "--local", help="Target the embedded emulator (.ocigen/local/); no credentials.")]
Root = Annotated[Path | None, typer.Option(
    "--root", "-C", help="Project root (where ocigen.yaml lives). Default: the nearest folder holding ocigen.yaml "
    "above the manifests (or the working directory), else the working directory.")]
Debug = Annotated[bool, typer.Option("--debug", help="Log every HTTP request (secrets redacted) to stderr.")]
Parallelism = Annotated[int, typer.Option(
    "--parallelism", metavar="N", min=1, max=64, help="Concurrent operations.")]
Rps = Annotated[float | None, typer.Option("--rps", metavar="N", help="Cap on requests per second.")]
LockTimeout = Annotated[str, typer.Option(
    "--lock-timeout", metavar="DURATION", help="Wait this long for the state lock (e.g. 30s, 5m, 1h30m).")]
Target = Annotated[list[str] | None, typer.Option(
    "--target", metavar="ADDR", help="Limit to this address and what it needs (repeatable).")]
Exclude = Annotated[list[str] | None, typer.Option(
    "--exclude", metavar="ADDR", help="Leave out this address and what depends on it (repeatable).")]
Replace = Annotated[list[str] | None, typer.Option(
    "--replace", metavar="ADDR", help="Force replacement of this address (repeatable).")]
Json = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
Var = Annotated[list[str] | None, typer.Option(
    "--var", "-var", metavar="NAME=VALUE", help="Set ${var.NAME}, over ocigen.yaml's vars (repeatable).")]
VarFile = Annotated[list[Path] | None, typer.Option(
    "--var-file", "-var-file", metavar="FILE", help="Variables from a YAML or JSON mapping (repeatable; --var wins).")]
NoColor = Annotated[bool, typer.Option("-no-color", "--no-color", help="No colours in the output.")]
PlanFormat = Annotated[str, typer.Option("--format", metavar="FORMAT", help="text | json | markdown")]

DEFAULT_PARALLELISM = 16  # requests in flight at most; 429s lower it for a while (AIMD)
