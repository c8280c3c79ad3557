"""The README tells the truth about what the tool prints."""

from __future__ import annotations

import re
from pathlib import Path

from ocigen_iac.engine.plan import Action, Change, Plan, Reason, ReasonCode
from ocigen_iac.engine.render import render_text

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text(encoding="utf-8")


def test_the_quickstart_is_two_commands_and_the_first_runs_the_demo_locally() -> None:
    quickstart = README.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", quickstart, flags=re.S)
    assert len(blocks) == 2 and all(b.count("\n") == 1 for b in blocks)
    assert "ocigen-iac apply manifests/ --local --auto-approve" in blocks[0]
    assert "--env" not in blocks[0]  # the committed ocigen.yaml names a default environment
    assert "pytest" in blocks[1]


def test_the_symbol_table_matches_the_plans_legend() -> None:
    changes = [Change(f"file.f{i}", "file", action, [Reason(ReasonCode.NEW)], id=str(i))
               for i, action in enumerate((Action.CREATE, Action.UPDATE, Action.DELETE, Action.REPLACE,
                                           Action.REPLACE_DESTROY_FIRST))]
    text = render_text(Plan(mode="normal", env="dev", changes=changes))
    legend = re.findall(r"^ +(\S+) (.+)$", text.split("\n\n")[0], flags=re.M)
    assert len(legend) == 5
    for symbol, meaning in legend:
        assert f"| `{symbol}` | {meaning} |" in README, (symbol, meaning)


def test_the_plan_picture_is_there() -> None:
    assert "](docs/plan.svg)" in README and (REPO / "docs" / "plan.svg").is_file()
