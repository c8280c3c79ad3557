"""Machine-readable plans (schema documented in the README; `format_version` follows semver:
consumers ignore unknown keys and reject an unknown major)."""

from __future__ import annotations

import json

from ocigen_iac.engine.plan import Plan


def render_json(plan: Plan) -> str:
    return json.dumps(plan.to_dict(), indent=2, sort_keys=False, default=str)
