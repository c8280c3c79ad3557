"""Property: whatever the input, loading ends in a DesiredSet or ValidationFailed, never a crash."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ocigen_iac.config import load_settings
from ocigen_iac.errors import ValidationFailed
from ocigen_iac.manifest import load_desired

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = (REPO / "manifests" / "knowledge-base.yaml").read_text()
EXAMPLE_DOCS = [d for d in yaml.safe_load_all(EXAMPLE) if d]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(["handbook", "faq", "support-kb", "${var.env}", "${env.X}", "${", "$${x}", "../x", "/etc"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.sampled_from(["file", "path", "glob", "name", "type", "static", "days", "x"]) | st.text(max_size=8),
            inner,
            max_size=4,
        ),
    ),
    max_leaves=12,
)


def _check(text: str | bytes) -> None:
    root = Path(tempfile.mkdtemp(prefix="ocigen-fuzz-"))
    try:
        shutil.copytree(REPO / "manifests" / "docs", root / "docs")
        path = root / "m.yaml"
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            load_desired(load_settings(root, environ={}), root, environ={})
        except ValidationFailed as exc:
            assert exc.diagnostics
            str(exc)
    finally:
        shutil.rmtree(root, ignore_errors=True)


@settings(
    max_examples=int(os.environ.get("OCIGEN_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.integers(min_value=0, max_value=len(EXAMPLE)), st.integers(0, 40), st.text(max_size=20))
def test_text_mutations(pos: int, cut: int, insert: str) -> None:
    _check(EXAMPLE[:pos] + insert + EXAMPLE[pos + cut :])


@settings(max_examples=int(os.environ.get("OCIGEN_FUZZ_EXAMPLES", "100")), deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes(data: bytes) -> None:
    _check(data)


@settings(
    max_examples=int(os.environ.get("OCIGEN_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    st.integers(min_value=0, max_value=len(EXAMPLE_DOCS) - 1),
    st.lists(
        st.sampled_from(["apiVersion", "kind", "metadata", "spec", "lifecycle", "name", "files", "x"]), max_size=3
    ),
    values,
)
def test_structural_mutations(index: int, path: list[str], value: object) -> None:
    docs = [dict(d) for d in EXAMPLE_DOCS]
    node: object = docs[index]
    for key in path[:-1]:
        if isinstance(node, dict) and isinstance(node.get(key), dict):
            node = node[key]
    if isinstance(node, dict):
        node[path[-1] if path else "spec"] = value
    _check(yaml.safe_dump_all(docs, allow_unicode=True))


@settings(max_examples=int(os.environ.get("OCIGEN_FUZZ_EXAMPLES", "60")), deadline=None)
@given(values)
def test_random_documents(value: object) -> None:
    _check(yaml.safe_dump(value, allow_unicode=True))


def test_alias_bomb_is_rejected_cleanly() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    bomb = "apiVersion: ocigen-iac/v1\nkind: File\nmetadata: {name: a}\nspec:\n  exclude: *a8\n" + "\n".join(
        "  " + ln for ln in []
    )
    _check("\n".join(lines) + "\n---\n" + bomb.replace("*a8", "[]"))
    doc = "\n".join(lines) + "\nspec: *a8\napiVersion: ocigen-iac/v1\nkind: File\nmetadata: {name: a}\n"
    _check(doc)
