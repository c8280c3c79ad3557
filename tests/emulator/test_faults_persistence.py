from __future__ import annotations

import time

import httpx
import pytest

from ocigen_iac.emulator import EmulatorConfig, EmulatorServer, Faults

from .helpers import (
    HEADERS,
    admin_objects,
    client,
    make_store,
    mgmt,
    new_store,
    upload_ready,
    visible,
    wait_for,
    wait_store_done,
)


def _plain(srv: EmulatorServer, base: str | None = None) -> httpx.Client:
    # no retries: we want to see every injected fault
    return httpx.Client(
        base_url=base or srv.inference_base, headers=HEADERS, timeout=10, transport=httpx.HTTPTransport(retries=0)
    )


def test_429_and_5xx(emulator: EmulatorServer) -> None:
    emulator.set_faults(Faults(rate_429=1.0, retry_after_s=2))
    with _plain(emulator) as c:
        r = c.get("/files")
        assert r.status_code == 429 and r.headers["retry-after"] == "2" and r.headers["retry-after-ms"] == "2000"
        assert r.json()["error"]["code"] == "rate_limit_exceeded"
        # admin routes are never faulted
        assert httpx.get(f"{emulator.url}/_admin/faults").json()["rate_429"] == 1.0
        r = httpx.put(f"{emulator.url}/_admin/faults", json={"rate_5xx": 1.0, "routes": ["POST /files"]})
        assert r.status_code == 200
        assert c.get("/files").status_code == 200
        r = c.post("/files", files={"file": ("a.txt", b"x")}, data={"purpose": "assistants"})
        assert r.status_code == 500 and r.json()["error"]["type"] == "server_error"
        assert httpx.get(f"{emulator.url}/_admin/objects").json()["files"] == []
        assert httpx.put(f"{emulator.url}/_admin/faults", json={"rate_5xx": 2}).status_code == 400
        assert httpx.put(f"{emulator.url}/_admin/faults", json={"bogus": 1}).status_code == 400
    counters = emulator.counters()
    assert counters["injected"]["429"] == 1 and counters["injected"]["5xx"] == 1
    assert counters["requests"]["GET /openai/v1/files"] == 2
    assert counters["requests"]["POST /openai/v1/files"] == 1
    assert counters["status"]["429"] == 1 and counters["total"] == 3
    httpx.post(f"{emulator.url}/_admin/counters/reset")
    assert httpx.get(f"{emulator.url}/_admin/counters").json()["total"] == 0


def test_drop_and_lost_create(emulator: EmulatorServer) -> None:
    emulator.set_faults(Faults(rate_drop=1.0, routes=["/files"]))
    with _plain(emulator) as dp, pytest.raises(httpx.RemoteProtocolError):
        dp.get("/files")
    with _plain(emulator, emulator.management_base) as c:
        emulator.set_faults(Faults(rate_lost_create=1.0))
        outcomes = []
        for i in range(6):
            try:
                r = c.post("/vector_stores", json={"name": f"s{i}"})
                outcomes.append(r.status_code)
            except httpx.TransportError:
                outcomes.append("dropped")
        assert all(o in (500, "dropped") for o in outcomes)
        emulator.set_faults(Faults())
        # every lost create was persisted
        stores = c.get("/vector_stores").json()["data"]
        assert sorted(s["name"] for s in stores) == [f"s{i}" for i in range(6)]
        assert c.get("/vector_stores").status_code == 200  # reads are not "creates": never lost
    inj = emulator.counters()["injected"]
    assert inj["drop"] == 1 and inj["lost_create"] == 6


def test_faults_deterministic(make_emulator) -> None:
    def run() -> list[int]:
        srv = make_emulator(faults=Faults(rate_5xx=0.5), seed=42)
        with _plain(srv) as c:
            return [c.get("/files").status_code for _ in range(30)]

    a, b = run(), run()
    assert a == b and 200 in a and 500 in a


def test_latency(emulator: EmulatorServer) -> None:
    emulator.set_faults(Faults(latency_ms=50, jitter_ms=10))
    with _plain(emulator) as c:
        t = time.perf_counter()
        c.get("/files")
        assert time.perf_counter() - t >= 0.05


def test_ingest_faults(make_emulator) -> None:
    srv = make_emulator(faults=Faults(ingest_fail_rate=1.0, ingest_delay_s=0.2), store_ready_delay_s=0)
    with client(srv) as c, mgmt(srv) as cp:
        f = upload_ready(c, "a.txt", b"some text")
        vs = make_store(cp, file_ids=[f["id"]])
        assert cp.get(f"/vector_stores/{vs['id']}").json()["status"] == "in_progress"
        done = wait_store_done(srv, vs["id"])
        assert done["file_counts"]["failed"] == 1
        got = c.get(f"/vector_stores/{vs['id']}/files/{f['id']}").json()
        assert got["status"] == "failed" and got["last_error"]["code"] == "server_error"


def test_ingest_fail_first_fails_each_files_first_ingestion_only(make_emulator) -> None:
    srv = make_emulator(faults=Faults(ingest_fail_first=True, ingest_delay_s=0.05), store_ready_delay_s=0)
    with client(srv) as c:
        a, b = upload_ready(c, "a.txt", b"alpha"), upload_ready(c, "b.txt", b"beta")
        kb, other = new_store(srv, name="kb")["id"], new_store(srv, name="other")["id"]

        def attach_and_wait(store: str, file_id: str) -> dict:
            assert c.post(f"/vector_stores/{store}/files", json={"file_id": file_id}).status_code == 200
            return wait_for(lambda: (got := c.get(f"/vector_stores/{store}/files/{file_id}").json())["status"]
                            != "in_progress" and got)

        for f in (a, b):  # every file's first ingestion in a store fails, transiently
            got = attach_and_wait(kb, f["id"])
            assert got["status"] == "failed" and got["last_error"]["code"] == "server_error"
        assert c.delete(f"/vector_stores/{kb}/files/{a['id']}").status_code == 200
        assert attach_and_wait(kb, a["id"])["status"] == "completed"  # attached again: ingested
        assert attach_and_wait(other, a["id"])["status"] == "failed"  # its first time in another store
    assert httpx.put(f"{srv.url}/_admin/faults", json={"ingest_fail_first": "yes"}).status_code == 400


def test_access_log(make_emulator, capsys) -> None:
    srv = make_emulator(access_log=True)
    with client(srv) as c:
        for i in range(20):  # the line is written before the response completes: never late
            c.get("/files", params={"n": i})
            assert "GET /openai/v1/files 200" in capsys.readouterr().out
        c.get("/files/file-emu-nope")
    out = capsys.readouterr().out
    assert "GET /openai/v1/files/file-emu-nope 404" in out and "ms" in out


def test_restart_keeps_everything(tmp_path) -> None:
    cfg = EmulatorConfig(data_dir=tmp_path / "d", api_keys=["test-key"], ingest_delay_s=0.01, downloads_allowed=True)
    with EmulatorServer(cfg) as srv, client(srv) as c:
        f = upload_ready(c, "a.txt", b"persist me please")
        vs = new_store(srv, name="kb", file_ids=[f["id"]], metadata={"a": "b"})
        wait_store_done(srv, vs["id"])
        ct = c.post("/containers", json={"name": "box", "file_ids": [f["id"]]}).json()
        before = admin_objects(srv)
    cfg2 = EmulatorConfig(data_dir=tmp_path / "d", api_keys=["test-key"], ingest_delay_s=0.01, downloads_allowed=True)
    with EmulatorServer(cfg2) as srv2, client(srv2) as c:
        after = admin_objects(srv2)
        for kind in ("files", "vector_store_files", "container_files", "vector_stores", "store_server_keys"):
            assert after[kind] == before[kind], kind
        assert c.get(f"/files/{f['id']}/content").content == b"persist me please"
        assert c.get(f"/containers/{ct['id']}").json()["name"] == "box"
        hits = c.post(f"/vector_stores/{vs['id']}/search", json={"query": "persist"}).json()["data"]
        assert hits and hits[0]["file_id"] == f["id"]


def test_stop_finishes_the_response_in_flight(tmp_path) -> None:
    """stop() is graceful: a request being served when it is called gets its whole response (the
    emulator's own shutdown replaced uvicorn's fixed ticks, not its grace); afterwards the port
    refuses connections."""
    import threading

    srv = EmulatorServer(EmulatorConfig(data_dir=tmp_path / "d", api_keys=["test-key"])).start()
    srv.set_faults(Faults(latency_ms=400))
    got: dict[str, object] = {}

    def slow_request() -> None:
        with _plain(srv) as c:
            try:
                got["response"] = c.get("/files")
            except httpx.HTTPError as exc:
                got["error"] = exc

    worker = threading.Thread(target=slow_request)
    worker.start()
    assert srv._server is not None
    serving = srv._server.server_state.tasks  # a request being served: it sleeps in the injected latency
    deadline = time.monotonic() + 5
    while not serving and time.monotonic() < deadline:
        time.sleep(0.005)
    assert serving and not srv.counters()["requests"]  # in flight: not answered yet
    url = srv.url
    srv.stop()
    worker.join(timeout=10)
    assert "error" not in got, got.get("error")
    response = got["response"]
    assert isinstance(response, httpx.Response) and response.status_code == 200
    assert response.json()["object"] == "list"
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/healthz", timeout=2)


def test_restart_resumes_ingestion(tmp_path) -> None:
    cfg = EmulatorConfig(data_dir=tmp_path / "d", api_keys=["test-key"], ingest_delay_s=0.3)
    with EmulatorServer(cfg) as srv, client(srv) as c, mgmt(srv) as cp:
        f = upload_ready(c, "a.txt", b"pending work")
        vs = make_store(cp, file_ids=[f["id"]])
    cfg2 = EmulatorConfig(data_dir=tmp_path / "d", api_keys=["test-key"], ingest_delay_s=0.01)
    with EmulatorServer(cfg2) as srv2:
        assert wait_store_done(srv2, vs["id"])["file_counts"]["completed"] == 1


def test_new_fault_fields_are_validated(emulator: EmulatorServer) -> None:
    url = f"{emulator.url}/_admin/faults"
    assert httpx.put(url, json={"rate_attach_lost": 1.5}).status_code == 400
    r = httpx.put(url, json={"page_anomaly": "sideways"})
    assert r.status_code == 400 and "short" in r.json()["error"]["message"]
    r = httpx.put(url, json={"page_anomaly": "short", "rate_attach_lost": 0.5, "routes": ["GET /vector_stores/"]})
    assert r.status_code == 200 and r.json()["page_anomaly"] == "short"


def test_attach_lost_after_completing(make_emulator) -> None:
    srv = make_emulator(faults=Faults(rate_attach_lost=1.0), store_ready_delay_s=0)
    ids = httpx.post(f"{srv.url}/_admin/seed_files", json={"count": 3, "prefix": "l"}).json()["ids"]
    with client(srv) as c, mgmt(srv) as cp:
        vs = make_store(cp)
        visible(c, vs["id"])
        b = c.post(f"/vector_stores/{vs['id']}/file_batches", json={"file_ids": ids}).json()

        def settled() -> dict | None:
            got = c.get(f"/vector_stores/{vs['id']}/file_batches/{b['id']}").json()
            return got if got["file_counts"]["in_progress"] == 0 else None

        batch = wait_for(settled)
        assert batch["status"] == "completed" and batch["file_counts"]["completed"] == 3  # the batch says done
        store = wait_store_done(srv, vs["id"])
        assert store["file_counts"]["total"] == 0 and store["file_counts"]["completed"] == 0  # the store has none
        assert c.get(f"/vector_stores/{vs['id']}/files").json()["data"] == []
        assert c.get(f"/vector_stores/{vs['id']}/files/{ids[0]}").status_code == 404
        assert admin_objects(srv)["vector_store_files"] == []
        assert srv.counters()["injected"]["attach_lost"] == 3
        # attached again (without the fault) it stays, and the batch counts it once
        srv.set_faults(Faults())
        assert c.post(f"/vector_stores/{vs['id']}/files", json={"file_id": ids[0]}).status_code == 200
        assert wait_store_done(srv, vs["id"])["file_counts"]["completed"] == 1
        again = c.get(f"/vector_stores/{vs['id']}/file_batches/{b['id']}").json()
        assert again["file_counts"]["completed"] == 3 and again["file_counts"]["total"] == 3


def _walk(c: httpx.Client, url: str, limit: int) -> tuple[list[str], list[int]]:
    got: list[str] = []
    sizes: list[int] = []
    params: dict[str, str | int] = {"limit": limit}
    for _ in range(50):
        page = c.get(url, params=params).json()
        got += [x["id"] for x in page["data"]]
        sizes.append(len(page["data"]))
        if not page["has_more"]:
            break
        params["after"] = page["last_id"]
    return got, sizes


def test_page_anomaly_short_pages(make_emulator) -> None:
    srv = make_emulator(faults=Faults(page_anomaly="short", routes=["GET /vector_stores/"]), store_ready_delay_s=0)
    ids = httpx.post(f"{srv.url}/_admin/seed_files", json={"count": 25, "prefix": "s"}).json()["ids"]
    with client(srv) as c, mgmt(srv) as cp:
        vs = make_store(cp, file_ids=ids)
        got, sizes = _walk(c, f"/vector_stores/{vs['id']}/files", 10)
        assert sorted(got) == sorted(ids) and max(sizes) == 5 and len(sizes) == 5  # shorter than limit
        assert len(c.get("/files", params={"limit": 10}).json()["data"]) == 10  # only the aimed routes
    assert srv.counters()["injected"]["page_short"] == 5


def test_page_anomaly_empty_cursor(make_emulator) -> None:
    srv = make_emulator(faults=Faults(page_anomaly="empty_cursor"), store_ready_delay_s=0)
    ids = httpx.post(f"{srv.url}/_admin/seed_files", json={"count": 25, "prefix": "e"}).json()["ids"]
    with client(srv) as c, mgmt(srv) as cp:
        vs = make_store(cp, file_ids=ids)
        got, sizes = _walk(c, f"/vector_stores/{vs['id']}/files", 10)
        assert sizes == [10, 0] and len(got) == 10  # the server claims there is nothing more ...
        store = wait_store_done(srv, vs["id"])
        assert store["file_counts"]["total"] == 25  # ... while the counts say 25
    assert srv.counters()["injected"]["page_empty_cursor"] == 1
