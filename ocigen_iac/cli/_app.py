"""The Typer application and the `state` sub-application every command module registers on.

Usage errors (unknown flag, missing argument) exit 1, like Terraform's: exit 2 means "there are
changes" under `plan --detailed-exitcode`, so a typo in a pipeline must not read as changes.
"""

from __future__ import annotations

import sys
from typing import Any

import click
import typer
from typer.core import TyperGroup

HELP_WIDTH = 120


class _Group(TyperGroup):
    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.UsageError as exc:
            exc.show()
            cmd = exc.ctx.command_path if exc.ctx is not None else "ocigen-iac"
            click.echo(f"Run `{cmd} --help` for the flags it takes.", err=True)
            code = 1
        except click.exceptions.ClickException as exc:
            exc.show()
            code = exc.exit_code if exc.exit_code != 2 else 1
        except click.exceptions.Abort:
            click.echo("Interrupted.", err=True)
            code = 130
        else:
            code = rv if isinstance(rv, int) else 0
        if standalone_mode:
            sys.exit(code)
        return code


app = typer.Typer(
    name="ocigen-iac",
    cls=_Group,
    help="Infrastructure as code for OCI Generative AI agent building blocks: files, vector stores, "
    "file batches and containers. Declare them in YAML; `plan` shows what would change, `apply` makes it so.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"max_content_width": HELP_WIDTH},
)
state_app = typer.Typer(help="Inspect and edit state: list, show, rm, mv, pull, push.", no_args_is_help=True,
                        context_settings={"max_content_width": HELP_WIDTH})
app.add_typer(state_app, name="state")
