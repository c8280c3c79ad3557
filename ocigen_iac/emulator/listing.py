"""List endpoints: the OpenAI list envelope and one keyset-paged query per request.

Every list route reads the same query parameters (`limit`, `order`, `after`, and `before` where
the API has it), pages through `Db.page`, turns an unknown cursor into a 400 and wraps the rows
in `{object: "list", data, first_id, last_id, has_more}`.

The `page_anomaly` fault bends pages here: "short" halves the page size (has_more stays true
while objects remain, which is legal), "empty_cursor" answers an empty last page to any request
that carries a cursor (which is not).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .context import Ctx
from .errors import bad_request
from .responses import JSONResponse
from .validate import limit_param, order_param


def list_body(data: list[dict[str, Any]], has_more: bool, key: str = "id") -> dict[str, Any]:
    return {
        "object": "list",
        "data": data,
        "first_id": data[0][key] if data else None,
        "last_id": data[-1][key] if data else None,
        "has_more": has_more,
    }


def list_page(
    ctx: Ctx,
    *,
    table: str,
    where: str,
    params: Sequence[Any],
    key_where: str,
    render: Callable[[Any], dict[str, Any]],
    default_limit: int = 20,
    max_limit: int = 100,
    with_before: bool = True,
    key_params: Sequence[Any] = (),
    cols: str = "*",
    prefix: str = "",
) -> JSONResponse:
    limit = limit_param(ctx, default_limit, max_limit)
    order = order_param(ctx)
    after = ctx.q("after")
    before = ctx.q("before") if with_before else None
    anomaly = ctx.emu.faults.page_anomaly(ctx.request.method, ctx.request.url.path)
    if anomaly == "empty_cursor" and (after is not None or before is not None):
        ctx.emu.counters.inject("page_empty_cursor")
        return JSONResponse(list_body([], False))
    if anomaly == "short" and limit > 1:
        ctx.emu.counters.inject("page_short")
        limit = (limit + 1) // 2
    try:
        rows, more = ctx.emu.db.page(
            table=table,
            where=where,
            params=params,
            key_where=key_where,
            key_params=key_params,
            order=order,
            limit=limit,
            after=after,
            before=before,
            cols=cols,
            prefix=prefix,
        )
    except LookupError as exc:
        raise bad_request(f"Unknown cursor '{ctx.q(str(exc))}'.", param=str(exc)) from None
    return JSONResponse(list_body([render(r) for r in rows], more))
