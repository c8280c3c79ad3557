"""Fixtures for the safety tests: projects with their own manifests on one emulator (several
checkouts can share it), and a remote-state project whose checks read the data plane."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from ocigen_iac.emulator import EmulatorServer
from tests.api.iam_keys import IamFiles, new_key, write_iam_files
from tests.engine.harness import API_KEY, COMPARTMENT, PROJECT, Project
from tests.state_remote.conftest import RemoteProject


def data_plane(server: EmulatorServer) -> httpx.Client:
    return httpx.Client(base_url=server.inference_base, timeout=30,
                        headers={"Authorization": f"Bearer {API_KEY}", "OpenAI-Project": PROJECT,
                                 "opc-compartment-id": COMPARTMENT})


@pytest.fixture
def server(make_emulator: Callable[..., EmulatorServer]) -> EmulatorServer:
    return make_emulator()


@pytest.fixture
def make_project(tmp_path: Path, server: EmulatorServer) -> Callable[..., Project]:
    """make_project(name="a", example_manifests=False, extra_config="") -> a checkout on `server`."""

    def make(name: str = "proj", *, example_manifests: bool = False, extra_config: str = "") -> Project:
        return Project(tmp_path / name, server, extra_config=extra_config, example_manifests=example_manifests)

    return make


@pytest.fixture
def examples(make_project: Callable[..., Project]) -> Project:
    """A checkout of the example manifests (manifests/), not applied yet."""
    return make_project("examples", example_manifests=True)


class RemoteCheckout(RemoteProject):
    """RemoteProject (state on the emulator's Object Storage) plus what the checks need."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.http = data_plane(self.server)
        self.cli_env = {"OCIGEN_STATE_PUSH_INTERVAL": "0"}  # push the state after every call

    def state(self) -> dict[str, Any]:
        got = self.remote_state()
        assert got is not None, "no remote state"
        return got


@pytest.fixture
def remote_checkout(tmp_path: Path, make_emulator: Callable[..., EmulatorServer]) -> Callable[..., RemoteCheckout]:
    """remote_checkout(docs=N) -> a project with N docs (manifests/docs/docI.md, File `docs`, store `kb`)
    and `state: {backend: oci}` on an emulator that takes both signatures and the test API key."""
    iam: IamFiles = write_iam_files(tmp_path / "oci", new_key())
    srv = make_emulator(api_keys=[API_KEY], signing_keys={iam.user_key_id: iam.public_pem})

    def make(docs: int = 4) -> RemoteCheckout:
        return RemoteCheckout(tmp_path / "remote", srv, iam, docs=docs)

    return make
