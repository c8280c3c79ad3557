"""Performance guards (generous bounds, so they hold on a loaded 2-core CI box)."""

from __future__ import annotations

import time

import httpx

from ocigen_iac.emulator import EmulatorServer

from .helpers import client, new_store, wait_store_done


def test_list_10k_files_and_page_attachments(emulator: EmulatorServer) -> None:
    ids = httpx.post(f"{emulator.url}/_admin/seed_files", json={"count": 10000, "prefix": "perf"}, timeout=60).json()[
        "ids"
    ]
    with client(emulator) as c:
        c.get("/files", params={"limit": 10})
        t = time.perf_counter()
        r = c.get("/files", params={"limit": 10000})
        list_s = time.perf_counter() - t
        assert len(r.json()["data"]) == 10000 and not r.json()["has_more"]
        assert list_s < 1.0, list_s  # ~0.1 s measured; the target is < 0.3 s
        vs = new_store(emulator)
        for i in range(0, 10000, 500):
            assert (
                c.post(f"/vector_stores/{vs['id']}/file_batches", json={"file_ids": ids[i : i + 500]}).status_code
                == 200
            )
        wait_store_done(emulator, vs["id"])
        times = []
        for cursor in (ids[5000], ids[100], ids[9000]):
            t = time.perf_counter()
            page = c.get(f"/vector_stores/{vs['id']}/files", params={"limit": 100, "after": cursor}).json()
            times.append(time.perf_counter() - t)
            assert len(page["data"]) == 100 or not page["has_more"]
        assert min(times) < 0.05, times  # ~3 ms measured end to end
        # 10,000 attachments made in 20 batches share a handful of seconds: desc pages cross ties
        t = time.perf_counter()
        got, after = 0, None
        for _ in range(200):
            params = {"limit": 100, **({"after": after} if after else {})}
            page = c.get(f"/vector_stores/{vs['id']}/files", params=params).json()
            got += len(page["data"])
            if not page["has_more"]:
                break
            after = page["last_id"]
        walk_s = time.perf_counter() - t
        assert got == 10000 and walk_s < 10, walk_s  # 100 pages


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return 0.0


def test_300mb_upload_memory_stays_flat(emulator: EmulatorServer) -> None:
    import threading

    peak = [_rss_mb()]
    base = peak[0]
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _rss_mb())
            time.sleep(0.02)

    threading.Thread(target=watch, daemon=True).start()
    b = "bnd300"

    def body():
        yield (
            f'--{b}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nassistants\r\n'
            f'--{b}\r\nContent-Disposition: form-data; name="file"; filename="big.txt"\r\n\r\n'
        ).encode()
        chunk = b"x" * (1 << 20)
        for _ in range(300):
            yield chunk
        yield f"\r\n--{b}--\r\n".encode()

    with client(emulator, timeout=300) as c:
        r = c.post("/files", content=body(), headers={"Content-Type": f"multipart/form-data; boundary={b}"})
    done.set()
    assert r.status_code == 200 and r.json()["bytes"] == 300 * 1024 * 1024
    assert peak[0] - base < 100, (base, peak[0])  # ~5 MB measured (client and server share this process)
