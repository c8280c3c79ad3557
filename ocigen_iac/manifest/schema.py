"""`json_schema()`: the JSON Schema of one manifest document, generated from the models.

A `oneOf` over the registered kinds with a `kind` discriminator, for editor completion
(e.g. `# yaml-language-server: $schema=ocigen-iac.schema.json`). Limits that depend on other
documents, on the disk or on interpolation (references, paths, vector-store name rules after
`${...}`) are validated by `ocigen-iac validate`, not by the schema.
"""

from __future__ import annotations

from typing import Annotated, Any, Union

from pydantic import Field, TypeAdapter

from ocigen_iac.manifest.models import API_VERSION, document_model


def json_schema() -> dict[str, Any]:
    from ocigen_iac.resources import registry

    models = tuple(document_model(k.kind, k.spec_model) for k in registry.document_kinds())
    any_document = Annotated[Union[models], Field(discriminator="kind")]  # type: ignore[valid-type]  # noqa: UP007
    schema = TypeAdapter(any_document).json_schema()
    out: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"ocigen-iac manifest document ({API_VERSION})",
    }
    out.update(schema)
    return out
