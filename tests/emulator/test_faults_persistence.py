from __future__ import annotations

import time

import httpx
import pytest

from ocigen_iac.emulator import EmulatorConfig, EmulatorServer, Faults

from .helpers import HEADERS, client, make_store, upload, wait_store_done


def _plain(srv: EmulatorServer) -> httpx.Client:
    # no retries: we want to see every injected fault
    return httpx.Client(
        base_url=srv.inference_base, headers=HEADERS, timeout=10, transport=httpx.HTTPTransport(retries=0)
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
    with _plain(emulator) as c:
        with pytest.raises(httpx.RemoteProtocolError):
            c.get("/files")
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
        assert c.get("/files").status_code == 200  # reads are not "creates": never lost
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
    srv = make_emulator(faults=Faults(ingest_fail_rate=1.0, ingest_delay_s=0.2))
    with client(srv) as c:
        f = upload(c, "a.txt", b"some text")
        vs = make_store(c, file_ids=[f["id"]])
        time.sleep(0.05)
        assert c.get(f"/vector_stores/{vs['id']}").json()["status"] == "in_progress"
        done = wait_store_done(c, vs["id"])
        assert done["file_counts"]["failed"] == 1
        got = c.get(f"/vector_stores/{vs['id']}/files/{f['id']}").json()
        assert got["status"] == "failed" and got["last_error"]["code"] == "server_error"


def test_access_log(make_emulator, capsys) -> None:
    srv = make_emulator(access_log=True)
    with client(srv) as c:
        c.get("/files")
    out = capsys.readouterr().out
    assert "GET /openai/v1/files 200" in out and "ms" in out


def test_restart_keeps_everything(tmp_path) -> None:
    cfg = EmulatorConfig(data_dir=tmp_path / "d", api_keys=["test-key"], ingest_delay_s=0.01)
    with EmulatorServer(cfg) as srv, client(srv) as c:
        f = upload(c, "a.txt", b"persist me please")
        vs = make_store(c, name="kb", file_ids=[f["id"]], metadata={"a": "b"})
        wait_store_done(c, vs["id"])
        ct = c.post("/containers", json={"name": "box", "file_ids": [f["id"]]}).json()
        before = httpx.get(f"{srv.url}/_admin/objects").json()
    cfg2 = EmulatorConfig(data_dir=tmp_path / "d", api_keys=["test-key"], ingest_delay_s=0.01)
    with EmulatorServer(cfg2) as srv2, client(srv2) as c:
        after = httpx.get(f"{srv2.url}/_admin/objects").json()
        for kind in ("files", "vector_store_files", "container_files"):
            assert after[kind] == before[kind]
        assert [s["id"] for s in after["vector_stores"]] == [vs["id"]]
        assert c.get(f"/files/{f['id']}/content").content == b"persist me please"
        assert c.get(f"/containers/{ct['id']}").json()["name"] == "box"
        hits = c.post(f"/vector_stores/{vs['id']}/search", json={"query": "persist"}).json()["data"]
        assert hits and hits[0]["file_id"] == f["id"]


def test_restart_resumes_ingestion(tmp_path) -> None:
    cfg = EmulatorConfig(data_dir=tmp_path / "d", api_keys=["test-key"], ingest_delay_s=0.3)
    with EmulatorServer(cfg) as srv, client(srv) as c:
        f = upload(c, "a.txt", b"pending work")
        vs = make_store(c, file_ids=[f["id"]])
    cfg2 = EmulatorConfig(data_dir=tmp_path / "d", api_keys=["test-key"], ingest_delay_s=0.01)
    with EmulatorServer(cfg2) as srv2, client(srv2) as c:
        assert wait_store_done(c, vs["id"])["file_counts"]["completed"] == 1
