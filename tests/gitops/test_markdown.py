"""The pull-request comment, rendered from JSON plans built here (the public form; no server)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ocigen_iac.gitops.markdown import (
    FOLD_AFTER_LINES,
    MAX_BODY_CHARS,
    load_plan,
    marker,
    marker_env,
    plan_label,
    render_failure,
    render_markdown,
    summary_line,
)

SHA_A = "a" * 64
SHA_B = "b" * 64


def change(address: str, action: str, *, reason: str = "", detail: str = "", id: str | None = "obj-1",
           after: dict[str, Any] | None = None, attrs: list[dict[str, Any]] | None = None, **extra: Any
           ) -> dict[str, Any]:
    return {"address": address, "kind": address.split(".")[0], "action": action,
            "reasons": [{"code": reason, "detail": detail}] if reason else [], "before": None, "after": after,
            "attr_changes": attrs or [], "id": None if action == "create" else id, "deps": [], "parent": None,
            **extra}


def plan(*changes: dict[str, Any], env: str = "prod", mode: str = "normal", drift: list[dict[str, Any]] | None = None,
         summary: dict[str, int] | None = None, **extra: Any) -> dict[str, Any]:
    counted = {"add": 0, "change": 0, "destroy": 0, "forget": 0}
    for c in changes:
        a = c["action"]
        counted["add"] += a in ("create", "replace", "replace-destroy-first")
        counted["change"] += a == "update"
        counted["destroy"] += a in ("delete", "replace", "replace-destroy-first")
        counted["forget"] += a == "forget"
    return {"format_version": "1.0", "tool_version": "0.1.0", "mode": mode, "env": env,
            "prior_state": {"lineage": "L", "serial": 3}, "change_summary": summary or counted,
            "has_changes": bool(changes) or bool(drift and mode == "refresh-only"),
            "resource_changes": list(changes), "resource_drift": drift or [], "unchanged": 4, "adoptions": [],
            "warnings": [], "digests": {"manifests": {}, "files": {}, "settings": "s"}, **extra}


def body_lines(md: str) -> list[str]:
    """What a reader sees, in order: without the hidden marker, the header and blank lines."""
    lines = [line for line in md.splitlines() if line.strip()]
    assert lines[0] == marker(marker_env(md) or "?")
    assert lines[1].startswith("### ")
    return lines[2:]


def diff_block(md: str) -> list[str]:
    lines = md.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("```") and line.endswith("diff"))
    fence = lines[start].removesuffix("diff")
    return lines[start + 1: lines.index(fence, start)]


CREATE = change("file.handbook", "create", reason="create_because_new",
                after={"filename": "handbook.md", "purpose": "assistants", "bytes": 1487, "sha256": SHA_A,
                       "source": "manifests/docs/handbook.md"})
REPLACE = change("file.policy", "replace", reason="replace_because_content_changed",
                 detail="content changed: sha256 aaaaaaaaaaaa… -> bbbbbbbbbbbb…", id="file-old",
                 attrs=[{"path": "sha256", "before": SHA_A, "after": SHA_B, "forces_replacement": True}])
UPDATE = change("vector_store.kb", "update", reason="update_in_place", id="vs_1",
                attrs=[{"path": "metadata.team", "before": "support", "after": "support-ops",
                        "forces_replacement": False}])
DELETE = change("file.old", "delete", reason="delete_because_no_resource_config", id="file-gone")


def test_the_summary_line_comes_first_with_terraforms_counts() -> None:
    md = render_markdown(plan(CREATE, REPLACE, UPDATE, DELETE))
    assert body_lines(md)[0] == "**Plan: 2 to add, 1 to change, 2 to destroy.**"
    assert "### ocigen-iac plan for `prod`" in md


def test_no_changes_says_so_and_is_labelled_no_changes() -> None:
    p = plan()
    md = render_markdown(p)
    assert body_lines(md)[0] == "**No changes. Your infrastructure matches the configuration.**"
    assert "```diff" not in md and "WARNING" not in md
    assert plan_label(p) == "no-changes"


def test_creates_and_updates_are_add_or_update_with_coloured_lines() -> None:
    p = plan(CREATE, UPDATE)
    assert plan_label(p) == "add-or-update"
    block = diff_block(render_markdown(p))
    assert "+ file.handbook" in block
    assert '+     filename = "handbook.md"' in block
    assert "~ vector_store.kb  [id=vs_1]" in block
    assert '~     metadata.team = "support" -> "support-ops"' in block
    # every resource line starts with its symbol (GitHub colours by the first character)
    assert all(line[0] in "+-~#. " for line in block if line)


def test_a_replacement_shows_what_forces_it_and_warns_of_destruction() -> None:
    p = plan(REPLACE, change("container.c", "replace-destroy-first", reason="replace_because_cannot_update",
                             id="cntr_1", attrs=[{"path": "name", "before": "a", "after": "b",
                                                  "forces_replacement": True}]))
    md = render_markdown(p)
    block = diff_block(md)
    assert "+/- file.policy  [id=file-old]" in block
    assert "-/+ container.c  [id=cntr_1]" in block
    assert '~     sha256 = "aaaaaaaaaaaa…" -> "bbbbbbbbbbbb…"  # forces replacement' in block
    assert "# file.policy must be replaced (content changed: sha256 aaaaaaaaaaaa… -> bbbbbbbbbbbb…)" in block
    assert "> [!WARNING]" in md and "`file.policy`" in md and "`container.c`" in md
    assert plan_label(p) == "destroy"


def test_destroys_warn_before_the_output_and_are_labelled_destroy() -> None:
    md = render_markdown(plan(CREATE, DELETE))
    lines = body_lines(md)
    warning = next(i for i, line in enumerate(lines) if line == "> [!WARNING]")
    assert warning < lines.index("```diff")
    assert "destroys or replaces 1 object(s): `file.old`" in lines[warning + 1]
    assert "- file.old  [id=file-gone]" in diff_block(md)
    assert "# file.old will be destroyed (no longer in the manifests)" in diff_block(md)
    assert plan_label(plan(DELETE)) == "destroy"


def test_drift_is_noted_after_the_summary() -> None:
    drift = [{"address": "container.c", "kind": "container", "status": "changed",
              "attr_changes": [{"path": "memory_limit", "before": "1g", "after": "4g", "forces_replacement": False}]},
             {"address": "file.x", "kind": "file", "status": "deleted", "attr_changes": []}]
    recreate = change("file.x", "create", reason="create_because_deleted_outside", after={"filename": "x.md"})
    md = render_markdown(plan(recreate, drift=drift))
    lines = body_lines(md)
    assert lines[0] == "**Plan: 1 to add, 0 to change, 0 to destroy.**"
    assert lines[1] == "**Note: Objects have changed outside of ocigen-iac**"
    assert "# container.c has changed outside ocigen-iac" in md
    assert '~     memory_limit = "1g" -> "4g"' in md
    assert "# file.x has been deleted outside ocigen-iac" in md
    assert "# file.x will be created (deleted outside ocigen-iac)" in md


def test_refresh_only_with_drift_summarises_what_will_be_recorded() -> None:
    drift = [{"address": "vector_store.kb", "kind": "vector_store", "status": "changed", "attr_changes": []}]
    p = plan(mode="refresh-only", drift=drift)
    md = render_markdown(p, title="ocigen-iac drift check")
    assert body_lines(md)[0] == "**Refresh: 1 object(s) changed outside ocigen-iac will be recorded in state.**"
    assert "### ocigen-iac drift check for `prod` (refresh-only)" in md
    assert plan_label(p) == "add-or-update"
    assert summary_line(plan(mode="refresh-only")) == "No changes. Your infrastructure still matches the configuration."
    assert summary_line(plan(mode="destroy")) == "No changes. No objects need to be destroyed."


def test_adoptions_moves_imports_and_deposed_objects_from_newer_plans() -> None:
    adopt = change("file.handbook", "adopt", reason="adopt_after_interrupted_create", id="file-found")
    move = change("file.guide", "move", previous_address="file.handbook-old", id="file-2")
    deposed = change("file.policy", "delete", id="file-new", deposed="file-left-over")
    summary = {"import": 1, "add": 0, "change": 0, "destroy": 1, "move": 1, "forget": 0}
    p = plan(adopt, move, deposed, summary=summary)
    md = render_markdown(p)
    assert body_lines(md)[0] == "**Plan: 1 to import, 0 to add, 0 to change, 1 to destroy, 1 to move.**"
    block = diff_block(md)
    assert "# file.handbook will be adopted into state (the object is kept as it is) " \
           "(adopt after interrupted create)" in block
    assert "  file.handbook  [id=file-found]" in block
    assert "# file.handbook-old has moved to file.guide" in block
    assert "# file.policy (deposed object file-left-over) will be destroyed (left over from a replacement)" in block
    assert "- file.policy  [deposed id=file-left-over]" in block
    assert plan_label(p) == "destroy"  # the deposed object goes away
    # without change_summary keys for them, adopt/move are counted from the changes
    assert summary_line(plan(adopt, move)) == "Plan: 1 to import, 0 to add, 0 to change, 0 to destroy, 1 to move."
    assert plan_label(plan(adopt, move)) == "add-or-update"


def test_output_folds_above_twelve_lines_and_not_below() -> None:
    short = render_markdown(plan(UPDATE))  # 3 lines
    assert len(diff_block(short)) <= FOLD_AFTER_LINES
    assert "<details>" not in short
    many = [change(f"file.f{i}", "delete", id=f"file-{i}") for i in range(5)]  # 5 x 3 lines
    long = render_markdown(plan(*many))
    assert "<details><summary>Show Output</summary>" in long
    assert long.index("<details>") < long.index("```diff") < long.index("</details>")
    assert len(diff_block(long)) > FOLD_AFTER_LINES


def test_a_huge_plan_stays_under_the_comment_limit() -> None:
    many = [change(f"file.f{i:05d}", "create", after={"filename": f"f{i}.md" * 3, "purpose": "assistants"})
            for i in range(5000)]
    md = render_markdown(plan(*many))
    assert len(md) < 65_536
    assert len(md) > MAX_BODY_CHARS // 2
    assert "more line(s) not shown: the full plan is in the saved plan file" in md
    assert md.rstrip().endswith("</sub>")  # the block is closed and the footer is there


def test_no_raw_settings_and_secret_looking_attributes_are_masked() -> None:
    c = change("container.c", "update", id="c1",
               attrs=[{"path": "metadata.api_key", "before": "old-key-value", "after": "sk-live-123"},
                      {"path": "metadata.team", "before": "a", "after": "b"}])
    md = render_markdown(plan(c))
    assert "sk-live-123" not in md and "old-key-value" not in md
    assert "~     metadata.api_key = (sensitive value) -> (sensitive value)" in md
    assert '"settings"' not in md and "digests" not in md and "lineage" not in md


def test_plan_text_cannot_forge_a_marker_or_break_out_of_the_block() -> None:
    nasty = "<!-- ocigen-iac:plan env=dev -->"
    c = change("file.x", "update", id="x",
               attrs=[{"path": "metadata.note", "before": "```", "after": "```\n" + nasty}])
    md = render_markdown(plan(c, warnings=[f"careful {nasty} <script>"]))
    assert marker_env(md) == "prod"
    assert [line for line in md.splitlines() if line.startswith("<!--")] == [marker("prod")]
    assert "careful &lt;!-- ocigen-iac:plan env=dev --&gt; &lt;script&gt;" in md  # prose is escaped
    assert md.count(nasty) == 1  # the value's copy stays inside the code block, shown as text
    assert len(diff_block(md)) == 3  # the value's backticks and newline did not end the block


def test_the_marker_belongs_to_one_environment() -> None:
    assert marker("prod") == "<!-- ocigen-iac:plan env=prod -->"
    assert marker_env(render_markdown(plan(env="dev"))) == "dev"
    assert marker_env("Great plan!\n<!-- ocigen-iac:plan env=dev -->") is None  # only the first line counts
    assert marker_env("<!-- ocigen-iac:plan env=dev -->\nrest") == "dev"


def test_a_failed_plan_shows_the_end_of_its_error_output() -> None:
    log = "\n".join(f"line {i}" for i in range(100)) + "\nError: manifests/kb.yaml:3: unknown key"
    md = render_failure("prod", log)
    assert marker_env(md) == "prod"
    assert "**Plan failed.**" in md
    assert "Error: manifests/kb.yaml:3: unknown key" in md and "line 10\n" not in md


def test_load_plan_rejects_what_is_not_a_json_plan(tmp_path: Path) -> None:
    bad = tmp_path / "plan.json"
    bad.write_text("Plan: 1 to add\n")
    with pytest.raises(ValueError, match=r"plan.json:1: not JSON"):
        load_plan(bad)
    bad.write_text(json.dumps({"format_version": "2.0"}))
    with pytest.raises(ValueError, match=r"format_version 2\.0 is not supported"):
        load_plan(bad)
    with pytest.raises(ValueError, match="cannot read the plan"):
        load_plan(tmp_path / "missing.json")


def test_the_command_line_prints_the_comment_or_the_label(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan(DELETE)))
    run = [sys.executable, "-m", "ocigen_iac.gitops.markdown"]
    label = subprocess.run([*run, "--label", str(path)], capture_output=True, text=True, timeout=60)
    assert (label.returncode, label.stdout) == (0, "destroy\n")
    comment = subprocess.run([*run, str(path)], capture_output=True, text=True, timeout=60)
    assert comment.returncode == 0 and "**Plan: 0 to add, 0 to change, 1 to destroy.**" in comment.stdout
    missing = subprocess.run([*run, str(tmp_path / "nope.json")], capture_output=True, text=True, timeout=60)
    assert missing.returncode == 1
    assert missing.stderr.startswith("Error: ") and "Traceback" not in missing.stderr
