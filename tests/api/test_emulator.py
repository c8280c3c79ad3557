"""The client against the emulator over real HTTP: every call, pagination, faults, IAM signing."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from ocigen_iac.api import (
    AuthFailed,
    ClientOptions,
    GenAIClient,
    NotFound,
    OutcomeUnknown,
    RateLimited,
)
from ocigen_iac.settings import AuthSettings

from .conftest import API_KEY, admin, emu_settings, processed, ready_store
from .helpers import run
from .iam_keys import new_key, write_iam_files

FAST = ClientOptions(backoff_base_s=0.01, backoff_cap_s=0.05, max_attempts=8, deadline_s=30)


def client(server: Any, opts: ClientOptions = FAST, **kw: Any) -> GenAIClient:
    api_key = kw.pop("api_key", API_KEY)
    return GenAIClient(emu_settings(server, **kw), opts, api_key=api_key)


def test_every_call_round_trip(start_emulator: Any, tmp_path: Path) -> None:
    server = start_emulator(downloads_allowed=True)  # content download is refused by default (tested there)
    doc = tmp_path / "handbook.md"
    doc.write_text("# Handbook\n\nRefunds are processed within 14 days.\n")
    data = tmp_path / "prices.csv"
    data.write_text("sku,price\na,1\n")

    async def go() -> None:
        async with client(server) as c:
            progress: list[int] = []
            f = await c.create_file(doc, purpose="assistants", filename="handbook.md",
                                    expires_after={"anchor": "created_at", "seconds": 7200},
                                    progress=progress.append)
            assert f.filename == "handbook.md" and f.bytes == doc.stat().st_size and f.expires_at
            assert progress[-1] == doc.stat().st_size
            assert (await c.get_file(f.id)).id == f.id
            assert await c.file_content(f.id) == doc.read_bytes()
            assert [x.id async for x in c.iter_files(purpose="assistants")] == [f.id]
            f2 = await c.create_file(data, purpose="assistants", filename="prices.csv")
            f, f2 = await processed(c, f), await processed(c, f2)

            vs = await ready_store(c, {"name": "kb", "metadata": {"team": "support"}})
            assert (await c.get_vector_store(vs.id)).name == "kb"
            vs = await c.update_vector_store(vs.id, {"name": "kb2"})
            assert vs.name == "kb2"
            assert vs.id in [v.id async for v in c.iter_vector_stores()]

            vsf = await c.attach_file(vs.id, f.id, attributes={"section": "faq"})
            assert vsf.id == f.id
            again = await c.attach_file(vs.id, f.id, attributes={"section": "faq"})  # idempotent
            assert again.id == f.id
            upd = await c.update_vector_store_file(vs.id, f.id, {"section": "policy"})
            assert upd.attributes == {"section": "policy"}
            assert (await c.get_vector_store_file(vs.id, f.id)).id == f.id
            assert [x.id async for x in c.iter_vector_store_files(vs.id)] == [f.id]

            batch = await c.create_file_batch(vs.id, [f2.id], attributes={"k": "v"})
            assert batch.object in ("vector_store.files_batch", "vector_store.file_batch")
            assert (await c.get_file_batch(vs.id, batch.id)).id == batch.id
            assert [x.id async for x in c.iter_file_batch_files(vs.id, batch.id)] == [f2.id]
            await c.cancel_file_batch(vs.id, batch.id)
            res = await c.search(vs.id, "refunds", max_num_results=5)
            assert isinstance(res.get("data"), list)

            cn = await c.create_container({"name": "sandbox", "memory_limit": "1g"})
            assert (await c.get_container(cn.id)).name == "sandbox"
            assert [x.id async for x in c.iter_containers(name="sandbox")] == [cn.id]
            cf1 = await c.create_container_file(cn.id, path=data)
            cf2 = await c.create_container_file(cn.id, file_id=f.id)
            assert {x.id async for x in c.iter_container_files(cn.id)} == {cf1.id, cf2.id}
            await c.delete_container_file(cn.id, cf1.id)
            await c.delete_container(cn.id)

            await c.detach_file(vs.id, f.id)
            await c.delete_vector_store(vs.id)
            await c.delete_file(f.id)
            with pytest.raises(NotFound):
                await c.delete_file(f.id)
            with pytest.raises(NotFound) as ei:
                await c.get_vector_store(vs.id)
            assert "management endpoint" in str(ei.value)
            assert c.stats["retries"] == 0

    run(go())


def test_pagination_over_more_than_one_page_for_each_list(start_emulator: Any) -> None:
    server = start_emulator()
    ids = admin(server, "POST", "seed_files", {"count": 10_050, "size": 16})["ids"]

    async def go() -> None:
        async with client(server, ClientOptions(parallelism=16)) as c:
            got = [f.id async for f in c.iter_files()]
            assert sorted(got) == sorted(ids) and len(got) == 10_050
            assert c.stats["requests"]["GET /files"] == 2  # pages of 10,000 + 50

            import asyncio

            first = await ready_store(c, {"name": "s0"})
            before = dict(c.stats["requests"])  # the readiness wait read the store and its (empty) files
            stores = [first, *await asyncio.gather(*(c.create_vector_store({"name": f"s{i}"}) for i in range(1, 101)))]
            assert {v.id async for v in c.iter_vector_stores()} == {s.id for s in stores}
            vs = stores[0].id
            batch = await c.create_file_batch(vs, ids[:120])
            assert len({x.id async for x in c.iter_file_batch_files(vs, batch.id)}) == 120
            assert len({x.id async for x in c.iter_vector_store_files(vs)}) == 120
            conts = await asyncio.gather(*(c.create_container({"name": f"c{i}"}) for i in range(101)))
            assert {x.id async for x in c.iter_containers()} == {x.id for x in conts}
            cid = conts[0].id
            cfs = await asyncio.gather(*(c.create_container_file(cid, file_id=i) for i in ids[:101]))
            assert {x.id async for x in c.iter_container_files(cid)} == {x.id for x in cfs}
            lists = {k: v - (before.get(k, 0) if k.startswith("GET /vector_stores") else 0)
                     for k, v in c.stats["requests"].items() if k.startswith("GET") and k != "GET /vector_stores/{id}"}
            assert lists == {"GET /files": 2, "GET /vector_stores": 2, "GET /vector_stores/{id}/files": 2,
                             "GET /vector_stores/{id}/file_batches/{id}/files": 2, "GET /containers": 2,
                             "GET /containers/{id}/files": 2}

    run(go())


def test_idempotent_calls_survive_429_5xx_and_drops(start_emulator: Any, faults_cls: Any) -> None:
    server = start_emulator()

    async def setup() -> tuple[str, str]:
        async with client(server) as c:
            vs = await c.create_vector_store({"name": "kb"})
            cn = await c.create_container({"name": "box"})
            return vs.id, cn.id

    vs_id, cn_id = run(setup())
    server.set_faults(faults_cls(rate_429=0.25, retry_after_s=0.01, rate_5xx=0.2, rate_drop=0.15))

    async def go() -> dict[str, Any]:
        async with client(server, ClientOptions(backoff_base_s=0.005, backoff_cap_s=0.02,
                                                max_attempts=15, deadline_s=30)) as c:
            for _ in range(30):
                assert (await c.get_vector_store(vs_id)).id == vs_id
                assert (await c.get_container(cn_id)).id == cn_id
                await c.update_vector_store(vs_id, {"metadata": {"k": "v"}})
                assert [v.id async for v in c.iter_vector_stores()] == [vs_id]
            return c.stats

    stats = run(go())
    injected = server.counters()["injected"]
    assert injected["429"] and injected["5xx"] and injected["drop"]
    assert stats["retries"] == injected["429"] + injected["5xx"] + injected["drop"]
    assert stats["retry_reasons"].get("HTTP 429") == injected["429"]


def test_waits_honour_retry_after(start_emulator: Any, faults_cls: Any) -> None:
    server = start_emulator()
    server.set_faults(faults_cls(rate_429=1.0, retry_after_s=0.4))
    stamps: list[tuple[float, str]] = []

    def log(line: str) -> None:
        stamps.append((time.monotonic(), line))
        if "-> 429" in line:
            server.set_faults(faults_cls())  # the next attempt goes through

    async def go() -> None:
        async with client(server, ClientOptions(backoff_base_s=0.001, backoff_cap_s=0.001,
                                                debug_log=log)) as c:
            assert [x async for x in c.iter_containers()] == []

    run(go())
    responses = [(t, line) for t, line in stamps if " -> " in line]
    assert "-> 429" in responses[0][1] and "-> 200" in responses[1][1]
    gap = responses[1][0] - responses[0][0]
    assert gap >= 0.4, gap  # at least Retry-After, whatever the backoff settings say


def test_429_beyond_the_cap_fails_clearly(start_emulator: Any, faults_cls: Any) -> None:
    server = start_emulator()
    server.set_faults(faults_cls(rate_429=1.0, retry_after_s=500))

    async def go() -> None:
        async with client(server) as c:
            await c.get_file("file-x")

    with pytest.raises(RateLimited, match="asked to wait 500 s"):
        run(go())


@pytest.mark.parametrize("route,op", [
    ("POST /files", "create_file"),
    ("POST /vector_stores", "create_vector_store"),
    ("POST /containers", "create_container"),
])
def test_lost_create_is_outcome_unknown_and_created_once(start_emulator: Any, faults_cls: Any,
                                                          tmp_path: Path, route: str, op: str) -> None:
    server = start_emulator()
    src = tmp_path / "a.txt"
    src.write_text("payload")
    server.set_faults(faults_cls(rate_lost_create=1.0, routes=[route]))
    calls = {
        "create_file": lambda c: c.create_file(src, purpose="assistants", filename="a.txt"),
        "create_vector_store": lambda c: c.create_vector_store({"name": "x"}),
        "create_container": lambda c: c.create_container({"name": "x"}),
    }

    async def go() -> dict[str, Any]:
        async with client(server) as c:
            with pytest.raises(OutcomeUnknown) as ei:
                await calls[op](c)
            assert ei.value.operation == op
            return c.stats

    stats = run(go())
    assert stats["attempts"] == 1 and stats["outcome_unknown"] == 1
    objs = admin(server, "GET", "objects")
    key = {"create_file": "files", "create_vector_store": "vector_stores",
           "create_container": "containers"}[op]
    assert len(objs[key]) == 1, objs[key]


def test_creates_retried_only_when_not_applied(start_emulator: Any, faults_cls: Any) -> None:
    server = start_emulator()
    # 429 means "not applied": retried, and exactly one object results
    server.set_faults(faults_cls(rate_429=0.5, retry_after_s=0.01, routes=["POST /containers"]))

    async def go() -> None:
        async with client(server, ClientOptions(backoff_base_s=0.001, max_attempts=30)) as c:
            for i in range(10):
                await c.create_container({"name": f"c{i}"})

    run(go())
    assert len(admin(server, "GET", "objects")["containers"]) == 10
    assert server.counters()["injected"]["429"] > 0

    # a 500 (or a dropped connection) after the body was sent is not retried
    server.set_faults(faults_cls(rate_5xx=1.0, routes=["POST /containers"]))

    async def go2() -> None:
        async with client(server) as c:
            with pytest.raises(OutcomeUnknown):
                await c.create_container({"name": "x"})
            assert c.stats["attempts"] == 1

    run(go2())
    server.set_faults(faults_cls(rate_drop=1.0, routes=["POST /containers"]))
    run(go2())
    assert len(admin(server, "GET", "objects")["containers"]) == 10


# ---------------------------------------------------------------- IAM signing


@pytest.mark.parametrize("kind,profile", [("user_principal", "DEFAULT"), ("session", "SESSION")])
def test_signed_requests_accepted(start_emulator: Any, tmp_path: Path, kind: str, profile: str) -> None:
    iam = write_iam_files(tmp_path / "oci")
    key_id = iam.user_key_id if kind == "user_principal" else iam.session_key_id
    server = start_emulator(api_keys=[], signing_keys={key_id: iam.public_pem}, downloads_allowed=True)
    src = tmp_path / "doc.txt"
    src.write_bytes(b"signed upload\n" * 5000)
    auth = AuthSettings(type=kind, profile=profile, config_file=str(iam.config_file))  # type: ignore[arg-type]

    async def go() -> None:
        async with client(server, api_key=None, auth=auth) as c:
            f = await c.create_file(src, purpose="assistants", filename="doc.txt")
            assert f.bytes == src.stat().st_size
            assert await c.file_content(f.id) == src.read_bytes()
            f = await processed(c, f)
            vs = await ready_store(c, {"name": "signed"})
            await c.attach_file(vs.id, f.id)
            await c.cancel_file_batch(vs.id, (await c.create_file_batch(vs.id, [f.id])).id)
            cn = await c.create_container({"name": "signed"})
            await c.create_container_file(cn.id, path=src, filename="doc.txt")
            await c.delete_container(cn.id)
            await c.delete_vector_store(vs.id)
            await c.delete_file(f.id)

    run(go())


def test_wrong_signing_key_refused_readably(start_emulator: Any, tmp_path: Path) -> None:
    iam = write_iam_files(tmp_path / "oci")
    other = new_key()
    from .iam_keys import public_pem

    server = start_emulator(api_keys=[], signing_keys={iam.user_key_id: public_pem(other)})
    auth = AuthSettings(type="user_principal", profile="DEFAULT", config_file=str(iam.config_file))

    async def go() -> None:
        async with client(server, api_key=None, auth=auth) as c:
            await c.get_file("file-x")

    with pytest.raises(AuthFailed) as ei:
        run(go())
    text = str(ei.value)
    assert ei.value.status == 401
    assert f"authentication failed using user_principal profile DEFAULT ({iam.config_file})" in text
    assert "signature does not verify" in text.lower()


def test_wrong_api_key_refused_readably(start_emulator: Any) -> None:
    server = start_emulator()

    async def go() -> None:
        async with client(server, api_key="sk-wrong-key-000") as c:
            await c.iter_files().__anext__()

    with pytest.raises(AuthFailed) as ei:
        run(go())
    assert "authentication failed using api_key from the api_key argument" in str(ei.value)
    assert "sk-wrong-key-000" not in str(ei.value)


def test_parallelism_bounds_in_flight_requests(start_emulator: Any, faults_cls: Any) -> None:
    server = start_emulator()
    server.set_faults(faults_cls(latency_ms=30))
    lock = threading.Lock()
    state = {"now": 0, "max": 0}
    orig_send = None

    async def go() -> None:
        nonlocal orig_send
        import asyncio

        async with client(server, ClientOptions(parallelism=3)) as c:
            orig_send = c._t.http.send

            async def counting_send(*a: Any, **k: Any) -> Any:
                with lock:
                    state["now"] += 1
                    state["max"] = max(state["max"], state["now"])
                try:
                    return await orig_send(*a, **k)
                finally:
                    with lock:
                        state["now"] -= 1

            c._t.http.send = counting_send  # type: ignore[method-assign]
            await asyncio.gather(*(c.get_file(f"file-{i}") for i in range(12)), return_exceptions=True)

    run(go())
    assert state["max"] == 3


def test_file_changing_mid_upload_aborts_without_creating(start_emulator: Any, tmp_path: Path) -> None:
    from ocigen_iac.api import UploadChanged

    server = start_emulator()
    src = tmp_path / "grows.bin"
    src.write_bytes(b"a" * (3 * 1024 * 1024))

    def grow(sent: int) -> None:
        if sent <= 1024 * 1024:
            with open(src, "ab") as fh:
                fh.write(b"b" * (2 * 1024 * 1024))

    async def go() -> None:
        async with client(server) as c:
            await c.create_file(src, purpose="assistants", filename="grows.bin", progress=grow)

    with pytest.raises(UploadChanged):
        run(go())
    assert admin(server, "GET", "objects")["files"] == []


@pytest.mark.parametrize("kind,factory", [
    ("instance_principal", "InstancePrincipalsSecurityTokenSigner"),
    ("resource_principal", "get_resource_principals_signer"),
])
def test_principal_flavours_sign_with_the_oci_signer(start_emulator: Any, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch, kind: str,
                                                      factory: str) -> None:
    """No IMDS / RPST here: the oci factory is replaced by a key-file signer, the wiring is real."""
    import oci.auth.signers
    import oci.signer

    from .iam_keys import TENANCY, USER

    iam = write_iam_files(tmp_path / "oci")
    fp = iam.user_key_id.rsplit("/", 1)[1]
    made: list[Any] = []

    def fake(**kw: Any) -> Any:
        made.append(kw)
        return oci.signer.Signer(TENANCY, USER, fp, str(tmp_path / "oci" / "oci_api_key.pem"))

    monkeypatch.setattr(oci.auth.signers, factory, fake)
    server = start_emulator(api_keys=[], signing_keys={iam.user_key_id: iam.public_pem})
    src = tmp_path / "doc.txt"
    src.write_text("principal upload")

    async def go() -> None:
        async with client(server, api_key=None, auth=AuthSettings(type=kind)) as c:  # type: ignore[arg-type]
            f = await c.create_file(src, purpose="assistants", filename="doc.txt")
            assert (await c.get_file(f.id)).bytes == len("principal upload")
            assert c.auth_description == kind

    run(go())
    assert len(made) == 1  # built lazily, once

    def broken(**kw: Any) -> Any:
        raise RuntimeError("Could not reach the instance metadata service at 169.254.169.254")

    monkeypatch.setattr(oci.auth.signers, factory, broken)

    async def go2() -> None:
        async with client(server, api_key=None, auth=AuthSettings(type=kind)) as c:  # type: ignore[arg-type]
            await c.get_file("file-x")

    with pytest.raises(AuthFailed, match=f"cannot load credentials for {kind}: RuntimeError: Could not reach"):
        run(go2())
