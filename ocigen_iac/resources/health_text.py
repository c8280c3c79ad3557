"""Small formatting helpers the kinds' `health` summaries share (bytes, times)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from ocigen_iac.resources.base import DEGRADED, HEALTHY, MISSING, PROGRESSING, UNKNOWN

__all__ = ["DEGRADED", "HEALTHY", "MISSING", "PROGRESSING", "UNKNOWN", "human_bytes", "relative", "span", "utc"]


def human_bytes(n: Any) -> str:
    if not isinstance(n, int | float):
        return "? B"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value} B"


def utc(ts: Any) -> str:
    """A Unix time as `2026-11-27 14:05 UTC` ('?' when unknown)."""
    if not isinstance(ts, int | float) or isinstance(ts, bool):
        return "?"
    return datetime.fromtimestamp(float(ts), UTC).strftime("%Y-%m-%d %H:%M UTC")


def span(seconds: float) -> str:
    seconds = abs(seconds)
    if seconds < 90:
        return f"{seconds:.0f}s"
    if seconds < 5400:
        return f"{seconds / 60:.0f}m"
    if seconds < 172800:
        return f"{seconds / 3600:.0f}h"
    return f"{seconds / 86400:.0f}d"


def relative(ts: Any, now: float | None = None) -> str:
    """`in 14m` / `3m ago` for a Unix time."""
    if not isinstance(ts, int | float) or isinstance(ts, bool):
        return "?"
    delta = float(ts) - (time.time() if now is None else now)
    return f"in {span(delta)}" if delta >= 0 else f"{span(delta)} ago"
