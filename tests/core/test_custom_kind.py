"""A kind registered from a test module goes through validate, plan, apply, a no-op plan and
destroy with an in-memory client, without any edit to engine/ or state/."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from ocigen_iac.config import load_settings
from ocigen_iac.engine.applier import apply_plan
from ocigen_iac.engine.live import LiveView
from ocigen_iac.engine.plan import Action, Plan
from ocigen_iac.engine.report import Reporter
from ocigen_iac.engine.runner import RunOptions, make_context, refresh_and_plan
from ocigen_iac.errors import ValidationFailed
from ocigen_iac.manifest import load_desired
from ocigen_iac.state import LocalBackend, SyncState
from tests.core import widgets

DOCS = """\
apiVersion: ocigen-iac/v1
kind: Widget
metadata: {name: base}
spec: {size: 3, label: red}
---
apiVersion: ocigen-iac/v1
kind: Widget
metadata: {name: top}
spec: {size: 1, base: base}
"""


@pytest.fixture(autouse=True)
def widget_kind() -> Iterator[None]:
    widgets.register()
    yield
    widgets.unregister()


class Harness:
    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "manifests").mkdir(parents=True)
        self.write(DOCS)
        self.client = widgets.InMemoryWidgets()

    def write(self, text: str) -> None:
        (self.root / "manifests" / "widgets.yaml").write_text(text)

    def run(self, mode: str = "normal", apply: bool = False) -> tuple[Plan, object]:
        settings = load_settings(self.root)
        desired = load_desired(settings, self.root / "manifests")
        sync = SyncState(LocalBackend(self.root / "state", settings.env), settings.env)
        sync.open()
        try:
            ctx = make_context(settings, sync, RunOptions(), Reporter(quiet=True))
            ctx.client = self.client

            async def go() -> tuple[Plan, object]:
                plan = await refresh_and_plan(ctx, desired, mode, RunOptions())
                result = await apply_plan(ctx, plan) if apply else None
                return plan, result

            out = asyncio.run(go())
            ctx.live = LiveView()
            return out
        finally:
            sync.checkpoint()
            sync.close()


def actions(plan: Plan) -> dict[str, str]:
    return {str(c.address): c.action.value for c in plan.changes}


def test_a_test_only_kind_is_validated_planned_applied_and_destroyed(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    plan, _ = h.run()
    assert actions(plan) == {"widget.base": "create", "widget.top": "create"}
    assert h.client.widgets == {}  # planning changes nothing

    plan, result = h.run(apply=True)
    assert result.ok and result.added == 2  # type: ignore[attr-defined]
    top = next(w for w in h.client.widgets.values() if w["size"] == 1)
    base = next(w for w in h.client.widgets.values() if w["size"] == 3)
    assert top["base"] == base["id"]  # made after, and against, its dependency

    plan, _ = h.run()
    assert plan.changes == [] and plan.unchanged == 2

    h.write(DOCS.replace("label: red", "label: blue"))
    plan, result = h.run(apply=True)
    assert actions(plan) == {"widget.base": "update"}
    assert h.client.widgets[base["id"]]["label"] == "blue"

    # size forces a replacement; `top` follows its base, so it is re-made against the new one,
    # and the old base is deleted only after nothing uses it any more
    h.write(DOCS.replace("size: 3", "size: 4"))
    plan, result = h.run(apply=True)
    assert actions(plan) == {"widget.base": "replace", "widget.top": "replace"}
    assert result.ok, result  # type: ignore[attr-defined]
    assert base["id"] not in h.client.widgets
    assert len(h.client.widgets) == 2
    assert h.run()[0].changes == []

    plan, result = h.run(mode="destroy", apply=True)
    assert {c.action for c in plan.changes} == {Action.DELETE}
    assert result.ok and h.client.widgets == {}  # type: ignore[attr-defined]
    assert h.run(mode="destroy")[0].changes == []


def test_a_failed_create_stops_only_its_dependents(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    h.write(DOCS + "---\napiVersion: ocigen-iac/v1\nkind: Widget\nmetadata: {name: other}\nspec: {size: 9}\n")
    h.client.fail_creates.add("red")
    _, result = h.run(apply=True)
    assert set(result.failures) == {"widget.base"}  # type: ignore[attr-defined]
    assert [w["size"] for w in h.client.widgets.values()] == [9]  # `top` was skipped, `other` made
    h.client.fail_creates.clear()
    plan, result = h.run(apply=True)
    assert actions(plan) == {"widget.base": "create", "widget.top": "create"}
    assert result.ok  # type: ignore[attr-defined]
    assert h.run()[0].changes == []


def test_the_manifest_layer_validates_a_registered_kind(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    h.write(DOCS.replace("base: base", "base: nope").replace("size: 3", "size: 300"))
    with pytest.raises(ValidationFailed) as exc:
        h.run()
    text = str(exc.value)
    assert "widgets.yaml:4:14" in text and "spec.size must be at most 100" in text
    assert "widgets.yaml:9" in text and "refers to Widget 'nope', which is not defined" in text
