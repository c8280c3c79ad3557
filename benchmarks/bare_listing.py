"""The listing floor of this machine: the no-op plan's pages fetched by the smallest loop that can
fetch them, checking nothing. The no-op benchmark runs it beside `ocigen-iac plan` to show how
much of the plan's wall time any Python client would spend just on the requests.

    python benchmarks/bare_listing.py STATE_FILE --inference-base URL --management-base URL \\
        --project P --compartment C --api-key-env VAR [--concurrency 8]

It reads what ocigen-iac's state knows (the stores, their attachment ids in creation order, the
containers) and asks for the same pages: the files list, the stores list, the containers list and
each container's files (one request each), and every store's files 100 a page, starting the pages
from every 100th known attachment so that N pages are in flight at once, as ocigen-iac does.
httpx and orjson only: no validation, no comparison, no retries. It prints one JSON line:
requests made, items listed, distinct objects listed (by list and id).

It depends on nothing from ocigen-iac.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import httpx
import orjson
from script_args import add_connection_args  # a sibling: these scripts run as files

PAGE = 100


def _cursors(ids: list[str]) -> list[str | None]:
    """Where each page starts: the beginning, then after every PAGE-th id (not after the last)."""
    return [None, *(ids[i] for i in range(PAGE - 1, len(ids) - 1, PAGE))]


async def _run(args: argparse.Namespace, state: dict[str, Any]) -> dict[str, int]:
    stores: list[str] = []
    containers: list[str] = []
    attached: dict[str, list[tuple[float, str]]] = {}
    for record in state["resources"].values():
        kind = record["kind"]
        if kind == "vector_store":
            stores.append(record["id"])
        elif kind == "container":
            containers.append(record["id"])
        elif kind == "vector_store_file":
            attached.setdefault(record["parent_id"], []).append((record.get("created_at") or 0, record["id"]))
    headers = {"Authorization": f"Bearer {os.environ[args.api_key_env]}", "OpenAI-Project": args.project,
               "opc-compartment-id": args.compartment}
    limits = httpx.Limits(max_connections=args.concurrency)
    gate = asyncio.Semaphore(args.concurrency)
    counts = {"requests": 0, "items": 0}
    seen: set[tuple[str, str]] = set()  # (list, id): an attachment has its File's id
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=60) as client:
        async def get(url: str, params: dict[str, Any]) -> None:
            async with gate:
                response = await client.get(url, params=params)
            response.raise_for_status()
            data = orjson.loads(response.content)["data"]
            counts["requests"] += 1
            counts["items"] += len(data)
            seen.update((url, item["id"]) for item in data)

        inference, management = args.inference_base, args.management_base
        jobs = [get(f"{inference}/files", {"limit": 10_000}), get(f"{management}/vector_stores", {"limit": PAGE}),
                get(f"{inference}/containers", {"limit": PAGE})]
        jobs += [get(f"{inference}/containers/{c}/files", {"limit": PAGE}) for c in containers]
        for store in stores:
            ids = [i for _, i in sorted(attached.get(store, []))]
            for after in _cursors(ids):
                params: dict[str, Any] = {"limit": PAGE, "order": "asc"}
                if after is not None:
                    params["after"] = after
                jobs.append(get(f"{inference}/vector_stores/{store}/files", params))
        await asyncio.gather(*jobs)
    return {**counts, "distinct_ids": len(seen)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bare_listing.py", description=__doc__.split("\n")[0])
    ap.add_argument("state", type=Path)
    add_connection_args(ap)
    args = ap.parse_args(argv)
    state = orjson.loads(args.state.read_bytes())
    print(orjson.dumps(asyncio.run(_run(args, state))).decode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
