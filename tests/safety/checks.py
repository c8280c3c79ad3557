"""What "Apply complete!" has to mean, as assertions over the live service (real HTTP).

Every check reads the emulator's data plane the way a user's application would (paged list
calls) and compares it with the checkout's state:

* `assert_plan_clean`: the next `plan --detailed-exitcode` exits 0 and says "No changes.";
* `assert_store_has_exactly`: a store's live attachments are exactly the declared documents, at
  the File ids state holds now, all `completed`, no duplicates, and state's attachment records
  point at those same ids;
* `assert_no_stray_files`: every live File is either foreign (created outside the tool) or the
  current object of a File address in state: no leftover old versions, no duplicate uploads.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Set as AbstractSet
from typing import Any, Protocol

import httpx

from tests.engine.harness import Result

PAGE = 100
MAX_PAGES = 1000  # bounded paging: 100,000 objects is far beyond any test here
NO_CHANGES = "No changes."


class Checkout(Protocol):
    """A project directory the CLI runs in (local or remote state)."""

    http: httpx.Client  # the data plane (inference base), authenticated

    def run(self, *args: str) -> Result: ...

    def state(self) -> dict[str, Any]: ...


def paged(http: httpx.Client, path: str, limit: int = PAGE) -> list[dict[str, Any]]:
    """Every item of a list endpoint, following `after` cursors (bounded)."""
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": limit}
    for _ in range(MAX_PAGES):
        r = http.get(path, params=params)
        r.raise_for_status()
        body = r.json()
        items.extend(body["data"])
        if not body.get("has_more") or not body["data"]:
            return items
        params = {"limit": limit, "after": body["data"][-1]["id"]}
    raise AssertionError(f"{path}: more than {MAX_PAGES} pages")


def live_store_files(http: httpx.Client, store_id: str) -> list[dict[str, Any]]:
    return paged(http, f"/vector_stores/{store_id}/files")


def live_files(http: httpx.Client) -> list[dict[str, Any]]:
    return paged(http, "/files", limit=10000)


def assert_plan_clean(checkout: Checkout, manifests: str = "manifests", *extra: str) -> Result:
    r = checkout.run("plan", manifests, "--detailed-exitcode", *extra)
    assert r.exit_code == 0 and NO_CHANGES in r.stdout, (
        f"the plan after a successful apply should say {NO_CHANGES!r} and exit 0; "
        f"it exited {r.exit_code}:\n{r.output[-4000:]}"
    )
    return r


def resources(checkout: Checkout) -> dict[str, dict[str, Any]]:
    return checkout.state()["resources"]


def assert_store_has_exactly(checkout: Checkout, store_address: str, file_addresses: set[str]) -> None:
    """The store holds exactly these declared documents, each at its File's current id, completed."""
    res = resources(checkout)
    assert store_address in res, f"{store_address} is not in state"
    store_id = res[store_address]["id"]
    missing_in_state = sorted(a for a in file_addresses if a not in res)
    assert not missing_in_state, f"declared Files not in state: {missing_in_state[:5]}"
    want = {res[a]["id"]: a for a in file_addresses}
    live = live_store_files(checkout.http, store_id)
    ids = [f["id"] for f in live]
    dupes = [i for i, n in Counter(ids).items() if n > 1]
    assert not dupes, f"{store_address}: file ids attached more than once: {dupes[:5]}"
    absent = sorted(a for i, a in want.items() if i not in ids)
    assert not absent, (f"{store_address} ({store_id}) is missing {len(absent)} of {len(want)} declared "
                        f"document(s) at their current File id, e.g. {absent[:3]}")
    extra = sorted(set(ids) - set(want))
    assert not extra, f"{store_address} holds {len(extra)} file(s) that are not the declared documents: {extra[:5]}"
    not_done = sorted((f["id"], f["status"]) for f in live if f["status"] != "completed")
    assert not not_done, f"{store_address}: attachments not completed: {not_done[:5]}"
    live_file_ids = {f["id"] for f in live_files(checkout.http)}
    gone = sorted(i for i in ids if i not in live_file_ids)
    assert not gone, f"{store_address}: attachments point at deleted Files: {gone[:5]}"
    recorded = {rs["id"] for a, rs in res.items()
                if rs["kind"] == "vector_store_file" and rs.get("parent_id") == store_id}
    assert recorded == set(want), (
        f"{store_address}: state's attachment records point at {len(recorded - set(want))} old/unknown file "
        f"id(s) and miss {len(set(want) - recorded)} current one(s)")


def assert_no_stray_files(checkout: Checkout, foreign: AbstractSet[str] = frozenset()) -> None:
    """Live Files = foreign ones + the current object of every File address in state."""
    res = resources(checkout)
    deposed = sorted(f"{d['address']} ({d['resource']['id']})" for d in checkout.state().get("deposed", []))
    assert not deposed, f"state still holds replaced objects: {deposed[:5]}"
    tracked = {rs["id"] for rs in res.values() if rs["kind"] == "file"}
    live = [f["id"] for f in live_files(checkout.http)]
    untracked = sorted(set(live) - tracked - set(foreign))
    assert not untracked, f"{len(untracked)} live File(s) are neither foreign nor tracked (leftovers or duplicates)"
    lost = sorted(tracked - set(live))
    assert not lost, f"state tracks {len(lost)} File id(s) that no longer exist: {lost[:5]}"
    missing_foreign = sorted(set(foreign) - set(live))
    assert not missing_foreign, f"foreign Files were deleted: {missing_foreign}"


def assert_converged(checkout: Checkout, stores: dict[str, set[str]],
                     foreign_files: AbstractSet[str] = frozenset()) -> None:
    """The full contract after an apply that exited 0."""
    for store, files in stores.items():
        assert_store_has_exactly(checkout, store, files)
    assert_no_stray_files(checkout, foreign_files)
    assert_plan_clean(checkout)


def apply_ok(checkout: Checkout, *args: str) -> Result:
    r = checkout.run("apply", "manifests", "--auto-approve", *args)
    assert r.exit_code == 0, r.output[-4000:]
    return r


def container_file_name(path: str) -> str:
    """The file name in a container file's path; services prefix it with a hash (/mnt/data/<hash>-<name>)."""
    return re.sub(r"^[0-9a-f]{8}-", "", path.rsplit("/", 1)[-1])
