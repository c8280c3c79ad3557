"""LiveView: everything refresh read from the service, by resource type and parent, keyed by id.

Plain dicts (as the API returned them, slimmed by the type). Reading never mutates the service;
filling a LiveView is refresh's job, reading it the planner's.
"""

from __future__ import annotations

from typing import Any

Objects = dict[str, dict[str, Any]]


class LiveView:
    def __init__(self) -> None:
        self._objects: dict[tuple[str, str | None], Objects] = {}

    def put_all(self, type_name: str, parent_id: str | None, objects: Objects) -> None:
        self._objects[(type_name, parent_id)] = objects

    def put(self, type_name: str, parent_id: str | None, obj: dict[str, Any]) -> None:
        self._objects.setdefault((type_name, parent_id), {})[obj["id"]] = obj

    def discard(self, type_name: str, parent_id: str | None, object_id: str) -> None:
        self._objects.get((type_name, parent_id), {}).pop(object_id, None)

    def listed(self, type_name: str, parent_id: str | None = None) -> bool:
        return (type_name, parent_id) in self._objects

    def objects(self, type_name: str, parent_id: str | None = None) -> Objects:
        return self._objects.get((type_name, parent_id), {})

    def get(self, type_name: str, object_id: str, parent_id: str | None = None) -> dict[str, Any] | None:
        return self._objects.get((type_name, parent_id), {}).get(object_id)

    def count(self) -> int:
        return sum(len(v) for v in self._objects.values())
