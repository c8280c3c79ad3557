"""The engine and state are generic: they never name a kind (the registry does)."""

from __future__ import annotations

import ast
from pathlib import Path

import ocigen_iac
from ocigen_iac.resources import registry

PACKAGE = Path(ocigen_iac.__file__).parent


def _names() -> set[str]:
    names = {t.type for t in registry.resource_types()}
    for kind in registry.document_kinds():
        names |= {kind.kind, kind.prefix}
    return names


def test_engine_and_state_name_no_kind() -> None:
    names = _names()
    assert {"file", "vector_store", "VectorStore", "container"} <= names  # the check looks for real names
    offences = []
    for folder in ("engine", "state"):
        for path in sorted((PACKAGE / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Constant) and node.value in names:
                    offences.append(f"{path.relative_to(PACKAGE)}:{node.lineno}: {node.value!r}")
                elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ocigen_iac.resources."):
                    offences.append(f"{path.relative_to(PACKAGE)}:{node.lineno}: imports {node.module}")
    assert offences == []
