"""Shared helpers for the API client tests: settings, a fake clock, a mock HTTP service."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import httpx

from ocigen_iac.api import ClientOptions, Clock, GenAIClient
from ocigen_iac.settings import AuthSettings, Settings

T = TypeVar("T")

INF = "http://svc.test/openai/v1"
MGMT = "http://svc.test/20231130/openai/v1"


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def settings(**kw: Any) -> Settings:
    base: dict[str, Any] = dict(
        root=Path("."), env="test", project="ocid1.generativeaiproject.oc1..p",
        compartment="ocid1.compartment.oc1..c", inference_base=INF, vector_store_base=MGMT,
        auth=AuthSettings(),
    )
    base.update(kw)
    return Settings(**base)


class FakeClock(Clock):
    """Sleeps advance a virtual clock instantly; records every wait."""

    def __init__(self, rand: float = 0.5) -> None:
        self.now = 1000.0
        self.wall = 1_700_000_000.0
        self.sleeps: list[float] = []
        self.rand = rand

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return self.wall

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        self.wall += seconds

    def random(self) -> float:
        return self.rand


def mock_client(
    handler: Callable[[httpx.Request], httpx.Response],
    *,
    opts: ClientOptions | None = None,
    clock: Clock | None = None,
    api_key: str | None = "sk-test-key",
    **settings_kw: Any,
) -> GenAIClient:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return GenAIClient(settings(**settings_kw), opts or ClientOptions(), api_key=api_key,
                       clock=clock or FakeClock(), http=http)
