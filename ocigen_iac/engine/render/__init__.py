"""Renderers: the same Plan as text (terminal), JSON (machines) and Markdown (pull requests)."""

from ocigen_iac.engine.render.json_plan import render_json
from ocigen_iac.engine.render.markdown import render_markdown
from ocigen_iac.engine.render.text import render_text, summary_line

__all__ = ["render_json", "render_markdown", "render_text", "summary_line"]
