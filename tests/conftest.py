"""Shared fixtures. `emulator`: a started EmulatorServer (tmp data dir, api_keys=["test-key"],
project header required, tiny ingest delay, otherwise the emulator's strict OCI defaults).
`make_emulator(variant="default", **overrides)`: the same for a named variant (see
ocigen_iac.emulator.VARIANTS) with EmulatorConfig overrides; every server it makes is stopped at the
end of the test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ocigen_iac.emulator import EmulatorConfig, EmulatorServer


@pytest.fixture(scope="session")
def rsa_key() -> Any:
    """One RSA key for the session's IAM-signed tests (generating one takes a moment)."""
    from tests.api.iam_keys import new_key

    return new_key()


@pytest.fixture
def iam(tmp_path: Path, rsa_key: Any) -> Any:
    """An ~/.oci/config-style profile and key files for `rsa_key` (tests.api.iam_keys.IamFiles)."""
    from tests.api.iam_keys import write_iam_files

    return write_iam_files(tmp_path / "oci", rsa_key)


@pytest.fixture
def make_emulator(tmp_path: Path) -> Iterator[Callable[..., EmulatorServer]]:
    servers: list[EmulatorServer] = []

    def make(variant: str = "default", **overrides: Any) -> EmulatorServer:
        cfg = {
            "data_dir": tmp_path / f"emulator-{len(servers)}",
            "api_keys": ["test-key"],
            "ingest_delay_s": 0.01,
            # still not ready at once (clients must wait), but quicker than the emulator's defaults
            "store_ready_delay_s": 0.3,
            "file_process_delay_s": 0.1,
        }
        cfg.update(overrides)
        srv = EmulatorServer(EmulatorConfig.for_variant(variant, **cfg), host="127.0.0.1", port=0)
        servers.append(srv)
        return srv.start()

    yield make
    for srv in servers:
        srv.stop()


@pytest.fixture
def emulator(make_emulator: Callable[..., EmulatorServer]) -> EmulatorServer:
    return make_emulator()
