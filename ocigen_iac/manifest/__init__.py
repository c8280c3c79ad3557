"""Manifests: YAML -> typed, validated, reference-resolved desired state (desired.py).

Public entry points:
    load_desired(settings, manifests_dir) -> DesiredSet     (raises ValidationFailed)
    json_schema() -> dict                                   (JSON Schema of one document)
    summarize(desired, objects) -> str                      (what `validate` prints)
"""

from ocigen_iac.manifest.desired import DesiredResource, DesiredSet
from ocigen_iac.manifest.loader import discover, load_desired, summarize
from ocigen_iac.manifest.schema import json_schema

__all__ = ["DesiredResource", "DesiredSet", "discover", "json_schema", "load_desired", "summarize"]
