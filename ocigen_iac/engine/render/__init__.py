"""Renderers: the same Plan as text (terminal) and JSON (machines). Markdown for pull requests is
the GitOps kit's (`ocigen_iac.gitops.markdown`), which reads the JSON plan."""

from ocigen_iac.engine.render.json_plan import render_json
from ocigen_iac.engine.render.text import render_text, summary_line

__all__ = ["render_json", "render_text", "summary_line"]
