"""GitOps helpers: plan comments for pull/merge requests, their upsert and labels, saved-plan lookup.

Everything here reads the JSON plan (`ocigen-iac plan --json`), the public contract, and never the
engine's objects, so it works with any 1.x plan. Modules (each also runnable with `python -m`):
`markdown` (render_markdown, plan_label), `comment` (upsert on GitHub/GitLab), `saved_plan`
(fetch the plan reviewed for a merged commit). Nothing is imported here, so `python -m` runs
each module cleanly.
"""
