"""Listing a large collection quickly and completely, even when `created_at` ties.

A vector store with thousands of files is a chain of 100-item pages, each needing the previous
page's cursor: listed alone it costs pages x round-trip. `list_complete` walks two chains at once,
ascending and descending by `created_at`, and stops when together they provably cover the
collection. That proof must not assume the two orders mirror each other: `created_at` has
one-second resolution, hundreds of files attached by one batch share a second, and a service
may order ties the same way in both directions. So the chains stop on *time*, not on ids:

* the ascending chain has seen everything created before the newest time it has reached (A);
* the descending chain has seen everything created after the oldest time it has reached (D);
* once A > D (one chain has passed the other's frontier) everything was seen.

When many objects share one second, the descending chain reads that second's objects in the same
order the ascending one does: it only repeats work. So it stops as soon as a whole page of it was
already seen, and the ascending chain finishes alone (at most one wasted page).

Anything odd (an item without `created_at`, an order that is not sorted) makes the ascending
chain run to its end instead. When the caller knows how many objects there are (a store's
`file_counts.total`), a listing that comes up short is re-done with one chain, and if it is still
short `ListingIncomplete` is raised: a broken cursor must never make objects look deleted.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from ._exceptions import MalformedResponse

__all__ = ["ListingIncomplete", "list_complete"]


class ListingIncomplete(MalformedResponse):
    """The service listed fewer objects than it says it holds."""


async def _one_chain(make_iter: Callable[[str], AsyncIterator[Any]], slim: Callable[[dict[str, Any]], dict[str, Any]]
                     ) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    async with contextlib.aclosing(make_iter("asc")) as items:
        async for obj in items:
            out[obj.id] = slim(obj.model_dump())
    return out


async def _two_chains(make_iter: Callable[[str], AsyncIterator[Any]], slim: Callable[[dict[str, Any]], dict[str, Any]],
                      page_size: int) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    frontier: dict[str, float | None] = {"asc": None, "desc": None}  # newest seen by asc, oldest by desc
    state = {"done": False, "asc_alone": False}
    desc_task: asyncio.Task[None] | None = None

    def passed(order: str, t: float) -> bool:
        other = frontier["desc" if order == "asc" else "asc"]
        if other is None or state["asc_alone"]:
            return False
        return t > other if order == "asc" else t < other

    async def chain(order: str) -> None:
        nonlocal desc_task
        seen = 0
        repeats = 0  # consecutive objects this chain found already listed
        last: float | None = None
        async with contextlib.aclosing(make_iter(order)) as items:
            async for obj in items:
                if state["done"] or (order == "desc" and state["asc_alone"]):
                    return
                if order == "desc":
                    repeats = repeats + 1 if obj.id in out else 0
                    if repeats >= page_size:  # a tie group read twice: leave it to the ascending chain
                        state["asc_alone"] = True
                        return
                item = slim(obj.model_dump())
                t = item.get("created_at")
                if not isinstance(t, int | float) or (last is not None and (t < last if order == "asc" else t > last)):
                    state["asc_alone"] = True  # no usable order: the ascending chain must see it all
                    t = None
                if t is not None and passed(order, float(t)):
                    state["done"] = True
                    return
                out[obj.id] = item
                seen += 1
                if t is not None:
                    last = float(t)
                    frontier[order] = last
                if order == "asc" and desc_task is None and seen >= page_size and not state["asc_alone"]:
                    desc_task = asyncio.ensure_future(chain("desc"))
        if order == "asc" or not state["asc_alone"]:
            state["done"] = True  # this chain reached the far end: it alone covered everything

    try:
        await chain("asc")
    finally:
        if desc_task is not None:
            if not state["done"]:  # only on an error in the ascending chain
                desc_task.cancel()
            await asyncio.gather(desc_task, return_exceptions=not state["done"])
    return out


async def list_complete(
    make_iter: Callable[[str], AsyncIterator[Any]],
    *,
    what: str,
    page_size: int = 100,
    expected_total: int | None = None,
    slim: Callable[[dict[str, Any]], dict[str, Any]] = lambda d: d,
) -> dict[str, dict[str, Any]]:
    """Every object of a collection, keyed by id. `make_iter(order)` lists it in that order."""
    out = await _two_chains(make_iter, slim, page_size)
    if expected_total is None or len(out) >= expected_total:
        return out
    again = await _one_chain(make_iter, slim)  # counts can move while we list: one careful retry
    if len(again) >= expected_total or len(again) > len(out):
        out = {**out, **again}
    if len(out) < expected_total:
        raise ListingIncomplete(
            None, "listing_incomplete",
            f"{what}: the service lists {len(out)} objects but reports {expected_total}; its pagination looks "
            "broken (a cursor that returns nothing while objects remain?). Nothing was planned, because missing "
            "objects would look deleted. Try again; if it persists, report it to the service.",
        )
    return out
