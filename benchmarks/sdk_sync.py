"""What a careful user writes instead of ocigen-iac: a folder of documents kept in one vector store,
with the official `openai` SDK only. The vs-SDK benchmark runs it as its own process.

    python benchmarks/sdk_sync.py create --docs DIR --state FILE --name NAME ...
    python benchmarks/sdk_sync.py sync   --docs DIR --state FILE ...
    python benchmarks/sdk_sync.py check  --docs DIR --state FILE ...   (exit 0 no changes, 2 changes)

Connection options: --inference-base, --management-base (vector store create/list/get live on the
management base, everything else on the inference base), --project, --compartment, and
--api-key-env (the variable holding the API key). --concurrency N (default 8).

`create` makes the store (waits until it is ready, if the service makes a new store wait), then
per 500 documents (the file-batch limit): uploads them (N at a time), waits until each is
processed (`files.wait_for_processing`, as Oracle's samples do: a file attached while still
`uploaded` fails; waiting only once all are uploaded, so the service processes them meanwhile),
then attaches them with `file_batches.create_and_poll`. With `--no-processing-wait` (for services
whose files are usable at once) it is the SDK's own `file_batches.upload_and_poll(max_concurrency=N)`
instead. `sync` lists the store's files and the project's files (the two lists at once, in two
threads), compares them with the documents
(name, size, and the SHA-256 recorded in FILE at the last upload), uploads what changed, waits
for those to be processed, attaches each with `vector_stores.files.create_and_poll`, and deletes
the attachment and file each replaces, N at a time. `check` is the list-and-compare phase of
`sync` alone; it prints the plan as JSON. `check` also takes several --state files (one per
store): it lists those stores --concurrency at a time, beside the one files list.

The script depends on nothing from ocigen-iac.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openai import OpenAI
from script_args import add_connection_args  # a sibling: these scripts run as files

POLL_S = 0.2  # a careful user's poll interval (the SDK's default for files is 5 s)
BATCH_SIZE = 500  # the file-batch limit
STORE_READY_TIMEOUT_S = 300.0


@dataclass
class Clients:
    data: OpenAI  # inference base: files, vector store files and batches
    management: OpenAI  # management base: vector store create / get


@dataclass
class Plan:
    upload: list[str] = field(default_factory=list)  # document names to upload and attach
    delete: list[tuple[str, str]] = field(default_factory=list)  # (name, file id) to detach and delete

    @property
    def has_changes(self) -> bool:
        return bool(self.upload or self.delete)


def connect(args: argparse.Namespace) -> Clients:
    key = os.environ.get(args.api_key_env)
    if not key:
        sys.exit(f"error: set {args.api_key_env} to the API key")
    common: dict[str, Any] = {"api_key": key, "project": args.project,
                              "default_headers": {"opc-compartment-id": args.compartment}}
    return Clients(OpenAI(base_url=args.inference_base, **common), OpenAI(base_url=args.management_base, **common))


def documents(folder: Path) -> dict[str, Path]:
    return {p.name: p for p in sorted(folder.iterdir()) if p.is_file()}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def save_state(path: Path, store_id: str, hashes: dict[str, str]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"vector_store_id": store_id, "sha256": hashes}, indent=1, sort_keys=True))
    tmp.replace(path)


# --- create: a new store with every document ----------------------------------------------------
def create(clients: Clients, args: argparse.Namespace) -> int:
    docs = documents(args.docs)
    store = clients.management.vector_stores.create(name=args.name)
    deadline = time.monotonic() + STORE_READY_TIMEOUT_S
    while store.status == "in_progress":
        if time.monotonic() > deadline:
            sys.exit(f"error: vector store {store.id} was not ready after {STORE_READY_TIMEOUT_S:.0f} s")
        time.sleep(1.0)
        store = clients.management.vector_stores.retrieve(store.id)
    if store.status != "completed":
        sys.exit(f"error: vector store {store.id} is {store.status}")
    hashes: dict[str, str] = {}
    names = list(docs)
    data = clients.data

    def upload(name: str) -> str:
        return data.files.create(file=docs[name], purpose="assistants").id

    def processed(file_id: str) -> None:
        data.files.wait_for_processing(file_id, poll_interval=POLL_S, max_wait_seconds=300)

    for start in range(0, len(names), BATCH_SIZE):
        chunk = names[start:start + BATCH_SIZE]
        if args.no_processing_wait:
            batch = data.vector_stores.file_batches.upload_and_poll(
                store.id, files=[docs[n] for n in chunk], max_concurrency=args.concurrency)
        else:
            with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
                ids = list(pool.map(upload, chunk))
                list(pool.map(processed, ids))
            batch = data.vector_stores.file_batches.create_and_poll(store.id, file_ids=ids)
        if batch.file_counts.completed != len(chunk):
            sys.exit(f"error: batch {batch.id}: {batch.file_counts.completed} of {len(chunk)} files completed "
                     f"({batch.file_counts.failed} failed)")
        hashes.update((n, sha256(docs[n])) for n in chunk)
        save_state(args.state[0], store.id, hashes)  # after every batch, so a failure keeps what landed
    save_state(args.state[0], store.id, hashes)
    print(f"created {store.id} with {len(hashes)} files")
    return 0


# --- sync / check ---------------------------------------------------------------------------------
def compare(clients: Clients, args: argparse.Namespace) -> tuple[str, dict[str, Path], Plan, dict[str, str]]:
    """One store: list its files and the project's files; decide what to upload and what to delete."""
    (store_id, plan), = compare_stores(clients, args).items()
    docs = documents(args.docs)
    return store_id, docs, plan, {name: sha256(path) for name, path in docs.items()}


def compare_stores(clients: Clients, args: argparse.Namespace) -> dict[str, Plan]:
    """Every store named by a --state file: its files listed (the stores --concurrency at a time,
    beside the project's files list), compared with the documents. Store id -> what to change."""
    states = [json.loads(path.read_text()) for path in args.state]
    data = clients.data

    def attached(store_id: str) -> dict[str, str]:
        return {f.id: f.status for f in data.vector_stores.files.list(store_id, limit=100)}

    with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        files = pool.submit(lambda: [(f.id, f.filename, f.bytes) for f in data.files.list(purpose="assistants")])
        per_store = list(pool.map(attached, [s["vector_store_id"] for s in states]))
        listed = files.result()
    docs = documents(args.docs)
    hashes = {name: sha256(path) for name, path in docs.items()}
    sizes = {name: path.stat().st_size for name, path in docs.items()}
    plans: dict[str, Plan] = {}
    for state, in_store in zip(states, per_store, strict=True):
        recorded: dict[str, str] = state["sha256"]
        remote: dict[str, list[tuple[str, int, str]]] = {}  # name -> [(file id, bytes, status)] in the store
        for file_id, filename, size in listed:
            if file_id in in_store:
                remote.setdefault(filename, []).append((file_id, size, in_store[file_id]))
        plan = plans[state["vector_store_id"]] = Plan()
        for name in docs:
            live = remote.get(name, [])
            same = (len(live) == 1 and live[0][1] == sizes[name] and live[0][2] == "completed"
                    and recorded.get(name) == hashes[name])
            if not same:
                plan.upload.append(name)
                plan.delete += [(name, fid) for fid, _, _ in live]
        for name, live in remote.items():
            if name not in docs:
                plan.delete += [(name, fid) for fid, _, _ in live]
    return plans


def check(clients: Clients, args: argparse.Namespace) -> int:
    plans = compare_stores(clients, args)
    if len(plans) == 1:
        (plan,) = plans.values()
        print(json.dumps({"upload": plan.upload, "delete": [name for name, _ in plan.delete]}))
    else:
        print(json.dumps({sid: {"upload": p.upload, "delete": [n for n, _ in p.delete]} for sid, p in plans.items()}))
    return 2 if any(p.has_changes for p in plans.values()) else 0


def sync(clients: Clients, args: argparse.Namespace) -> int:
    store_id, docs, plan, hashes = compare(clients, args)
    old = {name: [fid for n, fid in plan.delete if n == name] for name in plan.upload}
    data = clients.data

    def remove(file_id: str) -> None:
        data.vector_stores.files.delete(file_id, vector_store_id=store_id)
        data.files.delete(file_id)

    def upload(name: str) -> tuple[str, str]:
        return name, data.files.create(file=docs[name], purpose="assistants").id

    def attach(item: tuple[str, str]) -> str:
        name, file_id = item
        if not args.no_processing_wait:
            data.files.wait_for_processing(file_id, poll_interval=POLL_S, max_wait_seconds=300)
        vsf = data.vector_stores.files.create_and_poll(file_id, vector_store_id=store_id)
        if vsf.status != "completed":
            raise RuntimeError(f"{name}: attachment {vsf.status}: {vsf.last_error}")
        for fid in old[name]:  # only once the new file is searchable
            remove(fid)
        return name

    orphans = [fid for name, fid in plan.delete if name not in old]
    with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        uploaded = list(pool.map(upload, plan.upload))  # all up first: they are processed meanwhile
        done = list(pool.map(attach, uploaded))
        list(pool.map(remove, orphans))
    recorded = json.loads(args.state[0].read_text())["sha256"]
    recorded = {n: h for n, h in recorded.items() if n in docs}
    recorded.update((n, hashes[n]) for n in done)
    save_state(args.state[0], store_id, recorded)
    print(f"uploaded {len(done)}, deleted {len(plan.delete)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="sdk_sync.py", description=__doc__.split("\n")[0])
    ap.add_argument("command", choices=("create", "sync", "check"))
    ap.add_argument("--docs", type=Path, required=True)
    ap.add_argument("--state", type=Path, required=True, action="append",
                    help="the script's record of one store; `check` takes several (one per store)")
    ap.add_argument("--name", default="kb")
    add_connection_args(ap)
    ap.add_argument("--no-processing-wait", action="store_true",
                    help="the service's files are usable at once: use upload_and_poll, attach without waiting")
    args = ap.parse_args(argv)
    if args.command != "check" and len(args.state) > 1:
        ap.error(f"{args.command} keeps one store: give --state once")
    clients = connect(args)
    return {"create": create, "sync": sync, "check": check}[args.command](clients, args)


if __name__ == "__main__":
    sys.exit(main())
