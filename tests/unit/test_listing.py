"""The two-ended listing is complete whatever the time groups look like (no server)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from ocigen_iac.api import ListingIncomplete, list_complete

PAGE = 100


@dataclass
class Obj:
    id: str
    created_at: Any

    def as_listed(self) -> dict[str, Any]:
        return {"id": self.id, "created_at": self.created_at}


class FakeCollection:
    """A paged collection; `tie_order(group, order)` orders ties the way a service might."""

    def __init__(self, times: list[Any], mirror_ties: bool = False, unsorted: bool = False) -> None:
        self.items = [Obj(f"o{i:05}", t) for i, t in enumerate(times)]
        self.mirror_ties = mirror_ties
        self.unsorted = unsorted
        self.pages = {"asc": 0, "desc": 0}

    def ordered(self, order: str) -> list[Obj]:
        if self.unsorted:
            return list(self.items) if order == "asc" else list(reversed(self.items))
        seq = {o.id: i for i, o in enumerate(self.items)}

        def key(o: Obj) -> tuple[float, int]:
            t = o.created_at if isinstance(o.created_at, int | float) else 0
            s = seq[o.id]
            if order == "desc":
                return (-t, -s if self.mirror_ties else s)
            return (t, s)

        return sorted(self.items, key=key)

    def make_iter(self, order: str) -> AsyncIterator[list[dict[str, Any]]]:
        async def gen() -> AsyncIterator[list[dict[str, Any]]]:
            items = self.ordered(order)
            for start in range(0, len(items), PAGE):
                self.pages[order] += 1
                await asyncio.sleep(0)  # a round-trip: lets the other chain run
                yield [o.as_listed() for o in items[start:start + PAGE]]
        return gen()


def listed(c: FakeCollection, total: int | None = None) -> dict[str, Any]:
    return asyncio.run(list_complete(c.make_iter, what="test", page_size=PAGE, expected_total=total))


@pytest.mark.parametrize("mirror", [False, True])
@pytest.mark.parametrize("shape", ["one_second", "two_batches", "every_second", "random_groups", "small"])
def test_every_object_is_listed_whatever_the_ties(shape: str, mirror: bool) -> None:
    rng = random.Random(shape)
    times = {
        "one_second": [1000] * 1000,
        "two_batches": [1000] * 500 + [1003] * 500,
        "every_second": list(range(1000)),
        "random_groups": sorted(rng.choice(range(20)) for _ in range(1234)),
        "small": [5] * 37,
    }[shape]
    c = FakeCollection(times, mirror_ties=mirror)
    out = listed(c)
    assert set(out) == {o.id for o in c.items}
    floor = -(-len(times) // PAGE)
    assert sum(c.pages.values()) <= floor + 7  # overlap costs at most a few pages
    assert max(c.pages.values()) <= floor  # and no chain reads more than the whole


def test_two_batches_take_about_half_the_sequential_pages() -> None:
    c = FakeCollection([1000] * 500 + [1003] * 500)
    listed(c)
    assert max(c.pages.values()) <= 7  # ~6 sequential pages instead of 10


def test_one_big_group_costs_one_extra_page() -> None:
    c = FakeCollection([1000] * 1000)
    listed(c)
    assert c.pages == {"asc": 10, "desc": 1}


def test_missing_or_unsorted_times_fall_back_to_one_full_chain() -> None:
    for c in (FakeCollection([None] * 450), FakeCollection([3, 1, 2] * 150, unsorted=True)):
        assert set(listed(c)) == {o.id for o in c.items}


def test_a_short_listing_against_the_known_count_is_an_error() -> None:
    c = FakeCollection(list(range(150)))
    with pytest.raises(ListingIncomplete, match="lists 150 objects but reports 200"):
        listed(c, total=200)


def test_random_time_groups_are_always_listed_completely() -> None:
    for seed in range(150):
        rng = random.Random(seed)
        n, groups = rng.randint(1, 1200), rng.randint(1, 40)
        c = FakeCollection(sorted(rng.randrange(groups) for _ in range(n)), mirror_ties=rng.random() < 0.5)
        assert set(listed(c)) == {o.id for o in c.items}, f"seed {seed}"
        assert max(c.pages.values()) <= -(-n // PAGE), f"seed {seed}: a chain read more than the whole"


class CursorCollection(FakeCollection):
    """Also answers `after=<id>` in ascending order, like a keyset cursor."""

    def make_iter(self, order: str, after: str | None = None,  # type: ignore[override]
                  ) -> AsyncIterator[list[dict[str, Any]]]:
        async def gen() -> AsyncIterator[list[dict[str, Any]]]:
            items = self.ordered(order)
            if after is not None:
                ids = [o.id for o in items]
                if after not in ids:
                    from ocigen_iac.api import ApiError
                    raise ApiError(400, "invalid_cursor", f"no object {after}")
                items = items[ids.index(after) + 1:]
            for start in range(0, len(items), PAGE):
                self.pages[order] += 1
                await asyncio.sleep(0)
                yield [o.as_listed() for o in items[start:start + PAGE]]
        return gen()


def test_chains_from_known_cursors_list_everything_in_a_few_round_trips() -> None:
    from ocigen_iac.api import spread

    for seed in range(60):
        rng = random.Random(seed)
        n = rng.randint(150, 1500)
        c = CursorCollection([1000] * n)  # one big tie: the worst case for the two-ended walk
        known = [o.id for o in c.items]
        rng.shuffle(known)  # the caller's idea of the order may be wrong: still complete
        known += ["gone-1"]  # a cursor that no longer exists drops only its chain
        cursors = spread(known, n, PAGE)
        out = asyncio.run(list_complete(c.make_iter, what="t", page_size=PAGE, expected_total=n, cursors=cursors))
        assert set(out) == {o.id for o in c.items}, f"seed {seed}"


def test_evenly_spread_cursors_cut_the_sequential_pages() -> None:
    from ocigen_iac.api import spread

    c = CursorCollection([1000] * 1000)
    cursors = spread([o.id for o in c.items], 1000, PAGE)
    assert len(cursors) == 4  # five chains for ten pages: about two pages each
    asyncio.run(list_complete(c.make_iter, what="t", page_size=PAGE, expected_total=1000, cursors=cursors))
    # each chain hands over at the id the next one starts after: no page is read twice
    assert c.pages["asc"] == 10


@pytest.mark.parametrize("n", [1000, 1500, 2345, 5000, 10_000])
def test_chains_read_no_more_pages_than_one_chain_when_state_knows_the_order(n: int) -> None:
    from ocigen_iac.api import spread

    c = CursorCollection([1000 + i // 500 for i in range(n)])  # batches of 500 sharing a second
    cursors = spread([o.id for o in c.items], n, PAGE)
    out = asyncio.run(list_complete(c.make_iter, what="t", page_size=PAGE, expected_total=n, cursors=cursors))
    assert len(out) == n
    assert c.pages["asc"] == -(-n // PAGE)  # the page-count floor


def test_a_chain_handed_over_to_that_then_fails_does_not_leave_a_gap() -> None:
    from ocigen_iac.api import spread

    class Flaky(CursorCollection):
        def make_iter(self, order: str, after: str | None = None) -> AsyncIterator[list[dict[str, Any]]]:
            if after == broken:  # the id exists (the chain before reads it) but listing after it fails
                from ocigen_iac.api import ApiError
                raise ApiError(400, "invalid_cursor", f"cannot list after {after}")
            return super().make_iter(order, after)

    c = Flaky([1000] * 1000)
    cursors = spread([o.id for o in c.items], 1000, PAGE)
    broken = cursors[1]
    out = asyncio.run(list_complete(c.make_iter, what="t", page_size=PAGE, cursors=cursors))
    assert set(out) == {o.id for o in c.items}
