from __future__ import annotations

import httpx

from ocigen_iac.emulator import EmulatorServer

from .helpers import client, err, make_store, upload, wait_for, wait_store_done


def test_store_crud_and_validation(emulator: EmulatorServer) -> None:
    with client(emulator, base_url=emulator.management_base) as c:
        vs = make_store(
            c,
            name="kb",
            description="d",
            metadata={"team": "a", "x": "1"},
            expires_after={"anchor": "last_active_at", "days": 7},
        )
        assert vs["id"].startswith("vs_emu_") and vs["object"] == "vector_store"
        assert vs["status"] == "completed" and vs["usage_bytes"] == 0
        assert vs["file_counts"] == {"in_progress": 0, "completed": 0, "failed": 0, "cancelled": 0, "total": 0}
        assert vs["expires_at"] == vs["last_active_at"] + 7 * 86400
        assert c.get(f"/vector_stores/{vs['id']}").json()["name"] == "kb"
        upd = c.post(f"/vector_stores/{vs['id']}", json={"name": "kb2", "metadata": {"team": "b"}}).json()
        assert upd["name"] == "kb2" and upd["metadata"] == {"team": "b"}  # replaced, not merged
        upd = c.post(f"/vector_stores/{vs['id']}", json={"expires_after": None}).json()
        assert upd["expires_after"] is None and upd["expires_at"] is None
        e = err(c.post(f"/vector_stores/{vs['id']}", json={"description": "nope"}), 400)
        assert e["param"] == "description"
        err(c.post("/vector_stores", json={"metadata": {f"k{i}": "v" for i in range(17)}}), 400)
        err(c.post("/vector_stores", json={"metadata": {"k" * 65: "v"}}), 400)
        err(c.post("/vector_stores", json={"metadata": {"k": "v" * 513}}), 400)
        err(c.post("/vector_stores", json={"expires_after": {"anchor": "last_active_at", "days": 0}}), 400)
        err(c.post("/vector_stores", json={"expires_after": {"anchor": "created_at", "days": 3}}), 400)
        err(c.post("/vector_stores", json={"file_ids": ["x"] * 501}), 400)
        assert err(c.post("/vector_stores", json={"file_ids": ["file-emu-missing"]}), 404)["code"] == "not_found"
        err(c.post("/vector_stores", content=b"{not json", headers={"content-type": "application/json"}), 400)
        err(c.post("/vector_stores", json=[1, 2]), 400)
        err(c.post("/vector_stores", json={"chunking_strategy": {"type": "static"}}), 400)
        r = c.delete(f"/vector_stores/{vs['id']}")
        assert r.json() == {"id": vs["id"], "object": "vector_store.deleted", "deleted": True}
        err(c.get(f"/vector_stores/{vs['id']}"), 404)


def test_headers_required(emulator: EmulatorServer) -> None:
    with client(emulator) as c:
        r = c.get("/vector_stores", headers={"opc-compartment-id": ""})
        assert err(r, 400)["code"] == "missing_compartment"
        assert c.get("/vector_stores", headers={"opc-compartment-id": "", "CompartmentId": "c"}).status_code == 200
        assert err(c.get("/files", headers={"OpenAI-Project": ""}), 400)["code"] == "missing_project"
        vs = make_store(c)
        # sub-resources do not need the compartment
        assert c.get(f"/vector_stores/{vs['id']}/files", headers={"opc-compartment-id": ""}).status_code == 200


def test_switches(make_emulator) -> None:
    srv = make_emulator(require_project=False, require_compartment=False, api_keys=[])
    r = httpx.get(f"{srv.inference_base}/vector_stores")
    assert r.status_code == 200 and r.json()["object"] == "list"


def test_store_pagination(emulator: EmulatorServer) -> None:
    with client(emulator) as c:
        ids = [make_store(c, name=f"s{i}")["id"] for i in range(5)]
        page = c.get("/vector_stores", params={"limit": 2}).json()
        assert [s["id"] for s in page["data"]] == ids[:-3:-1] and page["has_more"]
        page = c.get("/vector_stores", params={"limit": 2, "after": page["last_id"]}).json()
        assert [s["id"] for s in page["data"]] == [ids[2], ids[1]] and page["has_more"]
        page = c.get("/vector_stores", params={"limit": 2, "after": page["last_id"]}).json()
        assert [s["id"] for s in page["data"]] == [ids[0]] and not page["has_more"]
        before = c.get("/vector_stores", params={"limit": 2, "before": ids[1]}).json()
        assert [s["id"] for s in before["data"]] == [ids[3], ids[2]] and before["has_more"]
        asc = c.get("/vector_stores", params={"order": "asc", "before": ids[3]}).json()
        assert [s["id"] for s in asc["data"]] == ids[:3] and not asc["has_more"]
        assert len(c.get("/vector_stores", params={"limit": 100}).json()["data"]) == 5
        err(c.get("/vector_stores", params={"limit": 101}), 400)
        err(c.get("/vector_stores", params={"limit": 0}), 400)
        default = c.get("/vector_stores").json()
        assert len(default["data"]) == 5


def test_attach_ingest_and_files(emulator: EmulatorServer) -> None:
    with client(emulator) as c:
        good = upload(c, "a.md", b"alpha beta gamma " * 50)
        docx = upload(c, "b.docx", b"PK\x03\x04 binary")
        bad = upload(c, "c.txt", b"\x80\x81\xfa\xfb" * 10)
        bad2 = upload(c, "d.txt", b"ok \xc3\x28 broken")
        vs = make_store(c, name="kb", file_ids=[good["id"]])
        assert vs["status"] == "in_progress" and vs["file_counts"]["in_progress"] == 1
        f = c.post(f"/vector_stores/{vs['id']}/files", json={"file_id": docx["id"], "attributes": {"n": 1}}).json()
        assert f["object"] == "vector_store.file" and f["status"] == "in_progress" and f["id"] == docx["id"]
        assert f["attributes"] == {"n": 1} and f["vector_store_id"] == vs["id"]
        # attaching again is idempotent: the existing attachment comes back
        again = c.post(f"/vector_stores/{vs['id']}/files", json={"file_id": docx["id"]}).json()
        assert again["created_at"] == f["created_at"] and again["attributes"] == {"n": 1}
        c.post(f"/vector_stores/{vs['id']}/files", json={"file_id": bad2["id"]})
        c.post(f"/vector_stores/{vs['id']}/files", json={"file_id": bad["id"]})
        done = wait_store_done(c, vs["id"])
        assert done["status"] == "completed"
        assert done["file_counts"] == {"in_progress": 0, "completed": 1, "failed": 3, "cancelled": 0, "total": 4}
        assert done["usage_bytes"] == good["bytes"]
        got = c.get(f"/vector_stores/{vs['id']}/files/{docx['id']}").json()
        assert got["status"] == "failed" and got["last_error"]["code"] == "unsupported_file"
        got = c.get(f"/vector_stores/{vs['id']}/files/{bad2['id']}").json()
        assert got["last_error"]["code"] == "invalid_file"
        assert c.get(f"/vector_stores/{vs['id']}/files/{good['id']}").json()["chunking_strategy"] == {
            "type": "static",
            "static": {"max_chunk_size_tokens": 800, "chunk_overlap_tokens": 400},
        }
        failed = c.get(f"/vector_stores/{vs['id']}/files", params={"filter": "failed"}).json()
        assert {x["id"] for x in failed["data"]} == {docx["id"], bad["id"], bad2["id"]}
        err(c.get(f"/vector_stores/{vs['id']}/files", params={"filter": "weird"}), 400)
        # update attributes
        upd = c.post(f"/vector_stores/{vs['id']}/files/{good['id']}", json={"attributes": {"k": "v", "b": True}})
        assert upd.json()["attributes"] == {"k": "v", "b": True}
        err(c.post(f"/vector_stores/{vs['id']}/files/{good['id']}", json={"attributes": {"k": [1]}}), 400)
        err(c.post(f"/vector_stores/{vs['id']}/files/{good['id']}", json={"other": 1}), 400)
        err(c.post(f"/vector_stores/{vs['id']}/files", json={"file_id": good["id"], "attributes": {"k": {}}}), 400)
        err(c.post(f"/vector_stores/{vs['id']}/files", json={"file_id": "file-emu-nope"}), 404)
        err(c.post("/vector_stores/vs_emu_nope/files", json={"file_id": good["id"]}), 404)
        # detach keeps the File
        r = c.delete(f"/vector_stores/{vs['id']}/files/{docx['id']}")
        assert r.json() == {"id": docx["id"], "object": "vector_store.file.deleted", "deleted": True}
        assert c.get(f"/files/{docx['id']}").status_code == 200
        err(c.delete(f"/vector_stores/{vs['id']}/files/{docx['id']}"), 404)
        # deleting the File detaches it everywhere
        c.delete(f"/files/{good['id']}")
        err(c.get(f"/vector_stores/{vs['id']}/files/{good['id']}"), 404)
        assert c.get(f"/vector_stores/{vs['id']}").json()["file_counts"]["total"] == 2


def test_chunking_static(emulator: EmulatorServer) -> None:
    with client(emulator) as c:
        words = " ".join(f"w{i}" for i in range(250))
        f = upload(c, "long.txt", words.encode())
        vs = make_store(c)
        strategy = {"type": "static", "static": {"max_chunk_size_tokens": 100, "chunk_overlap_tokens": 50}}
        c.post(f"/vector_stores/{vs['id']}/files", json={"file_id": f["id"], "chunking_strategy": strategy})
        wait_store_done(c, vs["id"])
        hits = c.post(f"/vector_stores/{vs['id']}/search", json={"query": "w120", "max_num_results": 50}).json()
        texts = [h["content"][0]["text"] for h in hits["data"]]
        # chunks start at 0, 50, 100, 150: w120 lives in the chunks starting at 50 and 100
        assert len(texts) == 2 and all(len(t.split()) == 100 for t in texts)
        assert {t.split()[0] for t in texts} == {"w50", "w100"}
        for bad in (
            {"max_chunk_size_tokens": 50, "chunk_overlap_tokens": 0},
            {"max_chunk_size_tokens": 200, "chunk_overlap_tokens": 101},
        ):
            r = c.post(
                f"/vector_stores/{vs['id']}/files",
                json={"file_id": f["id"], "chunking_strategy": {"type": "static", "static": bad}},
            )
            err(r, 400)


def test_vsf_pagination(emulator: EmulatorServer) -> None:
    with client(emulator) as c:
        ids = httpx.post(f"{emulator.url}/_admin/seed_files", json={"count": 25, "prefix": "p"}).json()["ids"]
        vs = make_store(c, file_ids=ids)
        got: list[str] = []
        after = None
        while True:
            params = {"limit": 10, "order": "asc", **({"after": after} if after else {})}
            page = c.get(f"/vector_stores/{vs['id']}/files", params=params).json()
            got += [x["id"] for x in page["data"]]
            if not page["has_more"]:
                break
            after = page["last_id"]
        assert got == ids
        desc = c.get(f"/vector_stores/{vs['id']}/files", params={"limit": 100}).json()
        assert [x["id"] for x in desc["data"]] == ids[::-1]
        before = c.get(f"/vector_stores/{vs['id']}/files", params={"limit": 5, "before": ids[10]}).json()
        assert [x["id"] for x in before["data"]] == ids[15:10:-1] and before["has_more"]
        assert len(c.get(f"/vector_stores/{vs['id']}/files").json()["data"]) == 20
        err(c.get(f"/vector_stores/{vs['id']}/files", params={"limit": 101}), 400)
        wait_store_done(c, vs["id"])
        done = c.get(f"/vector_stores/{vs['id']}/files", params={"filter": "completed", "limit": 100}).json()
        assert len(done["data"]) == 25


def test_store_expiry(emulator: EmulatorServer) -> None:
    with client(emulator) as c:
        f = upload(c, "a.txt", b"hello there")
        vs = make_store(c, file_ids=[f["id"]], expires_after={"anchor": "last_active_at", "days": 1})
        wait_store_done(c, vs["id"])
        httpx.post(f"{emulator.url}/_admin/expire", json={"vector_store_id": vs["id"]})
        got = c.get(f"/vector_stores/{vs['id']}").json()
        assert got["status"] == "expired" and got["file_counts"]["total"] == 0
        assert err(c.post(f"/vector_stores/{vs['id']}/search", json={"query": "hello"}), 400)["code"] == (
            "vector_store_expired"
        )
        err(c.post(f"/vector_stores/{vs['id']}/files", json={"file_id": f["id"]}), 400)
        assert c.get(f"/files/{f['id']}").status_code == 200
        assert wait_for(lambda: c.delete(f"/vector_stores/{vs['id']}").status_code == 200)
