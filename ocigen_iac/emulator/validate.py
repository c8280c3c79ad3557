"""Request validation shared by the routes: pagination parameters, metadata, attributes, chunking
strategies and expiry policies. Every failure is a 400 naming the offending parameter."""

from __future__ import annotations

from typing import Any

from .context import Ctx
from .errors import bad_request
from .model import AUTO_CHUNKING


def limit_param(ctx: Ctx, default: int, maximum: int) -> int:
    raw = ctx.q("limit")
    if raw is None:
        return default
    try:
        n = int(raw)
    except ValueError:
        raise bad_request(f"limit must be an integer between 1 and {maximum}", param="limit") from None
    if not 1 <= n <= maximum:
        raise bad_request(f"limit must be between 1 and {maximum}; got {n}", param="limit")
    return n


def order_param(ctx: Ctx) -> str:
    order = ctx.q("order") or "desc"
    if order not in ("asc", "desc"):
        raise bad_request("order must be 'asc' or 'desc'", param="order")
    return order


def metadata(value: Any, param: str = "metadata") -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise bad_request(f"{param} must be an object of string values", param=param)
    if len(value) > 16:
        raise bad_request(f"{param} may have at most 16 keys; got {len(value)}", param=param)
    for k, v in value.items():
        if len(k) > 64:
            raise bad_request(f"{param} key '{k[:20]}...' is longer than 64 characters", param=param)
        if not isinstance(v, str):
            raise bad_request(f"{param} value for '{k}' must be a string", param=param)
        if len(v) > 512:
            raise bad_request(f"{param} value for '{k}' is longer than 512 characters", param=param)
    return value


def attributes(value: Any, param: str = "attributes") -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise bad_request(f"{param} must be an object", param=param)
    if len(value) > 16:
        raise bad_request(f"{param} may have at most 16 keys; got {len(value)}", param=param)
    for k, v in value.items():
        if len(k) > 64:
            raise bad_request(f"{param} key '{k[:20]}...' is longer than 64 characters", param=param)
        if isinstance(v, str):
            if len(v) > 512:
                raise bad_request(f"{param} value for '{k}' is longer than 512 characters", param=param)
        elif not isinstance(v, int | float | bool):
            raise bad_request(f"{param} value for '{k}' must be a string, number or boolean", param=param)
    return value


def chunking(value: Any, param: str = "chunking_strategy") -> dict[str, Any]:
    """Returns the stored (static) form; `auto` and absent mean 800/400."""
    if value is None:
        return AUTO_CHUNKING
    if not isinstance(value, dict) or value.get("type") not in ("auto", "static"):
        raise bad_request(f"{param}.type must be 'auto' or 'static'", param=param)
    if value["type"] == "auto":
        return AUTO_CHUNKING
    st = value.get("static")
    if not isinstance(st, dict):
        raise bad_request(f"{param}.static is required for type 'static'", param=param)
    mx, ov = st.get("max_chunk_size_tokens"), st.get("chunk_overlap_tokens")
    if not isinstance(mx, int) or isinstance(mx, bool) or not 100 <= mx <= 4096:
        raise bad_request(f"{param}.static.max_chunk_size_tokens must be an integer in 100..4096", param=param)
    if not isinstance(ov, int) or isinstance(ov, bool) or ov < 0 or ov > mx // 2:
        raise bad_request(
            f"{param}.static.chunk_overlap_tokens must be an integer in 0..max_chunk_size_tokens/2",
            param=param,
        )
    return {"type": "static", "static": {"max_chunk_size_tokens": mx, "chunk_overlap_tokens": ov}}


def store_expiry(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or value.get("anchor") != "last_active_at":
        raise bad_request("expires_after.anchor must be 'last_active_at'", param="expires_after")
    days = value.get("days")
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 365:
        raise bad_request("expires_after.days must be an integer in 1..365", param="expires_after")
    return {"anchor": "last_active_at", "days": days}


def container_expiry(value: Any) -> int | None:
    if value is None:
        return None
    if not isinstance(value, dict) or value.get("anchor") != "last_active_at":
        raise bad_request("expires_after.anchor must be 'last_active_at'", param="expires_after")
    minutes = value.get("minutes")
    if not isinstance(minutes, int) or isinstance(minutes, bool) or not 1 <= minutes <= 7 * 24 * 60:
        raise bad_request("expires_after.minutes must be an integer in 1..10080", param="expires_after")
    return minutes


def only_keys(body: dict[str, Any], allowed: set[str]) -> None:
    extra = sorted(set(body) - allowed)
    if extra:
        raise bad_request(
            f"Unrecognized request argument(s): {', '.join(extra)}; allowed: {', '.join(sorted(allowed))}",
            param=extra[0],
            code="unknown_parameter",
        )


def string_list(value: Any, param: str, maximum: int | None = None) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise bad_request(f"{param} must be a list of strings", param=param)
    if maximum is not None and len(value) > maximum:
        raise bad_request(f"{param} may hold at most {maximum} items; got {len(value)}", param=param)
    return value
