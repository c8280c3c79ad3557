"""Uploading a 300 MB file must not grow the client's peak RSS by 50 MB or more.

The client runs in a subprocess (`rss_upload.py`) so only its memory is measured (VmHWM from
/proc/self/status, after a warm-up upload); the emulator serves it from this process. The file
is sparse, so creating it costs nothing. Runs in CI (not marked slow): a few seconds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .conftest import API_KEY, admin
from .iam_keys import write_iam_files

SIZE = 300 * 1024 * 1024
LIMIT_KB = 50 * 1024
ROOT = Path(__file__).resolve().parents[2]


def _upload(server: Any, big: Path, *auth_args: str) -> dict[str, Any]:
    env = dict(os.environ, RSS_TEST_KEY=API_KEY, PYTHONPATH=str(ROOT))
    out = subprocess.run(
        [sys.executable, "-m", "tests.api.rss_upload", server.inference_base, server.management_base,
         str(big), *auth_args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc (Linux)")
@pytest.mark.parametrize("auth", ["api_key", "user_principal"])
def test_300mb_upload_keeps_rss_flat(start_emulator: Any, tmp_path: Path, auth: str) -> None:
    big = tmp_path / "big.bin"
    with open(big, "wb") as fh:
        fh.truncate(SIZE)
    if auth == "api_key":
        server = start_emulator()
        res = _upload(server, big, "api_key")
    else:
        iam = write_iam_files(tmp_path / "oci")
        server = start_emulator(api_keys=[], signing_keys={iam.user_key_id: iam.public_pem})
        res = _upload(server, big, "user_principal", str(iam.config_file), "DEFAULT")
    growth_kb = res["peak_kb"] - res["baseline_kb"]
    print(f"\n[rss] {auth}: 300 MB upload raised peak RSS by {growth_kb / 1024:.1f} MB "
          f"(baseline {res['baseline_kb'] / 1024:.1f} MB, peak {res['peak_kb'] / 1024:.1f} MB)")
    assert res["bytes"] == SIZE
    assert growth_kb < LIMIT_KB, res
    files = admin(server, "GET", "objects")["files"]
    assert any(f["id"] == res["file_id"] and f["bytes"] == SIZE for f in files)
