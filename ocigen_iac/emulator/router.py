"""A tiny method + path-template router. Templates use `{name}` for one segment and `{name:path}`
for the rest of the path. Each route knows its family (api, os, admin) and flags used by the app:
`management` (needs opc-compartment-id) and `create` (eligible for lost-create faults)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

Handler = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    handler: Handler
    family: str = "api"
    management: bool = False
    create: bool = False


def _compile(template: str) -> re.Pattern[str]:
    out = ""
    for part in re.split(r"(\{[^}]+\})", template):
        if part.startswith("{"):
            name, _, kind = part[1:-1].partition(":")
            out += f"(?P<{name}>.+)" if kind == "path" else f"(?P<{name}>[^/]+)"
        else:
            out += re.escape(part)
    return re.compile(f"^{out}$")


class Router:
    def __init__(self) -> None:
        self._routes: list[tuple[re.Pattern[str], Route]] = []

    def add(self, route: Route) -> None:
        self._routes.append((_compile(route.template), route))

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        """Returns (route, params, path_known). path_known without route => 405."""
        known = False
        for rx, route in self._routes:
            m = rx.match(path)
            if m is None:
                continue
            known = True
            if route.method == method or (method == "HEAD" and route.method == "GET" and route.family != "os"):
                return route, m.groupdict(), True
        return None, {}, known
