"""Named variants: each one switches exactly the behaviour it names, and `serve` says where it is."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from ocigen_iac.emulator import VARIANTS, EmulatorConfig, EmulatorServer

from .helpers import HEADERS, client, new_store, upload_ready

REQUIRED = {"default", "file-ids-batches", "missing-400", "no-containers", "plain-container-paths", "downloads-allowed"}


def test_variant_presets(tmp_path: Path) -> None:
    assert set(VARIANTS) >= REQUIRED
    cfg = EmulatorConfig.for_variant("missing-400", data_dir=tmp_path, seed=3)
    assert cfg.missing_is_400 and cfg.seed == 3 and not cfg.no_containers
    assert EmulatorConfig.for_variant("no-containers", data_dir=tmp_path, no_containers=False).no_containers is False
    default = EmulatorConfig.for_variant("default", data_dir=tmp_path)
    assert default == EmulatorConfig(data_dir=tmp_path)
    with pytest.raises(ValueError, match="known: default"):
        EmulatorConfig.for_variant("nope", data_dir=tmp_path)
    with pytest.raises(ValueError, match="store_ready_delay_s"):
        EmulatorConfig(data_dir=tmp_path, store_ready_delay_s=-1)


def _behaviour(srv: EmulatorServer) -> dict[str, Any]:
    """What a client would notice, probed over HTTP."""
    with client(srv) as c:
        f = upload_ready(c, "a.txt", b"alpha words")
        vs = new_store(srv)
        batch = c.post(f"/vector_stores/{vs['id']}/file_batches", json={"files": [{"file_id": f["id"]}]})
        out: dict[str, Any] = {
            "files_form": batch.status_code,
            "missing": c.get("/files/file-emu-nope").status_code,
            "download": c.get(f"/files/{f['id']}/content").status_code,
        }
        ct = c.post("/containers", json={"name": "t", "expires_after": {"anchor": "last_active_at", "minutes": 60}})
        out["containers"] = ct.status_code
        if ct.status_code == 200:
            cf = c.post(f"/containers/{ct.json()['id']}/files", files={"file": ("d.csv", b"a\n")}).json()
            out["path"] = "plain" if cf["path"] == "/mnt/data/d.csv" else "hashed"
            out["minutes"] = ct.json()["expires_after"]["minutes"]
        return out


STRICT = {"files_form": 200, "missing": 404, "download": 400, "containers": 200, "path": "hashed", "minutes": 20}
EXPECTED = {
    "default": STRICT,
    "file-ids-batches": {**STRICT, "files_form": 400},
    "missing-400": {**STRICT, "missing": 400},
    "no-containers": {k: v for k, v in {**STRICT, "containers": 404}.items() if k not in ("path", "minutes")},
    "plain-container-paths": {**STRICT, "path": "plain"},
    "downloads-allowed": {**STRICT, "download": 200},
    "container-expiry-honoured": {**STRICT, "minutes": 60},
}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_each_variant_changes_only_its_behaviour(make_emulator, name: str) -> None:
    assert _behaviour(make_emulator(name)) == EXPECTED[name]


def test_serve_prints_where_it_listens(tmp_path: Path) -> None:
    code = (
        "from ocigen_iac.emulator import EmulatorConfig, serve\n"
        f"serve(EmulatorConfig(data_dir={str(tmp_path / 'd')!r}, api_keys=['test-key']), '127.0.0.1', 0)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"}
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        m = re.fullmatch(
            r"Emulator listening on (http://127\.0\.0\.1:(\d+))  data plane: \1/openai/v1"
            r"  management: \1/20231130/openai/v1",
            line,
        )
        assert m and int(m[2]) > 0, line
        r = httpx.get(f"{m[1]}/openai/v1/files", headers=HEADERS, timeout=10)
        assert r.status_code == 200 and r.json()["object"] == "list"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
