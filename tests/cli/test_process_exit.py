"""The console script leaves without tearing the interpreter down (`ocigen_iac.cli.exit_now`);
nothing a user or a wrapper relies on may be lost on the way out."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.cli.runner import run

ENTRY = "from ocigen_iac.cli import main; main()"


def console(*args: str, prelude: str = "", cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", prelude + ENTRY, *args], capture_output=True, text=True,
                          timeout=120, cwd=cwd)


def test_a_long_output_reaches_a_pipe_whole_and_the_exit_code_is_kept(tmp_path: Path) -> None:
    done = console("schema", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == run(tmp_path, "schema").stdout  # the same bytes as an in-process run, none lost
    assert len(done.stdout) > 20_000


def test_usage_errors_and_errors_keep_their_exit_codes(tmp_path: Path) -> None:
    usage = console("plan", "--no-such-flag", cwd=tmp_path)
    assert usage.returncode == 1
    assert "No such option: --no-such-flag" in usage.stderr
    (tmp_path / "manifests").mkdir()
    (tmp_path / "manifests" / "bad.yaml").write_text("apiVersion: ocigen-iac/v1\nkind: Nope\n")
    invalid = console("validate", "manifests", cwd=tmp_path)
    assert invalid.returncode == 1
    assert "bad.yaml:2" in invalid.stderr + invalid.stdout
    assert "Traceback" not in invalid.stderr


def test_exit_handlers_registered_by_a_wrapper_still_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    prelude = f"import atexit, pathlib; atexit.register(pathlib.Path({str(marker)!r}).write_text, 'yes'); "
    done = console("--version", prelude=prelude)
    assert done.returncode == 0
    assert done.stdout.startswith("ocigen-iac ")
    assert marker.read_text() == "yes"
