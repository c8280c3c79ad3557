"""Attribute diffs between what is and what is wanted, as AttrChange records (via deepdiff)."""

from __future__ import annotations

import re
from typing import Any

from ocigen_iac.engine.plan import AttrChange

_PATH_PART = re.compile(r"\[(?:'((?:[^'\\]|\\.)*)'|(\d+))\]")


def _dotted(deepdiff_path: str) -> str:
    parts = [m.group(1) if m.group(1) is not None else m.group(2) for m in _PATH_PART.finditer(deepdiff_path)]
    return ".".join(parts)


def _get(data: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


def attr_changes(
    before: dict[str, Any], after: dict[str, Any], *, ignore: set[str] = frozenset(),  # type: ignore[assignment]
    update_fields: frozenset[str] = frozenset(),
) -> list[AttrChange]:
    """Changes from `before` to `after`, one per leaf path; top-level keys in `ignore` are skipped.

    `forces_replacement` is set for paths whose top-level field is not in `update_fields`.
    """
    if before == after:  # the common case (a no-op plan): nothing to walk
        return []
    keys = sorted((set(before) | set(after)) - set(ignore))
    left = {k: before.get(k) for k in keys}
    right = {k: after.get(k) for k in keys}
    if left == right:
        return []
    from deepdiff import DeepDiff

    diff = DeepDiff(left, right, ignore_numeric_type_changes=True)
    paths: set[str] = set()
    for bucket in ("values_changed", "type_changes", "dictionary_item_added", "dictionary_item_removed",
                   "iterable_item_added", "iterable_item_removed"):
        for p in diff.get(bucket, []):
            paths.add(_dotted(p))
    changes = []
    for path in sorted(paths):
        top = path.split(".", 1)[0]
        changes.append(AttrChange(path, _get(left, path), _get(right, path), top not in update_fields))
    return changes
