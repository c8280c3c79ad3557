"""Helpers for the emulator tests: an httpx client with the headers OCI wants, polling, uploads."""

from __future__ import annotations

import time
from typing import Any

import httpx

from ocigen_iac.emulator import EmulatorServer

HEADERS = {
    "Authorization": "Bearer test-key",
    "OpenAI-Project": "ocid1.generativeaiproject.oc1..test",
    "opc-compartment-id": "ocid1.compartment.oc1..test",
}


def client(srv: EmulatorServer, **kw: Any) -> httpx.Client:
    headers = dict(HEADERS)
    headers.update(kw.pop("headers", {}))
    kw.setdefault("base_url", srv.inference_base)
    kw.setdefault("timeout", 30)
    return httpx.Client(headers=headers, **kw)


def upload(c: httpx.Client, name: str, data: bytes, purpose: str = "assistants", **fields: str) -> dict[str, Any]:
    r = c.post("/files", files={"file": (name, data)}, data={"purpose": purpose, **fields})
    assert r.status_code == 200, r.text
    return r.json()


def make_store(c: httpx.Client, **body: Any) -> dict[str, Any]:
    r = c.post("/vector_stores", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def wait_for(fn: Any, timeout: float = 10.0, interval: float = 0.02) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(interval)


def wait_store_done(c: httpx.Client, vs_id: str) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        vs = c.get(f"/vector_stores/{vs_id}").json()
        return vs if vs["file_counts"]["in_progress"] == 0 else None

    return wait_for(done)


def err(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()["error"]
    assert set(body) == {"message", "type", "param", "code"}
    return body
