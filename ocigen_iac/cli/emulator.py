"""`ocigen-iac emulator`: run the local OCI Generative AI emulator."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ocigen_iac.cli._app import app
from ocigen_iac.cli._common import fail, guarded


@app.command(short_help="Run the local OCI Generative AI emulator.")
@guarded
def emulator(
    host: Annotated[str, typer.Option(help="Listen address (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (0 = any free port).")] = 8088,
    data: Annotated[Path, typer.Option("--data", help="Where objects persist.")] = Path(".ocigen/emulator"),
    api_key: Annotated[list[str] | None, typer.Option("--api-key", help="Accepted API key (repeatable).")] = None,
    access_log: Annotated[bool, typer.Option("--access-log", help="One line per request on stdout.")] = False,
    no_project_header: Annotated[bool, typer.Option("--no-project-header",
                                                    help="Do not require the OpenAI-Project header.")] = False,
    variant: Annotated[str, typer.Option("--variant", metavar="NAME",
                                         help="Server behaviour to emulate: default is OCI as documented and "
                                         "observed; others are how other OpenAI-compatible servers differ "
                                         "(`--variant list` names them).")] = "default",
) -> None:
    """Run the local OCI Generative AI emulator (files, vector stores, containers, object storage).
    It prints one line with its URL once it listens."""
    from ocigen_iac.emulator import VARIANTS, EmulatorConfig, serve
    from ocigen_iac.manifest.interpolate import did_you_mean

    if variant == "list":
        typer.echo("\n".join(VARIANTS))
        return
    if variant not in VARIANTS:
        hint = did_you_mean(variant, list(VARIANTS))
        fail(f"Error: unknown emulator variant {variant!r}. " + (hint + " " if hint else "")
             + f"Known variants: {', '.join(VARIANTS)}.")
    cfg = EmulatorConfig.for_variant(variant, data_dir=data, api_keys=list(api_key or []), access_log=access_log,
                                     require_project=not no_project_header)
    serve(cfg, host, port)
