"""docs/plan.svg stays true: the plan it pictures is what the tool prints today for the same edits."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from scripts.plan_picture import OUT, described_text, make_project, plan_text, render_svg


def test_the_readme_picture_shows_todays_plan(tmp_path: Path) -> None:
    make_project(tmp_path)
    plain = plan_text(tmp_path, color=False)
    for shown in ("+/- file.handbook  [id=file-…]", "  ~ vector_store.support-kb  [id=vs_…]",
                  '  + file.faq["shipping.md"]', "Plan: 5 to add, 1 to change, 3 to destroy."):
        assert shown in plain
    assert described_text(OUT.read_text(encoding="utf-8")) == plain, (
        "docs/plan.svg is out of date: run `python -m scripts.plan_picture`")
    svg = render_svg(plan_text(tmp_path, color=True))
    assert described_text(svg) == plain  # colour codes are only colour
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg") and len(root.findall(".//{http://www.w3.org/2000/svg}text")) > 40
