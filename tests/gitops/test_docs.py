"""docs/gitops.md shows a comment as this renderer writes it, not as it once did."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ocigen_iac.gitops.markdown import render_markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "gitops.md"
OLD, NEW = "346b8a7abb969b17b36a38d8e6f6ddbf3e818d7d8c8749afe9483cbed1a5b763", \
    "ef4ad43b521f69c7b35a1c2847c3a5c1e5b887f5c8e1de646e347aa7a7bd3571"


def _change(address: str, action: str, code: str, detail: str = "", id: str | None = None,
            attrs: list[dict[str, Any]] | None = None, parent: str | None = None) -> dict[str, Any]:
    return {"address": address, "kind": address.split(".")[0], "action": action,
            "reasons": [{"code": code, "detail": detail}], "before": None, "after": None,
            "attr_changes": attrs or [], "id": id, "deps": [], "parent": parent}


# What `ocigen-iac plan --json` printed for the example manifests after editing the handbook,
# retagging the store and removing one FAQ page (ids shortened).
EXAMPLE_PLAN: dict[str, Any] = {
    "format_version": "1.0", "tool_version": "0.1.0", "mode": "normal", "env": "prod",
    "prior_state": {"lineage": "5d0c2a1e-0f7b-4f43-9d5e-1c2b3a4d5e6f", "serial": 7},
    "change_summary": {"add": 2, "change": 1, "destroy": 4, "forget": 0}, "has_changes": True,
    "resource_changes": [
        _change("file.handbook", "replace", "replace_because_content_changed",
                "content changed: sha256 346b8a7abb96… -> ef4ad43b521f…", "file-7f3a",
                [{"path": "bytes", "before": 1487, "after": 1495, "forces_replacement": True},
                 {"path": "sha256", "before": OLD, "after": NEW, "forces_replacement": True}]),
        _change("vector_store.support-kb", "update", "update_in_place", id="vs_9225",
                attrs=[{"path": "metadata.team", "before": "support", "after": "support-ops",
                        "forces_replacement": False}]),
        _change("vector_store.support-kb.files[file.handbook]", "replace", "replace_because_dependency_replaced",
                "file.handbook is replaced", "file-7f3a", parent="vector_store.support-kb"),
        _change('vector_store.support-kb.files[file.faq["billing.md"]]', "delete",
                "delete_because_no_resource_config", id="file-c0d6", parent="vector_store.support-kb"),
        _change('file.faq["billing.md"]', "delete", "delete_because_no_resource_config", id="file-c0d6"),
    ],
    "resource_drift": [], "unchanged": 12, "adoptions": [], "warnings": [],
    "digests": {"manifests": {}, "files": {}, "settings": ""},
}


def example_comment() -> str:
    return render_markdown(EXAMPLE_PLAN, run_url="https://github.com/acme/kb/actions/runs/123")


def test_the_docs_show_the_comment_this_renderer_writes() -> None:
    assert example_comment() in DOC.read_text(), (
        "docs/gitops.md is out of date: paste the output of "
        "`python -c 'from tests.gitops.test_docs import example_comment; print(example_comment())'`")
