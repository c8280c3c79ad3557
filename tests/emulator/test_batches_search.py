from __future__ import annotations

import httpx

from ocigen_iac.emulator import VARIANTS, EmulatorServer

from .helpers import admin_objects, client, err, missing, new_store, upload_ready, wait_for, wait_store_done


def _seed(srv: EmulatorServer, n: int) -> list[str]:
    return httpx.post(f"{srv.url}/_admin/seed_files", json={"count": n, "prefix": "b"}).json()["ids"]


def test_batch_lifecycle(emulator: EmulatorServer) -> None:
    with client(emulator) as c:
        ids = _seed(emulator, 12)
        docx = upload_ready(c, "x.docx", b"PK")
        vs = new_store(emulator)
        b = c.post(
            f"/vector_stores/{vs['id']}/file_batches",
            json={"file_ids": [*ids, docx["id"]], "attributes": {"section": "faq"}},
        ).json()
        assert b["object"] == "vector_store.files_batch" and b["id"].startswith("vsfb_emu_")
        assert b["file_counts"]["total"] == 13 and b["vector_store_id"] == vs["id"]

        def settled():
            got = c.get(f"/vector_stores/{vs['id']}/file_batches/{b['id']}").json()
            return got if got["file_counts"]["in_progress"] == 0 else None

        done = wait_for(settled)
        assert done["status"] == "completed"
        assert done["file_counts"] == {"in_progress": 0, "completed": 12, "failed": 1, "cancelled": 0, "total": 13}
        files = c.get(f"/vector_stores/{vs['id']}/file_batches/{b['id']}/files", params={"limit": 5}).json()
        assert len(files["data"]) == 5 and files["has_more"]
        assert all(f["attributes"] == {"section": "faq"} for f in files["data"])
        failed = c.get(f"/vector_stores/{vs['id']}/file_batches/{b['id']}/files", params={"filter": "failed"})
        assert [f["id"] for f in failed.json()["data"]] == [docx["id"]]
        allf, after = [], None
        while True:
            p = {"limit": 4, **({"after": after} if after else {})}
            page = c.get(f"/vector_stores/{vs['id']}/file_batches/{b['id']}/files", params=p).json()
            allf += [f["id"] for f in page["data"]]
            if not page["has_more"]:
                break
            after = page["last_id"]
        assert allf == [*ids, docx["id"]]  # one batch, one second: insertion order
        missing(c.get(f"/vector_stores/{vs['id']}/file_batches/vsfb_emu_nope"))
        store = wait_store_done(emulator, vs["id"])
        assert store["file_counts"] == done["file_counts"]


def test_batch_files_form_and_limits(make_emulator) -> None:
    srv = make_emulator(max_batch_files=5, ingest_delay_s=5.0)
    with client(srv) as c:
        ids = _seed(srv, 6)
        vs = new_store(srv)
        url = f"/vector_stores/{vs['id']}/file_batches"
        assert "at most 5" in err(c.post(url, json={"file_ids": ids}), 400)["message"]
        err(c.post(url, json={"file_ids": []}), 400)
        err(c.post(url, json={"file_ids": ids[:2], "files": [{"file_id": ids[0]}]}), 400)
        e = missing(c.post(url, json={"file_ids": [ids[0], "file-emu-missing"]}))
        assert "file-emu-missing" in e["message"] and e["param"] == "file_ids"
        objs = admin_objects(srv)
        assert objs["vector_store_files"] == [] and objs["file_batches"] == []  # no partial creation
        b = c.post(
            url,
            json={"files": [{"file_id": ids[0], "attributes": {"a": 1}}, {"file_id": ids[1], "attributes": {"a": 2}}]},
        ).json()
        assert b["status"] == "in_progress" and b["file_counts"]["in_progress"] == 2
        got = {f["id"]: f["attributes"] for f in c.get(f"{url}/{b['id']}/files").json()["data"]}
        assert got == {ids[0]: {"a": 1}, ids[1]: {"a": 2}}
        cancelled = c.post(f"{url}/{b['id']}/cancel").json()
        assert cancelled["status"] == "cancelled" and cancelled["file_counts"]["cancelled"] == 2
        listed = c.get(f"{url}/{b['id']}/files", params={"filter": "cancelled"}).json()
        assert len(listed["data"]) == 2


def test_file_ids_only_batches_variant(make_emulator) -> None:
    srv = make_emulator(**VARIANTS["file-ids-batches"])
    with client(srv) as c:
        ids = _seed(srv, 2)
        vs = new_store(srv)
        url = f"/vector_stores/{vs['id']}/file_batches"
        e = err(c.post(url, json={"files": [{"file_id": ids[0], "attributes": {"a": 1}}]}), 400)
        assert e["message"] == "body.file_ids: Field required"
        assert err(c.post(url, json={"file_ids": ids, "files": [{"file_id": ids[0]}]}), 400)["param"] == "files"
        assert admin_objects(srv)["file_batches"] == []
        b = c.post(url, json={"file_ids": ids, "attributes": {"a": 1}}).json()
        assert b["file_counts"]["total"] == 2
        got = c.get(f"{url}/{b['id']}/files").json()["data"]
        assert [f["attributes"] for f in got] == [{"a": 1}, {"a": 1}]


def test_search_bm25_and_filters(emulator: EmulatorServer) -> None:
    with client(emulator) as c:
        docs = {
            "hr.md": ("Vacation policy: employees get 25 days of vacation per year.", {"dept": "hr", "year": 2024}),
            "it.md": ("Password policy: rotate passwords every 90 days.", {"dept": "it", "year": 2023}),
            "fin.md": (
                "Expense policy: receipts are required for expenses.",
                {"dept": "fin", "year": 2025, "public": True},
            ),
        }
        vs = new_store(emulator)
        fids = {}
        for name, (text, attrs) in docs.items():
            f = upload_ready(c, name, text.encode())
            fids[name] = f["id"]
            c.post(f"/vector_stores/{vs['id']}/files", json={"file_id": f["id"], "attributes": attrs})
        wait_store_done(emulator, vs["id"])
        url = f"/vector_stores/{vs['id']}/search"

        def names(body):
            r = c.post(url, json=body)
            assert r.status_code == 200, r.text
            page = r.json()
            assert page["object"] == "vector_store.search_results.page" and page["has_more"] is False
            return [d["filename"] for d in page["data"]]

        res = c.post(url, json={"query": "vacation days"}).json()
        assert res["search_query"] == ["vacation days"]  # always a list of strings
        several = c.post(url, json={"query": ["vacation", "days"]}).json()
        assert several["search_query"] == ["vacation", "days"] and several["data"][0]["filename"] == "hr.md"
        top = res["data"][0]
        assert top["filename"] == "hr.md" and top["file_id"] == fids["hr.md"] and 0 < top["score"] < 1
        assert top["attributes"] == {"dept": "hr", "year": 2024} and top["content"][0]["type"] == "text"
        assert [d["score"] for d in res["data"]] == sorted((d["score"] for d in res["data"]), reverse=True)
        assert names({"query": "policy", "filters": {"type": "eq", "key": "dept", "value": "it"}}) == ["it.md"]
        assert set(names({"query": "policy", "filters": {"type": "ne", "key": "dept", "value": "it"}})) == {
            "hr.md",
            "fin.md",
        }
        assert set(names({"query": "policy", "filters": {"type": "gte", "key": "year", "value": 2024}})) == {
            "hr.md",
            "fin.md",
        }
        assert names({"query": "policy", "filters": {"type": "lt", "key": "year", "value": 2024}}) == ["it.md"]
        assert set(names({"query": "policy", "filters": {"type": "in", "key": "dept", "value": ["hr", "fin"]}})) == {
            "hr.md",
            "fin.md",
        }
        assert names({"query": "policy", "filters": {"type": "nin", "key": "dept", "value": ["hr", "fin"]}}) == [
            "it.md"
        ]
        compound = {
            "type": "or",
            "filters": [
                {"type": "eq", "key": "public", "value": True},
                {
                    "type": "and",
                    "filters": [
                        {"type": "eq", "key": "dept", "value": "hr"},
                        {"type": "lte", "key": "year", "value": 2024},
                    ],
                },
            ],
        }
        assert set(names({"query": "policy", "filters": compound})) == {"fin.md", "hr.md"}
        assert len(names({"query": "policy", "max_num_results": 1})) == 1
        assert names({"query": "zzzz unknown"}) == []
        assert names(
            {"query": "policy", "rewrite_query": True, "filters": {"type": "gt", "key": "year", "value": 2024}}
        ) == ["fin.md"]
        err(c.post(url, json={"query": "x", "max_num_results": 51}), 400)
        err(c.post(url, json={"query": "x", "max_num_results": 0}), 400)
        err(c.post(url, json={"query": ""}), 400)
        err(c.post(url, json={"query": "x", "filters": {"type": "like", "key": "a", "value": 1}}), 400)
        err(c.post(url, json={"query": "x", "filters": {"type": "and", "filters": []}}), 400)
        err(c.post(url, json={"query": "x", "filters": {"type": "in", "key": "a", "value": "notalist"}}), 400)
        missing(c.post("/vector_stores/vs_emu_missing/search", json={"query": "x"}))
        err(c.post(url, json={"query": ["x", 1]}), 400)
