"""An instance takes its state record's attributes only when they are the same JSON (no server)."""

from __future__ import annotations

from typing import Any

import pytest

from ocigen_iac.engine.expand import same_value


@pytest.mark.parametrize("recorded, declared, alike", [
    ({"name": "kb", "metadata": {"a": "1"}}, {"name": "kb", "metadata": {"a": "1"}}, True),
    ({"bytes": 1}, {"bytes": True}, False),  # equal for ==, but `true` is not `1` in a plan
    ({"limit": 1}, {"limit": 1.0}, False),
    ({"a": 1, "b": 2}, {"b": 2, "a": 1}, False),  # key order shows in the plan's JSON
    ({"tags": ["x", "y"]}, {"tags": ["y", "x"]}, False),
    ({"expires_after": None}, {"expires_after": None}, True),
    ({"name": "kb"}, {"name": "kb2"}, False),
])
def test_same_value_is_json_identity(recorded: dict[str, Any], declared: dict[str, Any], alike: bool) -> None:
    assert same_value(recorded, declared) is alike
