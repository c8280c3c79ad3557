from __future__ import annotations

import httpx

from ocigen_iac.emulator import EmulatorServer

from .helpers import client, err, upload


def test_container_lifecycle(emulator: EmulatorServer) -> None:
    with client(emulator) as c:
        f = upload(c, "prices.csv", b"a,b\n1,2\n")
        ct = c.post("/containers", json={"name": "sandbox", "file_ids": [f["id"]]}).json()
        assert ct["id"].startswith("cntr_emu_") and ct["object"] == "container" and ct["status"] == "running"
        assert ct["memory_limit"] == "1g" and ct["expires_after"] == {"anchor": "last_active_at", "minutes": 20}
        ct2 = c.post(
            "/containers",
            json={"name": "other", "memory_limit": "4g", "expires_after": {"anchor": "last_active_at", "minutes": 60}},
        ).json()
        assert ct2["memory_limit"] == "4g" and ct2["expires_after"]["minutes"] == 60
        err(c.post("/containers", json={}), 400)
        err(c.post("/containers", json={"name": "x", "memory_limit": "2g"}), 400)
        err(c.post("/containers", json={"name": "x", "expires_after": {"anchor": "created_at", "minutes": 5}}), 400)
        err(c.post("/containers", json={"name": "x", "file_ids": ["file-emu-nope"]}), 404)
        err(c.post("/containers", json={"name": "x", "network_policy": {"type": "disabled"}}), 400)
        assert c.get(f"/containers/{ct['id']}").json()["name"] == "sandbox"
        listing = c.get("/containers").json()
        assert [x["id"] for x in listing["data"]] == [ct2["id"], ct["id"]]
        assert [x["id"] for x in c.get("/containers", params={"name": "sandbox"}).json()["data"]] == [ct["id"]]
        page = c.get("/containers", params={"limit": 1, "order": "asc"}).json()
        assert [x["id"] for x in page["data"]] == [ct["id"]] and page["has_more"]
        page = c.get("/containers", params={"limit": 1, "order": "asc", "after": ct["id"]}).json()
        assert [x["id"] for x in page["data"]] == [ct2["id"]] and not page["has_more"]
        err(c.get("/containers", params={"limit": 101}), 400)

        files = c.get(f"/containers/{ct['id']}/files").json()["data"]
        assert len(files) == 1 and files[0]["path"] == "/mnt/data/prices.csv" and files[0]["source"] == "user"
        assert files[0]["id"].startswith("cfile_emu_") and files[0]["bytes"] == f["bytes"]
        up = c.post(f"/containers/{ct['id']}/files", files={"file": ("data.json", b'{"x": 1}')}).json()
        assert up["object"] == "container.file" and up["path"] == "/mnt/data/data.json" and up["bytes"] == 8
        by_id = c.post(f"/containers/{ct['id']}/files", json={"file_id": f["id"]}).json()
        assert by_id["path"] == "/mnt/data/prices.csv"
        err(c.post(f"/containers/{ct['id']}/files", json={"file_id": "file-emu-nope"}), 404)
        assert c.get(f"/containers/{ct['id']}/files/{up['id']}/content").content == b'{"x": 1}'
        assert c.get(f"/containers/{ct['id']}/files/{up['id']}").json() == up
        page = c.get(f"/containers/{ct['id']}/files", params={"limit": 2, "order": "asc"}).json()
        assert len(page["data"]) == 2 and page["has_more"]
        r = c.delete(f"/containers/{ct['id']}/files/{up['id']}")
        assert r.json()["deleted"] is True
        err(c.get(f"/containers/{ct['id']}/files/{up['id']}"), 404)
        # the source File is independent of its container copy
        c.delete(f"/files/{f['id']}")
        assert c.get(f"/containers/{ct['id']}/files/{by_id['id']}/content").content == b"a,b\n1,2\n"

        # expiry: the container stays visible as expired, its files are gone, it cannot be used
        httpx.post(f"{emulator.url}/_admin/expire", json={"container_id": ct["id"]})
        got = c.get(f"/containers/{ct['id']}").json()
        assert got["status"] == "expired"
        assert err(c.get(f"/containers/{ct['id']}/files"), 400)["code"] == "container_expired"
        err(c.post(f"/containers/{ct['id']}/files", files={"file": ("a.txt", b"x")}), 400)
        objs = httpx.get(f"{emulator.url}/_admin/objects").json()
        assert [x["container_id"] for x in objs["container_files"]] == []
        assert c.delete(f"/containers/{ct['id']}").json() == {
            "id": ct["id"],
            "object": "container.deleted",
            "deleted": True,
        }
        err(c.get(f"/containers/{ct['id']}"), 404)
        c.delete(f"/containers/{ct2['id']}")
        assert c.get("/containers").json()["data"] == []


def test_retrieve_refreshes_last_active(emulator: EmulatorServer) -> None:
    with client(emulator) as c:
        ct = c.post("/containers", json={"name": "t"}).json()
        emu = emulator.emulator
        assert emu is not None
        emu.db.run("UPDATE containers SET last_active_at = last_active_at - 600 WHERE id = ?", [ct["id"]])
        got = c.get(f"/containers/{ct['id']}").json()
        assert got["last_active_at"] >= ct["last_active_at"] and got["status"] == "running"
        emu.db.run("UPDATE containers SET last_active_at = last_active_at - 1300 WHERE id = ?", [ct["id"]])
        assert c.get(f"/containers/{ct['id']}").json()["status"] == "expired"
