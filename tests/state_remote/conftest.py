"""Fixtures for the remote-state tests: an emulator that verifies OCI request signatures, a
generated RSA key + ~/.oci/config-style profile, and a project whose ocigen.yaml points the API
and the state backend (Object Storage) at that emulator on 127.0.0.1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from ocigen_iac.emulator import EmulatorServer
from tests.api.iam_keys import IamFiles
from tests.engine.harness import Result
from tests.support.corpus import kb_manifest, write_docs

pytest.importorskip("oci")

NAMESPACE = "emulatorns"
BUCKET = "ocigen-state"
PREFIX = "teams/search"
PROJECT = "ocid1.generativeaiproject.oc1..test"
COMPARTMENT = "ocid1.compartment.oc1..test"

MANIFEST = kb_manifest(purpose="assistants")


class RemoteProject:
    """A project on disk: manifests, ocigen.yaml with `state: {backend: oci}`, credentials."""

    def __init__(self, root: Path, server: EmulatorServer, iam: IamFiles, *, docs: int = 4,
                 extra_state: str = "") -> None:
        self.root = root
        self.server = server
        self.iam = iam
        self._reader: Any = None
        (root / "manifests" / "docs").mkdir(parents=True)
        (root / "manifests" / "kb.yaml").write_text(MANIFEST)
        write_docs(root / "manifests" / "docs", docs)
        self.write_config(extra_state)

    def write_config(self, extra_state: str = "", backend: str = "oci") -> None:
        state = (
            f"state:\n  backend: oci\n  namespace: {NAMESPACE}\n  bucket: {BUCKET}\n  prefix: {PREFIX}\n"
            f"  endpoint: {self.server.url}\n{textwrap.indent(extra_state, '  ')}"
            if backend == "oci" else "state:\n  backend: local\n"
        )
        (self.root / "ocigen.yaml").write_text(
            f"region: us-chicago-1\nproject: {PROJECT}\ncompartment: {COMPARTMENT}\n"
            f"auth: {{type: user_principal, profile: DEFAULT, config_file: {self.iam.config_file}}}\n"
            f"endpoints:\n  inference: {self.server.inference_base}\n  vector_stores: {self.server.management_base}\n"
            f"vars: {{env: test}}\n{state}"
        )

    # -- settings / backends --------------------------------------------------------------------
    def settings(self, env: str | None = None) -> Any:
        from ocigen_iac.config import load_settings

        return load_settings(self.root, env, environ={})

    def backend(self, **kw: Any) -> Any:
        from ocigen_iac.state.oci_backend import OciBackend

        return OciBackend(self.settings(), **kw)

    # -- the CLI --------------------------------------------------------------------------------
    def run(self, *args: str, push_interval: str = "5") -> Result:
        """The real CLI in-process, with --root pointing at the project."""
        from ocigen_iac.cli import app

        cwd = os.getcwd()
        os.chdir(self.root)
        try:
            r = CliRunner().invoke(app, list(args), env={"OCIGEN_STATE_PUSH_INTERVAL": push_interval},
                                   catch_exceptions=False)
        finally:
            os.chdir(cwd)
        return Result(r.exit_code, r.stdout, r.stderr)

    def spawn(self, *args: str, push_interval: str = "5") -> subprocess.Popen[str]:
        """The real CLI in a separate process (locks, kill -9)."""
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "OCIGEN_STATE_PUSH_INTERVAL": push_interval}
        env.pop("OCIGEN_ENV", None)
        return subprocess.Popen([sys.executable, "-m", "ocigen_iac.cli", *args], cwd=self.root, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    # -- looking at the emulator directly -------------------------------------------------------
    def objects(self) -> dict[str, list[dict[str, Any]]]:
        return httpx.get(f"{self.server.url}/_admin/objects", timeout=30).json()

    def remote_names(self) -> set[str]:
        return {o["name"] for o in self.objects()["objects"] if o["bucket"] == BUCKET}

    def remote_state(self) -> dict[str, Any] | None:
        if self._reader is None:  # one client for polling (cheap enough to poll every 30 ms)
            self._reader = self.backend()
        got = self._reader._get(f"{PREFIX}/default.json")
        return None if got is None else json.loads(got[0])

    def wait_for(self, predicate: Callable[[], bool], timeout_s: float = 20.0, what: str = "") -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.03)
        raise AssertionError(f"timed out waiting for {what or predicate}")


@pytest.fixture
def signed_emulator(make_emulator: Callable[..., EmulatorServer], iam: IamFiles) -> EmulatorServer:
    return make_emulator(api_keys=[], signing_keys={iam.user_key_id: iam.public_pem})


@pytest.fixture
def project(tmp_path: Path, signed_emulator: EmulatorServer, iam: IamFiles) -> RemoteProject:
    return RemoteProject(tmp_path / "proj", signed_emulator, iam)
