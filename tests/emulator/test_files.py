from __future__ import annotations

import httpx

from ocigen_iac.emulator import VARIANTS, EmulatorConfig, EmulatorServer

from .helpers import client, err, in_list_order, missing, processed, upload, wait_for


def test_upload_retrieve_delete(emulator: EmulatorServer) -> None:
    with client(emulator) as c:
        f = upload(c, "notes.md", b"# hi\nsome words")
        assert f["object"] == "file" and f["id"].startswith("file-emu-")
        assert f["bytes"] == 15 and f["filename"] == "notes.md" and f["purpose"] == "assistants"
        assert f["expires_at"] is None and isinstance(f["created_at"], int)
        processed(c, f)
        assert c.get(f"/files/{f['id']}").json() == {**f, "status": "processed"}
        r = c.delete(f"/files/{f['id']}")
        assert r.json() == {"id": f["id"], "object": "file", "deleted": True}
        e = missing(c.get(f"/files/{f['id']}"))
        assert f["id"] in e["message"]
        missing(c.delete(f"/files/{f['id']}"))


def test_new_file_is_uploaded_before_processed(make_emulator) -> None:
    srv = make_emulator(file_process_delay_s=EmulatorConfig.file_process_delay_s)
    with client(srv) as c:
        f = upload(c, "a.txt", b"hello")
        assert f["status"] == "uploaded"
        assert c.get(f"/files/{f['id']}").json()["status"] == "uploaded"
        assert wait_for(lambda: c.get(f"/files/{f['id']}").json()["status"] == "processed")


def test_files_live_on_the_data_plane_only(emulator: EmulatorServer) -> None:
    with client(emulator) as c:
        f = upload(c, "a.txt", b"x")
        for method, path in (("GET", "/files"), ("GET", f"/files/{f['id']}"), ("DELETE", f"/files/{f['id']}")):
            r = httpx.request(method, f"{emulator.management_base}{path}", headers=c.headers)
            assert err(r, 404)["code"] == "not_found" and "Unknown route" in r.json()["error"]["message"]
        assert c.get(f"/files/{f['id']}").status_code == 200  # nothing was deleted


def test_content_download_refused_for_assistants_and_user_data(emulator: EmulatorServer) -> None:
    with client(emulator) as c:
        for purpose, name in (("assistants", "a.md"), ("user_data", "u.txt")):
            f = upload(c, name, b"secret words", purpose=purpose)
            e = err(c.get(f"/files/{f['id']}/content"), 400)
            assert e["message"] == f"Not allowed to download files of purpose: {purpose}"
            assert e["type"] == "invalid_request_error"
        b = upload(c, "b.jsonl", b"{}\n", purpose="batch")
        assert c.get(f"/files/{b['id']}/content").content == b"{}\n"


def test_downloads_allowed_variant(make_emulator) -> None:
    srv = make_emulator(**VARIANTS["downloads-allowed"])
    with client(srv) as c:
        f = upload(c, "notes.md", b"# hi\nsome words")
        assert c.get(f"/files/{f['id']}/content").content == b"# hi\nsome words"


def test_missing_is_400_variant(make_emulator) -> None:
    srv = make_emulator(**VARIANTS["missing-400"])
    with client(srv) as c:
        missing(c.get("/files/file-emu-nope"), 400)
        missing(c.delete("/files/file-emu-nope"), 400)
        assert err(c.get("/nope"), 404)["code"] == "not_found"  # an unknown route is still 404


def test_purpose_and_type_validation(emulator: EmulatorServer) -> None:
    with client(emulator) as c:
        e = err(c.post("/files", files={"file": ("a.txt", b"x")}, data={"purpose": "nope"}), 400)
        assert e["param"] == "purpose"
        err(c.post("/files", files={"file": ("a.txt", b"x")}, data={}), 400)
        assert (
            err(c.post("/files", files={"file": ("a.txt", b"{}")}, data={"purpose": "batch"}), 400)["code"]
            == "invalid_file_format"
        )
        assert upload(c, "a.jsonl", b"{}\n", purpose="batch")["purpose"] == "batch"
        err(c.post("/files", files={"file": ("a.txt", b"x")}, data={"purpose": "vision"}), 400)
        assert upload(c, "a.png", b"\x89PNG", purpose="vision")["purpose"] == "vision"
        upload(c, "b.txt", b"x", purpose="user_data")
        upload(c, "e.jsonl", b"{}", purpose="evals")
        upload(c, "t.jsonl", b"{}", purpose="fine-tune")
        err(c.post("/files", data={"purpose": "assistants"}, files={"other": ("a", b"x")}), 400)
        err(c.post("/files", json={"purpose": "assistants"}), 400)
        err(c.post("/files", files={"file": ("e.txt", b"")}, data={"purpose": "assistants"}), 400)


def test_expires_after(emulator: EmulatorServer) -> None:
    with client(emulator) as c:
        f = upload(c, "t.txt", b"x", **{"expires_after[anchor]": "created_at", "expires_after[seconds]": "3600"})
        assert f["expires_at"] == f["created_at"] + 3600
        bad = {"expires_after[anchor]": "created_at", "expires_after[seconds]": "10"}
        err(c.post("/files", files={"file": ("t.txt", b"x")}, data={"purpose": "assistants", **bad}), 400)
        r = httpx.post(f"{emulator.url}/_admin/expire", json={"file_id": f["id"]})
        assert r.status_code == 200
        missing(c.get(f"/files/{f['id']}"))


def test_list_pagination(emulator: EmulatorServer) -> None:
    with client(emulator) as c:
        files = [upload(c, f"f{i}.txt", b"abc") for i in range(7)]
        ids = [f["id"] for f in files]
        upload(c, "b.jsonl", b"{}", purpose="batch")
        listing = c.get("/files", params={"purpose": "assistants"}).json()
        desc = in_list_order(files, "desc")
        assert listing["object"] == "list" and [f["id"] for f in listing["data"]] == desc
        assert listing["first_id"] == desc[0] and listing["last_id"] == desc[-1] and not listing["has_more"]
        page1 = c.get("/files", params={"purpose": "assistants", "limit": 3, "order": "asc"}).json()
        assert [f["id"] for f in page1["data"]] == ids[:3] and page1["has_more"]
        page2 = c.get(
            "/files", params={"purpose": "assistants", "limit": 3, "order": "asc", "after": page1["last_id"]}
        ).json()
        assert [f["id"] for f in page2["data"]] == ids[3:6] and page2["has_more"]
        page3 = c.get(
            "/files", params={"purpose": "assistants", "limit": 3, "order": "asc", "after": page2["last_id"]}
        ).json()
        assert [f["id"] for f in page3["data"]] == ids[6:] and not page3["has_more"]
        assert len(c.get("/files").json()["data"]) == 8
        for bad in ("0", "10001", "x"):
            assert err(c.get("/files", params={"limit": bad}), 400)["param"] == "limit"
        assert c.get("/files", params={"limit": 10000}).status_code == 200
        err(c.get("/files", params={"order": "sideways"}), 400)
        assert err(c.get("/files", params={"after": "file-emu-nope"}), 400)["param"] == "after"


def test_streamed_upload_large(make_emulator) -> None:
    emulator = make_emulator(**VARIANTS["downloads-allowed"])  # to read the upload back
    size = 8 * 1024 * 1024

    def gen():
        chunk = b"word " * 13107 + b"x"
        sent = 0
        while sent < size:
            part = chunk[: size - sent]
            sent += len(part)
            yield part

    with client(emulator) as c:
        boundary = "bnd123"
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nassistants\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.txt"\r\n'
            "Content-Type: text/plain\r\n\r\n"
        ).encode()
        tail = f"\r\n--{boundary}--\r\n".encode()

        def body():
            yield head
            yield from gen()
            yield tail

        r = c.post("/files", content=body(), headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        assert r.status_code == 200, r.text
        assert r.json()["bytes"] == size
        got = c.get(f"/files/{r.json()['id']}/content").content
        assert len(got) == size and got.startswith(b"word word")


def test_max_file_bytes(make_emulator) -> None:
    srv = make_emulator(max_file_bytes=1000)
    with client(srv) as c:
        assert err(c.post("/files", files={"file": ("a.txt", b"x" * 2000)}, data={"purpose": "assistants"}), 413)
        assert upload(c, "a.txt", b"x" * 1000)["bytes"] == 1000
        objs = httpx.get(f"{srv.url}/_admin/objects").json()
        assert len(objs["files"]) == 1
        assert not list((srv.config.data_dir / "blobs" / "tmp").iterdir())


def test_files_made_in_one_second_list_in_insertion_order_both_ways(emulator: EmulatorServer) -> None:
    ids = httpx.post(f"{emulator.url}/_admin/seed_files", json={"count": 30, "prefix": "t"}).json()["ids"]
    with client(emulator) as c:
        for order in ("asc", "desc"):
            got, after = [], None
            for _ in range(10):
                params = {"limit": 7, "order": order, **({"after": after} if after else {})}
                page = c.get("/files", params=params).json()
                got += [f["id"] for f in page["data"]]
                if not page["has_more"]:
                    break
                after = page["last_id"]
            assert got == ids, order  # desc is not asc reversed when created_at ties
