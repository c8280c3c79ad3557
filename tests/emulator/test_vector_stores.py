from __future__ import annotations

import httpx

from ocigen_iac.emulator import EmulatorServer

from .helpers import (
    SERVER_KEYS,
    admin_objects,
    client,
    err,
    in_list_order,
    make_store,
    mgmt,
    missing,
    new_store,
    processed,
    upload,
    upload_ready,
    user_metadata,
    visible,
    wait_for,
    wait_store_done,
)

ZERO = {"in_progress": 0, "completed": 0, "failed": 0, "cancelled": 0, "total": 0}


def test_store_crud_and_validation(emulator: EmulatorServer) -> None:
    with mgmt(emulator) as c:
        vs = make_store(
            c,
            name="OCI Support FAQ Vector Store",  # Oracle's own sample name: spaces are fine
            description="d",
            metadata={"team": "a", "x": "1"},
            expires_after={"anchor": "last_active_at", "days": 7},
        )
        assert vs["id"].startswith("vs_emu_") and vs["object"] == "vector_store"
        assert vs["status"] == "in_progress" and vs["usage_bytes"] == 0 and vs["file_counts"] == ZERO
        assert vs["expires_at"] == vs["last_active_at"] + 7 * 86400
        assert user_metadata(vs) == {"team": "a", "x": "1"} and set(vs["metadata"]) == {"team", "x", *SERVER_KEYS}
        assert vs["metadata"]["oci_embedding_model"] == "cohere.embed-v4.0"
        done = wait_store_done(emulator, vs["id"])
        assert done["status"] == "completed" and done["file_counts"] == ZERO
        assert c.get(f"/vector_stores/{vs['id']}").json()["name"] == "OCI Support FAQ Vector Store"
        upd = c.post(f"/vector_stores/{vs['id']}", json={"name": "kb2", "metadata": {"team": "b"}}).json()
        assert upd["name"] == "kb2" and upd["metadata"] == {"team": "b"}  # replaced whole: server keys lost
        upd = c.post(f"/vector_stores/{vs['id']}", json={"expires_after": None}).json()
        assert upd["expires_after"] is None and upd["expires_at"] is None
        assert err(c.post(f"/vector_stores/{vs['id']}", json={"description": "nope"}), 400)["param"] == "description"
        for name in ("", "n" * 256, 7):
            assert err(c.post("/vector_stores", json={"name": name}), 400)["param"] == "name"
        assert make_store(c, name="n" * 255)["name"] == "n" * 255
        err(c.post("/vector_stores", json={"metadata": {"k" * 65: "v"}}), 400)
        err(c.post("/vector_stores", json={"metadata": {"k": "v" * 513}}), 400)
        err(c.post("/vector_stores", json={"expires_after": {"anchor": "last_active_at", "days": 0}}), 400)
        err(c.post("/vector_stores", json={"expires_after": {"anchor": "created_at", "days": 3}}), 400)
        err(c.post("/vector_stores", json={"file_ids": ["x"] * 501}), 400)
        missing(c.post("/vector_stores", json={"file_ids": ["file-emu-missing"]}))
        err(c.post("/vector_stores", content=b"{not json", headers={"content-type": "application/json"}), 400)
        err(c.post("/vector_stores", json=[1, 2]), 400)
        err(c.post("/vector_stores", json={"chunking_strategy": {"type": "static"}}), 400)
        r = c.delete(f"/vector_stores/{vs['id']}")
        assert r.json() == {"id": vs["id"], "object": "vector_store.deleted", "deleted": True}
        e = missing(c.get(f"/vector_stores/{vs['id']}"))
        assert vs["id"] in e["message"]
        missing(c.delete(f"/vector_stores/{vs['id']}"))
        missing(c.post(f"/vector_stores/{vs['id']}", json={"name": "x"}))


def test_the_16_key_limit_counts_the_server_keys(emulator: EmulatorServer) -> None:
    with mgmt(emulator) as c:
        vs = make_store(c, metadata={f"k{i}": "v" for i in range(14)})
        assert len(vs["metadata"]) == 16
        e = err(c.post("/vector_stores", json={"metadata": {f"k{i}": "v" for i in range(15)}}), 400)
        assert e["param"] == "metadata" and "oci_index_id" in e["message"]


def test_an_update_that_omits_server_keys_is_counted(emulator: EmulatorServer) -> None:
    with mgmt(emulator) as c:
        careless = make_store(c, metadata={"team": "a"})
        careful = make_store(c, metadata={"team": "a"})
        c.post(f"/vector_stores/{careless['id']}", json={"metadata": {"team": "b"}})
        sent = {**careful["metadata"], "team": "b"}  # read-modify-write keeps the server's keys
        assert c.post(f"/vector_stores/{careful['id']}", json={"metadata": sent}).json()["metadata"] == sent
        keys = admin_objects(emulator)["store_server_keys"]
        assert keys[careless["id"]]["dropped"] == 1 and keys[careless["id"]]["present"] is False
        assert keys[careful["id"]] == {
            "keys": {k: careful["metadata"][k] for k in SERVER_KEYS},
            "present": True,
            "dropped": 0,
        }
        c.post(f"/vector_stores/{careful['id']}", json={"metadata": None})
        assert admin_objects(emulator)["store_server_keys"][careful["id"]]["dropped"] == 1


def test_store_crud_answers_only_under_the_management_prefix(emulator: EmulatorServer) -> None:
    vs = new_store(emulator, name="kb")
    with client(emulator) as dp, mgmt(emulator) as cp:
        for method, path in (
            ("POST", "/vector_stores"),
            ("GET", "/vector_stores"),
            ("GET", f"/vector_stores/{vs['id']}"),
            ("POST", f"/vector_stores/{vs['id']}"),
            ("DELETE", f"/vector_stores/{vs['id']}"),
        ):
            r = dp.request(method, path, json={"name": "x"} if method == "POST" else None)
            assert err(r, 404)["code"] == "not_found" and "Unknown route" in r.json()["error"]["message"]
        for method, path in (
            ("GET", f"/vector_stores/{vs['id']}/files"),
            ("POST", f"/vector_stores/{vs['id']}/file_batches"),
            ("POST", f"/vector_stores/{vs['id']}/search"),
        ):
            r = cp.request(method, path, json={"query": "x"} if method == "POST" else None)
            assert err(r, 404)["code"] == "not_found"
        assert [s["id"] for s in cp.get("/vector_stores").json()["data"]] == [vs["id"]]


def test_new_store_is_invisible_to_the_data_plane_until_ready(emulator: EmulatorServer) -> None:
    # the fixture runs with the default store_ready_delay_s (1 s)
    with client(emulator) as dp, mgmt(emulator) as cp:
        f = upload_ready(dp, "a.txt", b"alpha words")
        vs = make_store(cp, name="kb")
        assert vs["status"] == "in_progress" and vs["file_counts"] == ZERO
        sid = vs["id"]
        missing(dp.post(f"/vector_stores/{sid}/files", json={"file_id": f["id"]}))
        missing(dp.get(f"/vector_stores/{sid}/files"))
        missing(dp.get(f"/vector_stores/{sid}/files/{f['id']}"))
        missing(dp.post(f"/vector_stores/{sid}/file_batches", json={"file_ids": [f["id"]]}))
        missing(dp.post(f"/vector_stores/{sid}/search", json={"query": "alpha"}))
        assert cp.get(f"/vector_stores/{sid}").json()["status"] == "in_progress"
        assert admin_objects(emulator)["vector_store_files"] == []  # nothing was attached
        wait_for(lambda: cp.get(f"/vector_stores/{sid}").json()["status"] == "completed")
        assert dp.post(f"/vector_stores/{sid}/files", json={"file_id": f["id"]}).status_code == 200


def test_store_visibility_lag_after_completed(make_emulator) -> None:
    srv = make_emulator(store_ready_delay_s=0, store_visibility_lag_s=0.5)
    with client(srv) as dp, mgmt(srv) as cp:
        vs = make_store(cp)
        assert cp.get(f"/vector_stores/{vs['id']}").json()["status"] == "completed"
        missing(dp.get(f"/vector_stores/{vs['id']}/files"))
        visible(dp, vs["id"])


def test_store_with_file_ids_counts_them_while_not_ready(emulator: EmulatorServer) -> None:
    with client(emulator) as dp, mgmt(emulator) as cp:
        f = upload_ready(dp, "a.txt", b"alpha words")
        vs = make_store(cp, file_ids=[f["id"]])
        assert vs["status"] == "in_progress" and vs["file_counts"]["in_progress"] == 1
        done = wait_store_done(emulator, vs["id"])
        assert done["file_counts"]["completed"] == 1 and done["file_counts"]["total"] == 1


def test_headers_required(emulator: EmulatorServer) -> None:
    with mgmt(emulator) as c:
        r = c.get("/vector_stores", headers={"opc-compartment-id": ""})
        assert err(r, 400)["code"] == "missing_compartment"
        assert c.get("/vector_stores", headers={"opc-compartment-id": "", "CompartmentId": "c"}).status_code == 200
    with client(emulator) as c:
        assert err(c.get("/files", headers={"OpenAI-Project": ""}), 400)["code"] == "missing_project"
        vs = new_store(emulator)
        # sub-resources do not need the compartment
        assert c.get(f"/vector_stores/{vs['id']}/files", headers={"opc-compartment-id": ""}).status_code == 200


def test_switches(make_emulator) -> None:
    srv = make_emulator(require_project=False, require_compartment=False, api_keys=[])
    r = httpx.get(f"{srv.management_base}/vector_stores")
    assert r.status_code == 200 and r.json()["object"] == "list"


def test_store_pagination(emulator: EmulatorServer) -> None:
    with mgmt(emulator) as c:
        stores = [make_store(c, name=f"s{i}") for i in range(5)]
        desc = in_list_order(stores, "desc")
        page = c.get("/vector_stores", params={"limit": 2}).json()
        assert [s["id"] for s in page["data"]] == desc[:2] and page["has_more"]
        page = c.get("/vector_stores", params={"limit": 2, "after": page["last_id"]}).json()
        assert [s["id"] for s in page["data"]] == desc[2:4] and page["has_more"]
        page = c.get("/vector_stores", params={"limit": 2, "after": page["last_id"]}).json()
        assert [s["id"] for s in page["data"]] == desc[4:] and not page["has_more"]
        before = c.get("/vector_stores", params={"limit": 2, "before": desc[3]}).json()
        assert [s["id"] for s in before["data"]] == desc[1:3] and before["has_more"]
        asc = in_list_order(stores, "asc")
        page = c.get("/vector_stores", params={"order": "asc", "before": asc[3]}).json()
        assert [s["id"] for s in page["data"]] == asc[:3] and not page["has_more"]
        assert len(c.get("/vector_stores", params={"limit": 100}).json()["data"]) == 5
        err(c.get("/vector_stores", params={"limit": 101}), 400)
        err(c.get("/vector_stores", params={"limit": 0}), 400)
        assert len(c.get("/vector_stores").json()["data"]) == 5


def test_attach_ingest_and_files(emulator: EmulatorServer) -> None:
    with client(emulator) as c:
        good = upload(c, "a.md", b"alpha beta gamma " * 50)
        docx = upload(c, "b.docx", b"PK\x03\x04 binary")
        bad = upload(c, "c.txt", b"\x80\x81\xfa\xfb" * 10)
        bad2 = upload(c, "d.txt", b"ok \xc3\x28 broken")
        processed(c, good, docx, bad, bad2)
        vs = new_store(emulator, name="kb")
        sid = vs["id"]
        f = c.post(f"/vector_stores/{sid}/files", json={"file_id": docx["id"], "attributes": {"n": 1}}).json()
        assert f["object"] == "vector_store.file" and f["status"] == "in_progress" and f["id"] == docx["id"]
        assert f["attributes"] == {"n": 1} and f["vector_store_id"] == sid
        # attaching again is idempotent: the existing attachment comes back
        again = c.post(f"/vector_stores/{sid}/files", json={"file_id": docx["id"]}).json()
        assert again["created_at"] == f["created_at"] and again["attributes"] == {"n": 1}
        for x in (good, bad2, bad):
            assert c.post(f"/vector_stores/{sid}/files", json={"file_id": x["id"]}).status_code == 200
        done = wait_store_done(emulator, sid)
        assert done["status"] == "completed"
        assert done["file_counts"] == {"in_progress": 0, "completed": 1, "failed": 3, "cancelled": 0, "total": 4}
        assert done["usage_bytes"] == good["bytes"]
        for status in ("completed", "failed", "in_progress", "cancelled"):  # counts match the listings
            listed = c.get(f"/vector_stores/{sid}/files", params={"filter": status, "limit": 100}).json()["data"]
            assert len(listed) == done["file_counts"][status]
        got = c.get(f"/vector_stores/{sid}/files/{docx['id']}").json()
        assert got["status"] == "failed" and got["last_error"]["code"] == "unsupported_file"
        assert c.get(f"/vector_stores/{sid}/files/{bad2['id']}").json()["last_error"]["code"] == "invalid_file"
        assert c.get(f"/vector_stores/{sid}/files/{good['id']}").json()["chunking_strategy"] == {
            "type": "static",
            "static": {"max_chunk_size_tokens": 800, "chunk_overlap_tokens": 400},
        }
        failed = c.get(f"/vector_stores/{sid}/files", params={"filter": "failed"}).json()
        assert {x["id"] for x in failed["data"]} == {docx["id"], bad["id"], bad2["id"]}
        err(c.get(f"/vector_stores/{sid}/files", params={"filter": "weird"}), 400)
        upd = c.post(f"/vector_stores/{sid}/files/{good['id']}", json={"attributes": {"k": "v", "b": True}})
        assert upd.json()["attributes"] == {"k": "v", "b": True}
        err(c.post(f"/vector_stores/{sid}/files/{good['id']}", json={"attributes": {"k": [1]}}), 400)
        err(c.post(f"/vector_stores/{sid}/files/{good['id']}", json={"other": 1}), 400)
        err(c.post(f"/vector_stores/{sid}/files", json={"file_id": good["id"], "attributes": {"k": {}}}), 400)
        missing(c.post(f"/vector_stores/{sid}/files", json={"file_id": "file-emu-nope"}))
        missing(c.post("/vector_stores/vs_emu_nope/files", json={"file_id": good["id"]}))
        # detach keeps the File
        r = c.delete(f"/vector_stores/{sid}/files/{docx['id']}")
        assert r.json() == {"id": docx["id"], "object": "vector_store.file.deleted", "deleted": True}
        assert c.get(f"/files/{docx['id']}").status_code == 200
        missing(c.delete(f"/vector_stores/{sid}/files/{docx['id']}"))
        # deleting the File detaches it everywhere
        c.delete(f"/files/{good['id']}")
        missing(c.get(f"/vector_stores/{sid}/files/{good['id']}"))
        with mgmt(emulator) as cp:
            assert cp.get(f"/vector_stores/{sid}").json()["file_counts"]["total"] == 2


def test_attribute_values_come_back_exactly_as_sent(emulator: EmulatorServer) -> None:
    """What a client sent is what it reads back, on a retrieve and in a list page: an integer past
    64 bits stays that integer (the emulator's fast JSON encoder cannot write one, nor read one
    back without turning it into a float), non-ASCII text stays unescaped."""
    sent = {"big": 10**30, "neg": -(2**70), "pi": 3.141592653589793, "name": "café \u2028 ✓", "ok": True}
    with client(emulator) as c:
        doc = upload_ready(c, "a.md", b"alpha beta gamma " * 20)
        sid = new_store(emulator, name="kb")["id"]
        r = c.post(f"/vector_stores/{sid}/files", json={"file_id": doc["id"], "attributes": sent})
        assert r.status_code == 200 and r.json()["attributes"] == sent
        assert c.get(f"/vector_stores/{sid}/files/{doc['id']}").json()["attributes"] == sent
        page = c.get(f"/vector_stores/{sid}/files", params={"limit": 100})
        assert page.status_code == 200 and page.json()["data"][0]["attributes"] == sent
        assert "café".encode() in page.content  # written as UTF-8, as starlette does, not \u-escaped


def test_attaching_a_file_still_being_processed_fails(emulator: EmulatorServer) -> None:
    vs = new_store(emulator)
    with client(emulator) as c:
        single, batched = upload(c, "a.txt", b"alpha"), upload(c, "b.txt", b"beta")
        assert single["status"] == batched["status"] == "uploaded"
        r = c.post(f"/vector_stores/{vs['id']}/files", json={"file_id": single["id"]})
        assert r.status_code == 200 and r.json()["status"] == "in_progress"  # accepted ...
        b = c.post(f"/vector_stores/{vs['id']}/file_batches", json={"file_ids": [batched["id"]]}).json()
        done = wait_store_done(emulator, vs["id"])
        assert done["file_counts"]["failed"] == 2 and done["file_counts"]["completed"] == 0  # ... and failed
        for f in (single, batched):
            got = c.get(f"/vector_stores/{vs['id']}/files/{f['id']}").json()
            assert got["status"] == "failed" and got["last_error"]["code"] == "invalid_file"
            assert "still being processed" in got["last_error"]["message"] and f["id"] in got["last_error"]["message"]
        batch = c.get(f"/vector_stores/{vs['id']}/file_batches/{b['id']}").json()
        assert batch["status"] == "failed" and batch["file_counts"]["failed"] == 1
        # the failed attachment stays as it is when attached again: detach first
        processed(c, single)
        again = c.post(f"/vector_stores/{vs['id']}/files", json={"file_id": single["id"]}).json()
        assert again["status"] == "failed"


def test_chunking_static(emulator: EmulatorServer) -> None:
    with client(emulator) as c:
        words = " ".join(f"w{i}" for i in range(250))
        f = upload_ready(c, "long.txt", words.encode())
        vs = new_store(emulator)
        strategy = {"type": "static", "static": {"max_chunk_size_tokens": 100, "chunk_overlap_tokens": 50}}
        c.post(f"/vector_stores/{vs['id']}/files", json={"file_id": f["id"], "chunking_strategy": strategy})
        wait_store_done(emulator, vs["id"])
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


def _page_all(c: httpx.Client, url: str, order: str, limit: int) -> list[str]:
    """Every id, paging forward with `after=<last_id>` (bounded)."""
    got: list[str] = []
    params: dict[str, str | int] = {"limit": limit, "order": order}
    for _ in range(100):
        page = c.get(url, params=params).json()
        got += [x["id"] for x in page["data"]]
        if not page["has_more"]:
            return got
        params["after"] = page["last_id"]
    raise AssertionError("paging did not end")


def test_vsf_pagination(emulator: EmulatorServer) -> None:
    with client(emulator) as c:
        ids = httpx.post(f"{emulator.url}/_admin/seed_files", json={"count": 25, "prefix": "p"}).json()["ids"]
        with mgmt(emulator) as cp:
            vs = make_store(cp, file_ids=ids)
        visible(c, vs["id"])
        url = f"/vector_stores/{vs['id']}/files"
        assert _page_all(c, url, "asc", 10) == ids  # one create: one second, insertion order
        # ties stay in insertion order in desc too
        assert [x["id"] for x in c.get(url, params={"limit": 100}).json()["data"]] == ids
        before = c.get(url, params={"limit": 5, "before": ids[10]}).json()
        assert [x["id"] for x in before["data"]] == ids[5:10] and before["has_more"]
        assert len(c.get(url).json()["data"]) == 20
        err(c.get(url, params={"limit": 101}), 400)
        wait_store_done(emulator, vs["id"])
        assert len(c.get(url, params={"filter": "completed", "limit": 100}).json()["data"]) == 25


def test_same_second_ties_are_not_mirrored_by_desc(emulator: EmulatorServer) -> None:
    ids = httpx.post(f"{emulator.url}/_admin/seed_files", json={"count": 250, "prefix": "t"}).json()["ids"]
    vs = new_store(emulator)
    url = f"/vector_stores/{vs['id']}/files"
    with client(emulator) as c:
        r = c.post(f"/vector_stores/{vs['id']}/file_batches", json={"file_ids": ids})
        assert r.status_code == 200, r.text
        everything = c.get(url, params={"limit": 100}).json()["data"]
        assert len({x["created_at"] for x in everything}) == 1  # one second for the whole batch
        asc_first = [x["id"] for x in c.get(url, params={"limit": 100, "order": "asc"}).json()["data"]]
        desc_first = [x["id"] for x in c.get(url, params={"limit": 100, "order": "desc"}).json()["data"]]
        # both ends start at the same 100 objects: a client that lists from both ends until they meet
        # sees 100 objects, not 200
        assert asc_first == desc_first == ids[:100]
        for order in ("asc", "desc"):  # ... yet each order alone pages through all 250
            assert _page_all(c, url, order, 100) == ids
        # cursors stay exact across seconds: the first 100 attachments one second earlier
        emu = emulator.emulator
        assert emu is not None
        marks = ",".join("?" * 100)
        emu.db.run(
            f"UPDATE vs_files SET created_at = created_at - 1 WHERE vs_id = ? AND file_id IN ({marks})",
            [vs["id"], *ids[:100]],
        )
        assert _page_all(c, url, "asc", 30) == ids
        assert _page_all(c, url, "desc", 30) == ids[100:] + ids[:100]
        assert _page_all(c, url, "desc", 30) != _page_all(c, url, "asc", 30)[::-1]
        for order in ("asc", "desc"):
            forward = _page_all(c, url, order, 30)
            # walking back with `before` from the end of the list gives the same sequence
            tail = c.get(url, params={"order": order, "limit": 1, "after": forward[-2]}).json()["data"]
            assert [x["id"] for x in tail] == [forward[-1]]
            back: list[str] = [forward[-1]]
            params: dict[str, str | int] = {"order": order, "limit": 30, "before": forward[-1]}
            for _ in range(100):
                page = c.get(url, params=params).json()
                back = [x["id"] for x in page["data"]] + back
                if not page["has_more"]:
                    break
                params["before"] = page["first_id"]
            assert back == forward
            middle = c.get(url, params={"order": order, "after": forward[90], "before": forward[110]}).json()
            assert [x["id"] for x in middle["data"]] == forward[91:110]


def test_store_expiry(emulator: EmulatorServer) -> None:
    with client(emulator) as c:
        f = upload_ready(c, "a.txt", b"hello there")
        vs = new_store(emulator, file_ids=[f["id"]], expires_after={"anchor": "last_active_at", "days": 1})
        wait_store_done(emulator, vs["id"])
        httpx.post(f"{emulator.url}/_admin/expire", json={"vector_store_id": vs["id"]})
        with mgmt(emulator) as cp:
            got = cp.get(f"/vector_stores/{vs['id']}").json()
            assert got["status"] == "expired" and got["file_counts"]["total"] == 0
            assert err(c.post(f"/vector_stores/{vs['id']}/search", json={"query": "hello"}), 400)["code"] == (
                "vector_store_expired"
            )
            err(c.post(f"/vector_stores/{vs['id']}/files", json={"file_id": f["id"]}), 400)
            assert c.get(f"/files/{f['id']}").status_code == 200
            assert wait_for(lambda: cp.delete(f"/vector_stores/{vs['id']}").status_code == 200)
