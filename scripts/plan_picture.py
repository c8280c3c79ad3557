"""Draw docs/plan.svg: what a plan looks like in a terminal, from a real plan.

    python -m scripts.plan_picture            # or: python scripts/plan_picture.py [OUT.svg]

It copies the example project (manifests/ and ocigen.yaml) to a temporary folder, applies it to
the embedded emulator (`--local`), then edits it so the next plan has one of each common action:
a changed document (a File replaced, create-before-destroy, with what depends on it), a changed
store metadata value (an update in place) and a new document matched by a glob (a create). The
plan is rendered as the terminal shows it, with live ids shortened (`[id=file-…]`) so the picture
only changes when the output does. The plain text is kept in the SVG's <desc> (for screen
readers, and for the test that checks the picture is still true).
"""

from __future__ import annotations

import html
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "docs" / "plan.svg"
WIDTH = 120  # columns of the pictured terminal (the longest plan line fits)
_ID = re.compile(r"\[id=([A-Za-z]+[-_])[^\]]*\]")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _cli(root: Path, *args: str) -> None:
    from typer.testing import CliRunner

    from ocigen_iac.cli import app

    cwd = os.getcwd()
    os.chdir(root)
    try:
        r = CliRunner().invoke(app, list(args), catch_exceptions=False)
    finally:
        os.chdir(cwd)
    if r.exit_code != 0:
        raise RuntimeError(f"ocigen-iac {' '.join(args)} failed ({r.exit_code}):\n{r.output}")


def make_project(root: Path) -> None:
    """The example project, applied to the embedded emulator, then edited (replace, update, create)."""
    shutil.copytree(REPO / "manifests", root / "manifests")
    shutil.copy(REPO / "ocigen.yaml", root / "ocigen.yaml")
    _cli(root, "apply", "manifests", "--local", "--auto-approve")
    docs = root / "manifests" / "docs"
    (docs / "handbook.md").write_text((docs / "handbook.md").read_text() + "\n## Escalations\n\nPage the on-call.\n")
    kb = root / "manifests" / "knowledge-base.yaml"
    kb.write_text(kb.read_text().replace("team: support", "team: platform"))
    (docs / "faq" / "shipping.md").write_text("# Shipping\n\nOrders ship within two working days.\n")


def plan_text(root: Path, *, color: bool) -> str:
    """`ocigen-iac plan manifests --local` of the project at `root`, as the terminal shows it."""
    from ocigen_iac.cli._common import load, options
    from ocigen_iac.engine.render import render_text
    from ocigen_iac.engine.runner import run_plan

    settings, desired = load(root, None, True, root / "manifests")
    assert desired is not None
    plan = run_plan(settings, desired, options(), mode="normal", manifests_dir="manifests")
    return _ID.sub(lambda m: f"[id={m.group(1)}…]", render_text(plan, color=color))


def render_svg(ansi: str, title: str = "ocigen-iac plan manifests/") -> str:
    """A terminal picture of `ansi` (text with colour codes); its plain text goes into <desc>."""
    from rich.console import Console
    from rich.text import Text

    with open(os.devnull, "w") as sink:  # recorded, not shown
        console = Console(record=True, width=WIDTH, force_terminal=True, color_system="truecolor", file=sink)
        console.print(Text.from_ansi(f"$ {title}\n\n{ansi}"), soft_wrap=False)
    svg = console.export_svg(title=title)
    plain = _ANSI.sub("", ansi)
    return re.sub(r"(<svg[^>]*>)", lambda m: f"{m.group(1)}\n<desc>{html.escape(plain)}</desc>", svg, count=1)


def described_text(svg: str) -> str:
    """The plain plan text kept in a picture's <desc>."""
    match = re.search(r"<desc>(.*?)</desc>", svg, flags=re.S)
    return html.unescape(match.group(1)) if match else ""


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0]) if args else OUT
    with tempfile.TemporaryDirectory(prefix="ocigen-plan-picture-") as tmp:
        root = Path(tmp)
        make_project(root)
        svg = render_svg(plan_text(root, color=True))
    out.write_text(svg, encoding="utf-8")
    print(f"Wrote {out} ({len(svg)} bytes).")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    raise SystemExit(main())
