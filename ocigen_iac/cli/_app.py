"""The Typer application and the `state` sub-application every command module registers on.

Usage errors (unknown flag, missing argument) exit 1, like Terraform's: exit 2 means "there are
changes" under `plan --detailed-exitcode`, so a typo in a pipeline must not read as changes.
"""

from __future__ import annotations

import sys
from typing import Any

import typer
from typer.core import TyperGroup

HELP_WIDTH = 120
# `--help` lists commands in this order (the everyday ones first, as Terraform does); others follow.
COMMAND_ORDER = ("init", "validate", "plan", "apply", "destroy", "show", "output", "import", "graph", "state",
                 "force-unlock", "schema", "emulator")


def _click_class(name: str) -> type[Exception]:
    """click's exception class `name`, from the click Typer runs on: Typer ≥ 0.2x carries its own
    copy of click, older versions use the click package. `typer.BadParameter` is click's in both."""
    return next(c for c in typer.BadParameter.__mro__ if c.__name__ == name)


UsageError = _click_class("UsageError")
ClickException = _click_class("ClickException")


class _Group(TyperGroup):
    def list_commands(self, ctx: Any) -> list[str]:
        names = super().list_commands(ctx)
        rank = {name: i for i, name in enumerate(COMMAND_ORDER)}
        return sorted(names, key=lambda n: rank.get(n, len(rank)))

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except UsageError as exc:  # prints the usage, "Try '... --help' for help." and the error
            exc.show()  # type: ignore[attr-defined]
            code = 1
        except ClickException as exc:
            exc.show()  # type: ignore[attr-defined]
            code = exc.exit_code if exc.exit_code != 2 else 1  # type: ignore[attr-defined]
        except (typer.Abort, KeyboardInterrupt):
            typer.echo("Interrupted.", err=True)
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
