"""Fixtures for API client tests against the emulator over real HTTP on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ocigen_iac.settings import AuthSettings, Settings

API_KEY = "sk-emu-KNOWN-KEY-0123456789abcdef"
PROJECT = "ocid1.generativeaiproject.oc1..emu"
COMPARTMENT = "ocid1.compartment.oc1..emu"


def _emulator_api() -> Any:
    try:
        from ocigen_iac import emulator
    except ImportError:  # pragma: no cover
        pytest.skip("ocigen_iac.emulator is not importable yet")
    if not all(hasattr(emulator, n) for n in ("EmulatorServer", "EmulatorConfig", "Faults")):
        pytest.skip("ocigen_iac.emulator does not export EmulatorServer/EmulatorConfig/Faults yet")
    return emulator


@pytest.fixture
def start_emulator(tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """start_emulator(**EmulatorConfig kwargs) -> a started EmulatorServer (stopped at teardown)."""
    emu = _emulator_api()
    servers: list[Any] = []

    def start(**cfg: Any) -> Any:
        cfg.setdefault("api_keys", [API_KEY])
        cfg.setdefault("ingest_delay_s", 0.0)
        server = emu.EmulatorServer(emu.EmulatorConfig(tmp_path / f"emu{len(servers)}", **cfg),
                                    host="127.0.0.1", port=0)
        server.start()
        servers.append(server)
        return server

    yield start
    for s in servers:
        s.stop()


@pytest.fixture
def faults_cls() -> Any:
    return _emulator_api().Faults


def emu_settings(server: Any, **kw: Any) -> Settings:
    base: dict[str, Any] = dict(
        root=Path("."), env="test", project=PROJECT, compartment=COMPARTMENT,
        inference_base=server.inference_base, vector_store_base=server.management_base,
        auth=AuthSettings(),
    )
    base.update(kw)
    return Settings(**base)


def admin(server: Any, method: str, path: str, body: Any = None) -> Any:
    r = httpx.request(method, f"{server.url.rstrip('/')}/_admin/{path}", json=body, timeout=60)
    r.raise_for_status()
    return r.json()
