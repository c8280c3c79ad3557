"""A project on disk that bootstraps OCI Generative AI from one apply (Project, VectorStore, a File,
a Container, ObjectStorageObjects, VectorStoreConnector) against an emulator that takes the
data-plane API key and verifies the IAM signatures of the control plane and Object Storage
(`auth.type: api_key` signs those with the config profile, as on OCI)."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from ocigen_iac.emulator import EmulatorServer
from tests.api.iam_keys import IamFiles
from tests.engine.harness import Result

oci = pytest.importorskip("oci")

KEY_ENV = "OCIGEN_TEST_API_KEY"
API_KEY = "test-key"
COMPARTMENT = "ocid1.compartment.oc1..bootstrap"
NAMESPACE = "emulatorns"
BUCKET = "kb-docs"

MANIFEST = """\
apiVersion: ocigen-iac/v1
kind: Project
metadata: {name: agents}
spec:
  display_name: agents-${var.env}
  conversation_config: {responses_retention_in_hours: 24, conversations_retention_in_hours: 72}
  freeform_tags: {team: support}
---
apiVersion: ocigen-iac/v1
kind: File
metadata: {name: prices}
spec: {path: data/prices.csv}
---
apiVersion: ocigen-iac/v1
kind: Container
metadata: {name: sandbox}
spec: {files: [prices]}
---
apiVersion: ocigen-iac/v1
kind: VectorStore
metadata: {name: handbook}
spec:
  name: handbook-${var.env}
---
apiVersion: ocigen-iac/v1
kind: ObjectStorageObjects
metadata: {name: docs}
spec:
  bucket: kb-docs
  prefix: handbook/
  path: docs
---
apiVersion: ocigen-iac/v1
kind: VectorStoreConnector
metadata: {name: docs-sync}
spec:
  vector_store: handbook
  configuration:
    buckets: [{bucket: kb-docs, prefixes: [handbook/]}]
  schedule: {frequency: DAILY, interval: 1}
  sync: on_apply
  tolerate_failed_files: 0
"""
DOCS = {
    "vacation.md": "# Vacation\n\nEmployees get twenty-five vacation days per year.\n",
    "expenses.md": "# Expenses\n\nExpenses are reimbursed within thirty days of submission.\n",
    "onboarding/first-day.txt": "Onboarding starts with a laptop, a badge and a buddy.\n",
}


class Bootstrap:
    """The project, the CLI, and direct looks at the emulator (signed SDK, data plane, admin)."""

    def __init__(self, root: Path, server: EmulatorServer, iam: IamFiles, *, profile: str = "DEFAULT") -> None:
        self.root = root
        self.server = server
        self.iam = iam
        (root / "manifests" / "docs" / "onboarding").mkdir(parents=True)
        (root / "manifests" / "data").mkdir()
        (root / "manifests" / "data" / "prices.csv").write_text("item,price\nwidget,3\n")
        self.manifest = root / "manifests" / "bootstrap.yaml"
        self.manifest.write_text(MANIFEST)
        for rel, text in DOCS.items():
            self.doc(rel).write_text(text)
        self.write_config(profile)
        from oci.generative_ai import GenerativeAiClient
        from oci.object_storage import ObjectStorageClient

        config = oci.config.from_file(str(iam.config_file), "DEFAULT")
        none = oci.retry.NoneRetryStrategy()
        self.ai = GenerativeAiClient(config, service_endpoint=server.url, retry_strategy=none)
        self.os = ObjectStorageClient(config, service_endpoint=server.url, retry_strategy=none)

    def write_config(self, profile: str = "DEFAULT", extra: str = "") -> None:
        s = self.server
        (self.root / "ocigen.yaml").write_text(textwrap.dedent(f"""\
            region: us-chicago-1
            compartment: {COMPARTMENT}
            owner: tests/bootstrap
            auth: {{type: api_key, api_key_env: {KEY_ENV}, profile: {profile}, config_file: {self.iam.config_file}}}
            endpoints:
              inference: {s.inference_base}
              vector_stores: {s.management_base}
              control_plane: {s.url}
              object_storage: {s.url}
            vars: {{env: test}}
            """) + extra)

    def doc(self, rel: str) -> Path:
        return self.root / "manifests" / "docs" / rel

    def edit(self, old: str, new: str) -> None:
        text = self.manifest.read_text()
        assert old in text
        self.manifest.write_text(text.replace(old, new))

    # --- the CLI ------------------------------------------------------------------------------
    def run(self, *args: str) -> Result:
        cwd = os.getcwd()
        os.chdir(self.root)
        try:
            from ocigen_iac.cli import app

            r = CliRunner().invoke(app, list(args), env={KEY_ENV: API_KEY}, catch_exceptions=False)
        finally:
            os.chdir(cwd)
        return Result(r.exit_code, r.stdout, r.stderr)

    def apply(self, *extra: str) -> Result:
        r = self.run("apply", "manifests", "--auto-approve", *extra)
        assert r.exit_code == 0, r.output
        return r

    def assert_no_changes(self) -> None:
        r = self.run("plan", "manifests")
        assert r.exit_code == 0, r.output
        assert "No changes." in r.stdout, r.output

    # --- state and the service ----------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        import json

        return json.loads((self.root / ".ocigen" / "state" / "default.json").read_text())

    def state_id(self, address: str) -> str:
        return self.state()["resources"][address]["id"]

    def admin(self) -> dict[str, Any]:
        return httpx.get(f"{self.server.url}/_admin/objects", timeout=30).json()

    def bucket(self) -> dict[str, dict[str, Any]]:
        """object name -> {etag, size} in the bucket."""
        return {o["name"]: o for o in self.admin()["objects"] if o["bucket"] == BUCKET}

    def data_plane(self, project: str) -> httpx.Client:
        return httpx.Client(base_url=self.server.inference_base, timeout=30,
                            headers={"Authorization": f"Bearer {API_KEY}", "OpenAI-Project": project})

    def store_documents(self, project: str, store_id: str) -> dict[str, str]:
        """filename -> ingestion status of every file attached to the store."""
        dp = self.data_plane(project)
        out = {}
        for vsf in dp.get(f"/vector_stores/{store_id}/files", params={"limit": 100}).json()["data"]:
            out[dp.get(f"/files/{vsf['id']}").json()["filename"]] = vsf["status"]
        return out

    def search(self, project: str, store_id: str, query: str) -> list[str]:
        r = self.data_plane(project).post(f"/vector_stores/{store_id}/search", json={"query": query})
        assert r.status_code == 200, r.text
        return [hit["filename"] for hit in r.json()["data"]]


@pytest.fixture
def signed_emulator(make_emulator: Callable[..., EmulatorServer], iam: IamFiles) -> EmulatorServer:
    return make_emulator(api_keys=[API_KEY], signing_keys={iam.user_key_id: iam.public_pem},
                         control_plane_delay_s=0.05)


@pytest.fixture
def boot(tmp_path: Path, signed_emulator: EmulatorServer, iam: IamFiles) -> Bootstrap:
    return Bootstrap(tmp_path / "proj", signed_emulator, iam)
