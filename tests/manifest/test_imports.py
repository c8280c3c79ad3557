"""`validate` must start fast: the manifest and config layers never import the network stack."""

from __future__ import annotations

import subprocess
import sys

CODE = """
import sys, time
t = time.perf_counter()
import ocigen_iac.config, ocigen_iac.manifest
from pathlib import Path
ocigen_iac.manifest.json_schema()
elapsed = time.perf_counter() - t
heavy = sorted(m for m in ("oci", "httpx", "deepdiff", "starlette", "uvicorn") if m in sys.modules)
print(elapsed, ",".join(heavy))
"""


def test_no_heavy_imports_and_fast_start() -> None:
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True).stdout
    elapsed, heavy = out.split()[0], (out.split()[1:] or [""])[0]
    assert heavy == "", f"imported {heavy}"
    assert float(elapsed) < 1.5  # target < 0.5 s; generous for slow CI machines
