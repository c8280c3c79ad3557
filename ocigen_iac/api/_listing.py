"""Listing a large collection quickly and completely, even when `created_at` ties.

A vector store with thousands of files is a chain of 100-item pages, each needing the previous
page's cursor: listed alone it costs pages x round-trip. Two ways to walk several chains at once:

* **From known cursors** (the usual case: state knows the ids of the files it attached). Chains
  start at the beginning and after a few known ids spread over the collection, all in the same
  order; each stops as soon as it reads an object another chain has read, or the id another
  chain starts after (that chain reads what follows it: handing over there costs no page).
  Every chain is a contiguous run and each stops only where another run has been or will go on,
  so together they cover the collection from the first object to the last, whatever the order
  of ties. A cursor that no longer exists only drops its chain (a chain handed over to one that
  then fails makes the listing start again as one chain). About pages / chains round-trips; when
  state's order is the service's, no page is read twice.

* **From both ends** (nothing known yet): one chain ascending and one descending by `created_at`,
  until together they provably cover the collection. The proof must not assume the two orders
  mirror each other: `created_at` has one-second resolution, hundreds of files attached by one
  batch share a second, and a service may order ties the same way in both directions. So the
  chains stop on *time groups*, not on ids. Each reads a group to its end before the next (a
  group's internal order may be anything); when a chain reaches the group the other is reading,
  one of them (the first to notice) stops and the other finishes that group; when a chain
  reaches a time the other has already passed, everything was seen.

Anything odd (an item without `created_at`, an order that is not sorted) makes the ascending
chain run to its end on its own. When the descending chain only repeats what the ascending one
read (one big group), it stops after one page. When the caller knows how many objects there are
(a store's `file_counts.total`), a listing that comes up short is re-done with one chain, and if
it is still short `ListingIncomplete` is raised: a broken cursor must never make objects look
deleted.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator, Callable
from typing import Any

from ._exceptions import MalformedResponse

__all__ = ["ListingIncomplete", "list_complete", "spread"]


class ListingIncomplete(MalformedResponse):
    """The service listed fewer objects than it says it holds."""


Slim = Callable[[dict[str, Any]], Any]  # a dict, or a compact value the caller unpacks


async def _one_chain(make_iter: Callable[..., AsyncIterator[Any]], slim: Slim) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    async with contextlib.aclosing(make_iter("asc")) as pages:
        async for page in pages:
            for obj in page:
                out[sys.intern(obj["id"])] = slim(obj)
    return out


class _Meet:
    """What the two chains know of each other (single-threaded: asyncio)."""

    def __init__(self) -> None:
        self.group = {"asc": None, "desc": None}  # the time group each chain is reading
        self.stopped = {"asc": False, "desc": False}
        self.finisher: str | None = None  # the chain that must read the shared group to its end
        self.done = False
        self.asc_alone = False


async def _two_chains(make_iter: Callable[[str], AsyncIterator[Any]], slim: Slim,
                      page_size: int) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    m = _Meet()
    desc_task: asyncio.Task[None] | None = None

    def ahead(order: str, t: float, other: float) -> bool:
        return t > other if order == "asc" else t < other

    async def chain(order: str) -> None:
        nonlocal desc_task
        other = "desc" if order == "asc" else "asc"
        seen = repeats = 0
        async with contextlib.aclosing(make_iter(order)) as pages:
            async for page in pages:
                for obj in page:
                    if m.done or (order == "desc" and m.asc_alone):
                        return
                    item = slim(obj)  # what the caller keeps (a dict, or a compact value)
                    t = obj.get("created_at")
                    last = m.group[order]
                    if not isinstance(t, int | float) or (last is not None and ahead(other, float(t), last)):
                        m.asc_alone = True  # no usable order: the ascending chain must see it all
                        t = None
                    if order == "desc":
                        repeats = repeats + 1 if obj["id"] in out else 0
                        if repeats >= page_size:  # one big group read twice: leave it to the ascending chain
                            m.asc_alone = True
                            return
                    if t is not None and not m.asc_alone:
                        t = float(t)
                        theirs = m.group[other]
                        if m.finisher == order and last is not None and t != last:
                            m.done = True  # finished the shared group: everything was seen
                            return
                        if theirs is not None and m.finisher is None:
                            if ahead(order, t, theirs):  # the other chain covers all of this time already
                                m.done = True
                                return
                            if t == theirs:  # we reached the group the other is reading
                                m.group[order] = t
                                m.finisher = other  # it finishes the group; we are done
                                m.stopped[order] = True
                                return
                        m.group[order] = t
                    out[sys.intern(obj["id"])] = item
                    seen += 1
                    if order == "asc" and desc_task is None and seen >= page_size and not m.asc_alone:
                        desc_task = asyncio.ensure_future(chain("desc"))
        # reached the far end: this chain alone covered everything from where it started
        if order == "asc" or (not m.asc_alone and m.finisher != "asc"):
            m.done = True
        m.stopped[order] = True

    try:
        await chain("asc")
        if desc_task is not None and not m.done:
            await desc_task  # the ascending chain handed a group over (or stopped): let it finish
    finally:
        if desc_task is not None:
            if not desc_task.done():
                desc_task.cancel()
            await asyncio.gather(desc_task, return_exceptions=True)
    if not m.done:  # the chains could not prove they met (a cancelled or odd chain): read it all
        return await _one_chain(make_iter, slim)
    return out


MAX_CHAINS = 8


def spread(known: list[str], expected_total: int | None, page_size: int) -> list[str]:
    """Cursors for `_from_cursors`: a few known ids, evenly spaced (`known` in listing order, as
    well as the caller can tell), about one chain per two pages."""
    pages = -(-(expected_total or len(known)) // page_size)
    chains = min(MAX_CHAINS, max(1, (pages + 1) // 2))
    known_pages = -(-len(known) // page_size)
    if chains < 2 or known_pages < chains:
        return []
    # a chain starts *after* its cursor: each cursor ends a whole page, so every chain but the
    # last reads only full pages and together they read no more pages than one chain would
    return [known[page_size * ((known_pages * j) // chains) - 1] for j in range(1, chains)]


async def _from_cursors(make_iter: Callable[..., AsyncIterator[Any]], slim: Slim,
                        cursors: list[str]) -> dict[str, dict[str, Any]]:
    from ._exceptions import ApiError

    out: dict[str, dict[str, Any]] = {}
    owner: dict[str, int] = {}
    starts_after = {c: i for i, c in reversed(list(enumerate(cursors, start=1)))}
    handed_to: set[int] = set()

    async def chain(i: int, after: str | None) -> None:
        async with contextlib.aclosing(make_iter("asc", after)) as pages:
            async for page in pages:
                for obj in page:
                    oid = sys.intern(obj["id"])
                    if owner.setdefault(oid, i) != i:
                        return  # another chain has been here: the rest is its (or a later chain's)
                    out[oid] = slim(obj)
                    successor = starts_after.get(oid)
                    if successor is not None and successor != i:
                        handed_to.add(successor)
                        return  # what follows this id is that chain's first page

    results = await asyncio.gather(*(chain(i, c) for i, c in enumerate([None, *cursors])), return_exceptions=True)
    for i, r in enumerate(results):
        if isinstance(r, BaseException) and (i == 0 or not isinstance(r, ApiError)):
            raise r  # the chain from the start must work; a stale cursor (ApiError) only drops its chain
    if any(isinstance(results[i], BaseException) for i in handed_to):
        return await _one_chain(make_iter, slim)  # a chain we stopped for did not run: no gap allowed
    return out


async def list_complete(
    make_iter: Callable[..., AsyncIterator[Any]],
    *,
    what: str,
    page_size: int = 100,
    expected_total: int | None = None,
    slim: Slim = lambda d: d,
    cursors: list[str] | None = None,
) -> dict[str, dict[str, Any]]:
    """Every object of a collection, keyed by id. `make_iter(order, after=None)` lists it in that
    order (starting after `after`), a page (a list of dicts with an "id") at a time; `cursors`:
    ids known to be in it, spread over it."""
    if cursors:
        out = await _from_cursors(make_iter, slim, cursors)
    else:
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
