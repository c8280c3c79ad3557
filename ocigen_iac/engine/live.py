"""LiveView: everything refresh read from the service, by resource type and parent, keyed by id.

Plain dicts (as the API returned them, slimmed by the type). A type may keep its listed objects
compact (a large plan lists 100,000 of them): a value that is not a dict is turned back into
the dict with the `unpack` given to `put_all`, each time it is read. Reading never mutates the
service; filling a LiveView is refresh's job, reading it the planner's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Objects = dict[str, dict[str, Any]]
Unpack = Callable[[str, Any], dict[str, Any]]


class LiveView:
    def __init__(self) -> None:
        self._objects: dict[tuple[str, str | None], dict[str, Any]] = {}
        self._unpack: dict[tuple[str, str | None], Unpack] = {}

    def put_all(self, type_name: str, parent_id: str | None, objects: dict[str, Any],
                unpack: Unpack | None = None) -> None:
        self._objects[(type_name, parent_id)] = objects
        if unpack is not None:
            self._unpack[(type_name, parent_id)] = unpack

    def put(self, type_name: str, parent_id: str | None, obj: dict[str, Any]) -> None:
        self._objects.setdefault((type_name, parent_id), {})[obj["id"]] = obj

    def discard(self, type_name: str, parent_id: str | None, object_id: str) -> None:
        self._objects.get((type_name, parent_id), {}).pop(object_id, None)

    def listed(self, type_name: str, parent_id: str | None = None) -> bool:
        return (type_name, parent_id) in self._objects

    def objects(self, type_name: str, parent_id: str | None = None) -> Objects:
        key = (type_name, parent_id)
        objects = self._objects.get(key, {})
        unpack = self._unpack.get(key)
        if unpack is None:
            return objects
        return {k: v if type(v) is dict else unpack(k, v) for k, v in objects.items()}

    def get(self, type_name: str, object_id: str, parent_id: str | None = None) -> dict[str, Any] | None:
        key = (type_name, parent_id)
        obj = self._objects.get(key, {}).get(object_id)
        if obj is None or type(obj) is dict:
            return obj
        return self._unpack[key](object_id, obj)

    def count(self) -> int:
        return sum(len(v) for v in self._objects.values())
