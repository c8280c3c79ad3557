"""A RetrievalCheck's mistakes are caught offline, with file:line, what is wrong and how to fix it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ocigen_iac.config import load_settings
from ocigen_iac.errors import ValidationFailed
from ocigen_iac.manifest import load_desired

REPO = Path(__file__).resolve().parents[2]
HEAD = """apiVersion: ocigen-iac/v1
kind: RetrievalCheck
metadata: {name: extra}
spec:
  vector_store: support-kb
"""


def problems(tmp_path: Path, spec: str) -> str:
    shutil.copytree(REPO / "manifests", tmp_path / "manifests")
    (tmp_path / "manifests" / "extra.yaml").write_text(HEAD + spec)
    with pytest.raises(ValidationFailed) as exc:
        load_desired(load_settings(tmp_path, environ={}), tmp_path / "manifests", environ={})
    return str(exc.value)


def test_the_example_checks_resolve_to_attached_files() -> None:
    desired = load_desired(load_settings(REPO, environ={}), REPO / "manifests", environ={})
    spec = desired.resources["retrieval_check.support-kb-answers"].spec
    assert str(spec.vector_store) == "vector_store.support-kb"
    by_query = {q.text: [tuple(str(a) for a in e.files) for e in q.expect] for q in spec.queries}
    assert by_query["How do I reset my password?"] == [('file.faq["account.md"]',)]
    # a whole glob File means any of its members the store holds (the draft is excluded)
    assert by_query["Is malware or a denial-of-service attack allowed?"] == [(
        'file.policies["acceptable-use.md"]', 'file.policies["data-retention.md"]', 'file.policies["refunds.md"]')]
    deleted = next(q for q in spec.queries if q.text.startswith("How long"))
    assert deleted.filters == {"type": "eq", "key": "section", "value": "policy"} and deleted.top_k == 3


def test_unknown_file_and_member_say_did_you_mean(tmp_path: Path) -> None:
    text = problems(tmp_path, """  queries:
    - query: a
      expect: [handbok, 'faq["biling.md"]']
""")
    assert "manifests/extra.yaml:8:16: error: spec.queries[0].expect[0] refers to File 'handbok'" in text
    assert "did you mean 'handbook'?" in text
    assert "spec.queries[0].expect[1]: File 'faq' has no member 'biling.md'" in text
    assert "did you mean 'billing.md'?" in text


def test_a_file_the_store_does_not_hold_can_never_be_found(tmp_path: Path) -> None:
    text = problems(tmp_path, """  queries:
    - query: a
      expect: [stray]
---
apiVersion: ocigen-iac/v1
kind: File
metadata: {name: stray}
spec: {path: docs/handbook.md, filename: stray.md}
""")
    assert "spec.queries[0].expect[0]: file.stray is not attached to vector store 'support-kb'" in text
    assert "attach it" in text


def test_limits_and_filter_shapes_are_checked(tmp_path: Path) -> None:
    text = problems(tmp_path, """  top_k: 51
  ingestion_timeout: soon
  queries:
    - query: a
      expect: [handbook]
      filters: {type: in, key: section, value: faq}
""")
    assert "extra.yaml:6" in text and "51" in text
    assert "extra.yaml:7" in text and "'soon' is not a duration" in text
    assert "must be a list" in text


def test_a_missing_store_is_named(tmp_path: Path) -> None:
    shutil.copytree(REPO / "manifests", tmp_path / "manifests")
    (tmp_path / "manifests" / "extra.yaml").write_text(HEAD.replace("support-kb", "support") + """  queries:
    - query: a
      expect: [handbook]
""")
    with pytest.raises(ValidationFailed) as exc:
        load_desired(load_settings(tmp_path, environ={}), tmp_path / "manifests", environ={})
    assert "refers to VectorStore 'support'" in str(exc.value) and "did you mean 'support-kb'?" in str(exc.value)
