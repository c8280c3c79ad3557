from __future__ import annotations

import re
from typing import Any

import httpx

from ocigen_iac.emulator import VARIANTS, EmulatorServer

from .helpers import admin_objects, client, err, in_list_order, missing, upload_ready

HASHED = re.compile(r"^/mnt/data/[0-9a-f]{8}-(?P<name>.+)$")


def _name(path: str) -> str:
    m = HASHED.match(path)
    assert m, path
    return m["name"]


def test_container_lifecycle(emulator: EmulatorServer) -> None:
    with client(emulator) as c:
        f = upload_ready(c, "prices.csv", b"a,b\n1,2\n")
        ct = c.post("/containers", json={"name": "sandbox", "file_ids": [f["id"]]}).json()
        assert ct["id"].startswith("cntr_emu_") and ct["object"] == "container" and ct["status"] == "running"
        assert ct["memory_limit"] == "1g" and ct["expires_after"] == {"anchor": "last_active_at", "minutes": 20}
        ct2 = c.post(
            "/containers",
            json={"name": "other", "memory_limit": "4g", "expires_after": {"anchor": "last_active_at", "minutes": 60}},
        ).json()
        # OCI's fixed 20-minute idle expiry: the client's 60 minutes are ignored
        assert ct2["memory_limit"] == "4g" and ct2["expires_after"] == {"anchor": "last_active_at", "minutes": 20}
        assert c.get(f"/containers/{ct2['id']}").json()["expires_after"]["minutes"] == 20
        err(c.post("/containers", json={}), 400)
        err(c.post("/containers", json={"name": "x", "memory_limit": "2g"}), 400)
        err(c.post("/containers", json={"name": "x", "expires_after": {"anchor": "created_at", "minutes": 5}}), 400)
        missing(c.post("/containers", json={"name": "x", "file_ids": ["file-emu-nope"]}))
        err(c.post("/containers", json={"name": "x", "network_policy": {"type": "disabled"}}), 400)
        assert c.get(f"/containers/{ct['id']}").json()["name"] == "sandbox"
        listing = c.get("/containers").json()
        assert [x["id"] for x in listing["data"]] == in_list_order([ct, ct2], "desc")
        assert [x["id"] for x in c.get("/containers", params={"name": "sandbox"}).json()["data"]] == [ct["id"]]
        page = c.get("/containers", params={"limit": 1, "order": "asc"}).json()
        assert [x["id"] for x in page["data"]] == [ct["id"]] and page["has_more"]
        page = c.get("/containers", params={"limit": 1, "order": "asc", "after": ct["id"]}).json()
        assert [x["id"] for x in page["data"]] == [ct2["id"]] and not page["has_more"]
        err(c.get("/containers", params={"limit": 101}), 400)

        files = c.get(f"/containers/{ct['id']}/files").json()["data"]
        assert len(files) == 1 and _name(files[0]["path"]) == "prices.csv" and files[0]["source"] == "user"
        assert files[0]["id"].startswith("cfile_emu_") and files[0]["bytes"] == f["bytes"]
        up = c.post(f"/containers/{ct['id']}/files", files={"file": ("data.json", b'{"x": 1}')}).json()
        assert up["object"] == "container.file" and _name(up["path"]) == "data.json" and up["bytes"] == 8
        by_id = c.post(f"/containers/{ct['id']}/files", json={"file_id": f["id"]}).json()
        # the same name twice: two files, two paths
        assert _name(by_id["path"]) == "prices.csv" and by_id["path"] != files[0]["path"]
        missing(c.post(f"/containers/{ct['id']}/files", json={"file_id": "file-emu-nope"}))
        assert c.get(f"/containers/{ct['id']}/files/{up['id']}/content").content == b'{"x": 1}'
        assert c.get(f"/containers/{ct['id']}/files/{up['id']}").json() == up
        page = c.get(f"/containers/{ct['id']}/files", params={"limit": 2, "order": "asc"}).json()
        assert len(page["data"]) == 2 and page["has_more"]
        r = c.delete(f"/containers/{ct['id']}/files/{up['id']}")
        assert r.json()["deleted"] is True
        missing(c.get(f"/containers/{ct['id']}/files/{up['id']}"))
        # the source File is independent of its container copy
        c.delete(f"/files/{f['id']}")
        assert c.get(f"/containers/{ct['id']}/files/{by_id['id']}/content").content == b"a,b\n1,2\n"

        # expiry: the container stays visible as expired, its files are gone, it cannot be used
        httpx.post(f"{emulator.url}/_admin/expire", json={"container_id": ct["id"]})
        got = c.get(f"/containers/{ct['id']}").json()
        assert got["status"] == "expired"
        assert err(c.get(f"/containers/{ct['id']}/files"), 400)["code"] == "container_expired"
        err(c.post(f"/containers/{ct['id']}/files", files={"file": ("a.txt", b"x")}), 400)
        assert [x["container_id"] for x in admin_objects(emulator)["container_files"]] == []
        assert c.delete(f"/containers/{ct['id']}").json() == {
            "id": ct["id"],
            "object": "container.deleted",
            "deleted": True,
        }
        missing(c.get(f"/containers/{ct['id']}"))
        c.delete(f"/containers/{ct2['id']}")
        assert c.get("/containers").json()["data"] == []


def _age(srv: EmulatorServer, cid: str, seconds: int) -> int:
    """Move the container's last activity `seconds` into the past; returns the new value."""
    emu = srv.emulator
    assert emu is not None
    emu.db.run("UPDATE containers SET last_active_at = last_active_at - ? WHERE id = ?", [seconds, cid])
    row = emu.db.one("SELECT last_active_at FROM containers WHERE id = ?", [cid])
    assert row is not None
    return int(row["last_active_at"])


def test_container_operations_refresh_last_active_but_listing_does_not(emulator: EmulatorServer) -> None:
    with client(emulator) as c:
        ct = c.post("/containers", json={"name": "t"}).json()
        cf = c.post(f"/containers/{ct['id']}/files", files={"file": ("a.txt", b"x")}).json()
        operations: list[tuple[str, Any]] = [
            ("retrieve", lambda: c.get(f"/containers/{ct['id']}")),
            ("list files", lambda: c.get(f"/containers/{ct['id']}/files")),
            ("get file", lambda: c.get(f"/containers/{ct['id']}/files/{cf['id']}")),
            ("add file", lambda: c.post(f"/containers/{ct['id']}/files", files={"file": ("b.txt", b"y")})),
            ("delete file", lambda: c.delete(f"/containers/{ct['id']}/files/{cf['id']}")),
        ]
        for what, call in operations:
            old = _age(emulator, ct["id"], 600)
            assert call().status_code == 200, what
            now = c.get("/containers", params={"name": "t"}).json()["data"][0]["last_active_at"]
            assert now >= old + 600, what
        old = _age(emulator, ct["id"], 600)
        listed = c.get("/containers").json()["data"]
        assert listed[0]["last_active_at"] == old  # listing containers is not activity
        assert c.get("/containers").json()["data"][0]["last_active_at"] == old
        _age(emulator, ct["id"], 20 * 60)
        assert c.get(f"/containers/{ct['id']}").json()["status"] == "expired"


def test_container_expiry_honoured_variant(make_emulator) -> None:
    srv = make_emulator(**VARIANTS["container-expiry-honoured"])
    with client(srv) as c:
        ct = c.post("/containers", json={"name": "t", "expires_after": {"anchor": "last_active_at", "minutes": 60}})
        assert ct.json()["expires_after"] == {"anchor": "last_active_at", "minutes": 60}
        _age(srv, ct.json()["id"], 30 * 60)
        assert c.get("/containers").json()["data"][0]["status"] == "running"


def test_plain_container_paths_variant(make_emulator) -> None:
    srv = make_emulator(**VARIANTS["plain-container-paths"])
    with client(srv) as c:
        ct = c.post("/containers", json={"name": "t"}).json()
        cf = c.post(f"/containers/{ct['id']}/files", files={"file": ("data.csv", b"a\n")}).json()
        assert cf["path"] == "/mnt/data/data.csv"


def test_containers_live_on_the_data_plane_only(emulator: EmulatorServer) -> None:
    with client(emulator, base_url=emulator.management_base) as cp:
        r = cp.post("/containers", json={"name": "t"})
        assert err(r, 404)["code"] == "not_found" and "Unknown route" in r.json()["error"]["message"]
        err(cp.get("/containers"), 404)
    assert admin_objects(emulator)["containers"] == []


def test_no_containers_variant(make_emulator) -> None:
    srv = make_emulator(**VARIANTS["no-containers"])
    with client(srv) as c:
        for method, path in (("POST", "/containers"), ("GET", "/containers"), ("GET", "/containers/cntr_x/files")):
            r = c.request(method, path, json={"name": "t"} if method == "POST" else None)
            assert err(r, 404)["code"] == "not_found" and "Unknown route" in r.json()["error"]["message"]
        assert c.get("/files").status_code == 200
    assert admin_objects(srv)["containers"] == []
