"""Renderers and the plan data they render (no server)."""

from __future__ import annotations

import json

from ocigen_iac.addresses import Address
from ocigen_iac.engine.diffing import attr_changes
from ocigen_iac.engine.plan import Action, Change, Drift, Plan, Reason, ReasonCode
from ocigen_iac.engine.render import render_json, render_text
from ocigen_iac.gitops.markdown import render_markdown


def _plan(*changes: Change) -> Plan:
    return Plan(mode="normal", env="dev", changes=list(changes), lineage="L", serial=3)


def test_no_changes_uses_terraforms_words() -> None:
    assert render_text(_plan()).endswith("No changes. Your infrastructure matches the configuration.")
    assert render_text(Plan(mode="destroy", env="dev")).endswith("No changes. No objects need to be destroyed.")


def test_counts_treat_a_replace_as_one_add_and_one_destroy() -> None:
    plan = _plan(
        Change("file.a", "file", Action.REPLACE, [Reason(ReasonCode.CONTENT_CHANGED, "content changed")], id="f1"),
        Change("vector_store.kb", "vector_store", Action.UPDATE, [Reason(ReasonCode.UPDATE_IN_PLACE)], id="vs"),
        Change("file.b", "file", Action.CREATE, [Reason(ReasonCode.NEW)]),
    )
    assert plan.counts() == {"add": 2, "change": 1, "destroy": 1, "import": 0, "move": 0}
    text = render_text(plan)
    assert "Plan: 2 to add, 1 to change, 1 to destroy." in text
    assert "+/- file.a" in text and "  ~ vector_store.kb" in text and "  + file.b" in text
    assert "# file.a must be replaced (content changed)" in text


def test_attribute_diffs_name_the_paths_and_what_forces_replacement() -> None:
    diffs = attr_changes({"name": "a", "metadata": {"team": "x"}}, {"name": "b", "metadata": {"team": "y"}},
                         update_fields=frozenset({"metadata"}))
    assert [(d.path, d.forces_replacement) for d in diffs] == [("metadata.team", False), ("name", True)]
    c = Change("container.c", "container", Action.REPLACE, [Reason(ReasonCode.CANNOT_UPDATE)], attr_changes=diffs)
    text = render_text(_plan(c))
    assert '~ name = "a" -> "b"  # forces replacement' in text


def test_drift_has_its_own_section() -> None:
    plan = _plan()
    plan.drift.append(Drift("container.c", "container", "deleted"))
    assert "Note: Objects have changed outside of ocigen-iac" in render_text(plan)
    assert "# container.c has been deleted" in render_text(plan)


def test_json_plan_round_trips_and_carries_what_it_was_made_against() -> None:
    plan = _plan(Change(Address.parse("file.a"), "file", Action.CREATE, [Reason(ReasonCode.NEW)],
                        after={"filename": "a.md"}, deps=(Address.parse("file.b"),)))
    data = json.loads(render_json(plan))
    assert data["format_version"] == "1.1"
    assert Plan.from_dict(data).to_dict() == plan.to_dict()  # a saved plan is the plan
    assert data["prior_state"] == {"lineage": "L", "serial": 3}
    assert data["resource_changes"][0]["action"] == "create"
    assert data["resource_changes"][0]["reasons"] == [{"code": "create_because_new", "detail": ""}]


def test_markdown_from_a_plan_folds_long_plans_and_warns_about_deletions() -> None:
    # `plan --format markdown` renders the Plan's JSON form with the GitOps kit's renderer
    changes = [Change(f"file.f{i}", "file", Action.DELETE, [Reason(ReasonCode.NOT_IN_CONFIG)], id=str(i))
               for i in range(8)]
    md = render_markdown(_plan(*changes).to_dict())
    assert "### ocigen-iac plan for `dev`" in md
    assert "**Plan: 0 to add, 0 to change, 8 to destroy.**" in md
    assert "<details>" in md and "> [!WARNING]" in md and "`file.f7`" in md
    short = render_markdown(_plan(Change("file.a", "file", Action.CREATE, [Reason(ReasonCode.NEW)])).to_dict())
    assert "<details>" not in short and "[!WARNING]" not in short and "+ file.a" in short
