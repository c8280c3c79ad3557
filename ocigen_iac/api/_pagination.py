"""Cursor pagination over OpenAI-style list endpoints (this module owns the paging loop).

A page is `{object: "list", data: [...], first_id, last_id, has_more}`. Like the openai SDK,
the next page is requested with `after=<id of the last item in data>`; paging stops when
`has_more` is false or `data` is empty. If `has_more` is missing, a full page (len == limit)
means "ask again". A cursor that does not advance, an item without an id, or more than
`MAX_PAGES` pages raises `MalformedResponse`: never an infinite loop.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter

from ._exceptions import MalformedResponse
from .models import parse, parse_page

__all__ = ["MAX_PAGES", "paginate", "paginate_pages"]

MAX_PAGES = 100_000

M = TypeVar("M", bound=BaseModel)

FetchPage = Callable[[dict[str, Any]], Awaitable[tuple[Any, str, str]]]
"""fetch(params) -> (decoded JSON body, method, url) for one page."""


async def paginate(
    fetch: FetchPage,
    model: type[M],
    *,
    limit: int,
    params: dict[str, Any] | None = None,
    what: str = "list",
    max_pages: int = MAX_PAGES,
    start_after: str | None = None,
) -> AsyncIterator[M]:
    """Each item as a `model`. `start_after`: begin after this object (a cursor the caller knows)."""
    async for data, method, url in _pages(fetch, limit=limit, params=params, what=what, max_pages=max_pages,
                                          start_after=start_after):
        for item in data:
            yield parse(model, item, what=what, method=method, url=url)


async def paginate_pages(
    fetch: FetchPage,
    view: TypeAdapter[list[dict[str, Any]]],
    *,
    limit: int,
    params: dict[str, Any] | None = None,
    what: str = "list",
    max_pages: int = MAX_PAGES,
    start_after: str | None = None,
) -> AsyncIterator[list[dict[str, Any]]]:
    """Each page as a list of plain dicts, validated by a `models.listing_view` in one call."""
    async for data, method, url in _pages(fetch, limit=limit, params=params, what=what, max_pages=max_pages,
                                          start_after=start_after):
        yield parse_page(view, data, what=what, method=method, url=url)


async def _pages(fetch: FetchPage, *, limit: int, params: dict[str, Any] | None, what: str, max_pages: int,
                 start_after: str | None) -> AsyncIterator[tuple[list[Any], str, str]]:
    """The paging loop: each non-empty page's raw `data`, with the request's method and url."""
    base = {k: v for k, v in (params or {}).items() if v is not None}
    after: str | None = start_after
    seen_cursors: set[str] = set()
    for _page_no in range(max_pages):
        q = dict(base, limit=limit)
        if after is not None:
            q["after"] = after
        body, method, url = await fetch(q)
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise MalformedResponse(None, "malformed_response",
                                    f"malformed response for {what}: expected a list object with 'data'",
                                    None, method, url)
        data: list[Any] = body["data"]
        if not data:
            return
        yield data, method, url
        last = data[-1].get("id") if isinstance(data[-1], dict) else None
        has_more = body.get("has_more")
        if has_more is None:
            has_more = len(data) >= limit
        if not has_more:
            return
        if not isinstance(last, str) or not last:
            raise MalformedResponse(None, "malformed_response",
                                    f"malformed response for {what}: has_more is true but the last item "
                                    "has no id to continue from", None, method, url)
        if last == after or last in seen_cursors:
            raise MalformedResponse(None, "pagination_loop",
                                    f"pagination of {what} does not advance (cursor {last!r} seen "
                                    "before); refusing to loop forever", None, method, url)
        seen_cursors.add(last)
        after = last
    raise MalformedResponse(None, "pagination_loop",
                            f"pagination of {what} exceeded {max_pages} pages; refusing to continue")
