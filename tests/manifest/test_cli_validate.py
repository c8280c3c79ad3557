"""End to end through the console script: `validate` and `schema` (the CLI itself is the lead's)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import yaml

REPO = Path(__file__).resolve().parents[2]
CORPUS = Path(__file__).parent / "corpus"


def cli(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from ocigen_iac.cli import main; main()", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_validate_examples() -> None:
    result = cli("validate", "manifests")
    assert result.returncode == 0, result.stderr
    assert "3 File (7 files after glob expansion), 1 VectorStore" in result.stdout


def test_validate_broken_reports_everything_without_a_traceback() -> None:
    case = CORPUS / "multiple_errors"
    result = cli("validate", str(case), "--root", str(case))
    assert result.returncode == 1
    out = result.stdout + result.stderr
    assert "Traceback" not in out
    assert "a.yaml:7:3: error: unknown field 'purpos' in spec" in out
    assert "5 errors found; nothing was changed." in out


def test_schema_command_validates_examples() -> None:
    result = cli("schema")
    assert result.returncode == 0, result.stderr
    schema = json.loads(result.stdout)
    for path in sorted((REPO / "manifests").rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                jsonschema.validate(doc, schema, cls=jsonschema.Draft202012Validator)
