"""Helpers for the emulator tests: httpx clients for the two API bases with the headers OCI wants,
bounded polling, and uploads/stores that wait the way a careful client has to."""

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
SERVER_KEYS = {"oci_embedding_model", "oci_index_id"}


def client(srv: EmulatorServer, **kw: Any) -> httpx.Client:
    """The data plane (/openai/v1): files, store files, batches, search, containers."""
    headers = dict(HEADERS)
    headers.update(kw.pop("headers", {}))
    kw.setdefault("base_url", srv.inference_base)
    kw.setdefault("timeout", 30)
    return httpx.Client(headers=headers, **kw)


def mgmt(srv: EmulatorServer, **kw: Any) -> httpx.Client:
    """The management prefix (/20231130/openai/v1): vector-store create/list/get/update/delete."""
    return client(srv, base_url=srv.management_base, **kw)


def admin_objects(srv: EmulatorServer) -> dict[str, Any]:
    return httpx.get(f"{srv.url}/_admin/objects").json()


def wait_for(fn: Any, timeout: float = 10.0, interval: float = 0.02) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(interval)


def upload(c: httpx.Client, name: str, data: bytes, purpose: str = "assistants", **fields: str) -> dict[str, Any]:
    """Upload a File (it starts `uploaded`; see `processed`)."""
    r = c.post("/files", files={"file": (name, data)}, data={"purpose": purpose, **fields})
    assert r.status_code == 200, r.text
    return r.json()


def processed(c: httpx.Client, *files: dict[str, Any]) -> None:
    """Wait until every File is `processed` (what files.wait_for_processing does)."""
    for f in files:
        wait_for(lambda f=f: c.get(f"/files/{f['id']}").json()["status"] == "processed")


def upload_ready(c: httpx.Client, name: str, data: bytes, purpose: str = "assistants", **fields: str) -> dict[str, Any]:
    f = upload(c, name, data, purpose, **fields)
    processed(c, f)
    return c.get(f"/files/{f['id']}").json()


def make_store(c: httpx.Client, **body: Any) -> dict[str, Any]:
    """Create a store with a management client; it is not visible to the data plane yet."""
    r = c.post("/vector_stores", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def visible(dp: httpx.Client, vs_id: str) -> None:
    """Wait until the data plane sees the store."""
    wait_for(lambda: dp.get(f"/vector_stores/{vs_id}/files", params={"limit": 1}).status_code == 200)


def new_store(srv: EmulatorServer, **body: Any) -> dict[str, Any]:
    """Create a store (management) and wait until the data plane sees it."""
    with mgmt(srv) as cp, client(srv) as dp:
        vs = make_store(cp, **body)
        visible(dp, vs["id"])
        return vs


def wait_store_done(srv: EmulatorServer, vs_id: str) -> dict[str, Any]:
    """Wait until no attachment of the store is in progress and it is ready (management GET)."""
    with mgmt(srv) as cp:

        def done() -> dict[str, Any] | None:
            vs = cp.get(f"/vector_stores/{vs_id}").json()
            return vs if vs["status"] != "in_progress" else None

        return wait_for(done)


def err(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()["error"]
    assert set(body) == {"message", "type", "param", "code"}
    return body


def missing(r: httpx.Response, status: int = 404) -> dict[str, Any]:
    """OCI's answer for a missing object."""
    e = err(r, status)
    assert e["code"] == "NotAuthorizedOrNotFound" and "not found, or you are not authorized" in e["message"], e
    return e


def user_metadata(vs: dict[str, Any]) -> dict[str, str]:
    return {k: v for k, v in vs["metadata"].items() if k not in SERVER_KEYS}


def in_list_order(objs: list[dict[str, Any]], order: str = "desc") -> list[str]:
    """Ids of `objs` (given in creation order) in the server's list order: by created_at, ascending
    or descending, and ties in creation order either way (a stable sort)."""
    sign = -1 if order == "desc" else 1
    return [o["id"] for o in sorted(objs, key=lambda o: sign * o["created_at"])]
