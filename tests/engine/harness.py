"""A project on disk wired to an emulator, and ways to run the real CLI against it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from typer.testing import CliRunner

from ocigen_iac.cli import app
from ocigen_iac.emulator import EmulatorServer

REPO = Path(__file__).resolve().parents[2]
KEY_ENV = "OCIGEN_TEST_API_KEY"
API_KEY = "test-key"
PROJECT = "ocid1.generativeaiproject.oc1..test"
COMPARTMENT = "ocid1.compartment.oc1..test"


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def json(self) -> Any:
        return json.loads(self.stdout)


class Project:
    def __init__(self, root: Path, server: EmulatorServer, extra_config: str = "",
                 example_manifests: bool = True) -> None:
        """`example_manifests=False` starts with an empty manifests/ folder (write your own)."""
        self.root = root
        self.server = server
        if example_manifests:
            shutil.copytree(REPO / "manifests", root / "manifests")
        else:
            (root / "manifests").mkdir(parents=True)
        (root / "ocigen.yaml").write_text(
            f"""region: us-chicago-1
project: {PROJECT}
compartment: {COMPARTMENT}
auth: {{type: api_key, api_key_env: {KEY_ENV}}}
endpoints:
  inference: {server.inference_base}
  vector_stores: {server.management_base}
vars: {{env: test}}
{extra_config}"""
        )
        self.http = httpx.Client(
            base_url=server.inference_base,
            headers={"Authorization": f"Bearer {API_KEY}", "OpenAI-Project": PROJECT,
                     "opc-compartment-id": COMPARTMENT},
            timeout=30,
        )

    # --- running the CLI ----------------------------------------------------------------------
    def run(self, *args: str) -> Result:
        """The real CLI in-process (Typer's runner), from the project root."""
        runner = CliRunner()
        cwd = os.getcwd()
        os.chdir(self.root)
        try:
            r = runner.invoke(app, list(args), env={KEY_ENV: API_KEY}, catch_exceptions=False)
        finally:
            os.chdir(cwd)
        return Result(r.exit_code, r.stdout, r.stderr)

    def spawn(self, *args: str, **kw: Any) -> subprocess.Popen:
        """The real CLI as a separate process (for locks, signals and kills)."""
        env = {**os.environ, KEY_ENV: API_KEY, "PYTHONUNBUFFERED": "1"}
        return subprocess.Popen([sys.executable, "-m", "ocigen_iac.cli", *args], cwd=self.root, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)

    # --- looking at the service directly ------------------------------------------------------
    def objects(self) -> dict[str, list[dict[str, Any]]]:
        return httpx.get(f"{self.server.url}/_admin/objects", timeout=30).json()

    def store_file_ids(self, store_id: str) -> list[str]:
        r = self.http.get(f"/vector_stores/{store_id}/files", params={"limit": 100})
        r.raise_for_status()
        return [f["id"] for f in r.json()["data"]]

    @property
    def state_file(self) -> Path:
        return self.root / ".ocigen" / "state" / "default.json"

    def state(self) -> dict[str, Any]:
        return json.loads(self.state_file.read_text())

    def state_id(self, address: str) -> str:
        return self.state()["resources"][address]["id"]
