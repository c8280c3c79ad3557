"""Fixtures for API client tests against the emulator over real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
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


async def ready_store(c: Any, body: dict[str, Any]) -> Any:
    """Create a store and wait until it is `completed` and the data plane answers for it: what a
    careful caller of the raw client has to do (the engine does it in its vector-store kind)."""
    from ocigen_iac.api import NotFound

    vs = await c.create_vector_store(body)
    for _ in range(400):  # bounded: 400 x 25 ms
        vs = await c.get_vector_store(vs.id)
        if vs.status == "completed":
            try:
                [x async for x in c.iter_vector_store_files(vs.id)]
                return vs
            except NotFound:
                pass
        await asyncio.sleep(0.025)
    raise AssertionError(f"store {vs.id} never became ready")


async def processed(c: Any, f: Any) -> Any:
    """Wait until a File is `processed` (files.wait_for_processing)."""
    for _ in range(400):
        f = await c.get_file(f.id)
        if f.status == "processed":
            return f
        await asyncio.sleep(0.025)
    raise AssertionError(f"file {f.id} never got processed")
