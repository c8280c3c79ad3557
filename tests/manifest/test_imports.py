"""`validate` must start fast: the manifest and config layers never import the network stack.

How fast it starts is a benchmark figure (`python -m benchmarks.run --only startup`), not a test.
"""

from __future__ import annotations

import subprocess
import sys

CODE = """
import sys
import ocigen_iac.config, ocigen_iac.manifest
from pathlib import Path
ocigen_iac.manifest.json_schema()
heavy = sorted(m for m in ("oci", "httpx", "deepdiff", "starlette", "uvicorn") if m in sys.modules)
print(",".join(heavy) or "-")
"""


def test_the_manifest_layer_imports_no_network_stack() -> None:
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "-", f"imported {out.strip()}"

