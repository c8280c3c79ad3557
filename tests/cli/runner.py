"""The real CLI in-process, from a folder of your choice (no emulator, no ocigen.yaml written)."""

from __future__ import annotations

import os
from pathlib import Path

from typer.testing import CliRunner

from ocigen_iac.cli import app
from tests.engine.harness import Result


def run(root: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    cwd = os.getcwd()
    os.chdir(root)
    try:
        r = CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)
    finally:
        os.chdir(cwd)
    return Result(r.exit_code, r.stdout, r.stderr)
