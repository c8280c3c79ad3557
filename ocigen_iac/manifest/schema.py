"""`json_schema()`: the JSON Schema of one manifest document, generated from the models.

A `oneOf` over the four kinds with a `kind` discriminator, for editor completion
(e.g. `# yaml-language-server: $schema=ocigen-iac.schema.json`). Limits that depend on other
documents, on the disk or on interpolation (references, paths, vector-store name rules after
`${...}`) are validated by `ocigen-iac validate`, not by the schema.
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from ocigen_iac.manifest.models import API_VERSION, AnyDocument


def json_schema() -> dict[str, Any]:
    schema = TypeAdapter(AnyDocument).json_schema()
    out: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"ocigen-iac manifest document ({API_VERSION})",
    }
    out.update(schema)
    return out
