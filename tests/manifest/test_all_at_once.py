"""Every problem is reported at once: a document with errors of its own is still resolved
(validated again without its failing fields), and interpolation reports every bad `${...}`."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocigen_iac.config import load_settings
from ocigen_iac.errors import Diagnostic, ValidationFailed
from ocigen_iac.manifest import load_desired

H = "apiVersion: ocigen-iac/v1\n"
FILE_A = H + "kind: File\nmetadata: {name: a}\nspec: {path: a.md}\n---\n"


def problems(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> list[Diagnostic]:
    (tmp_path / "a.md").write_text("a\n")
    (tmp_path / "m.yaml").write_text(FILE_A + text)
    with pytest.raises(ValidationFailed) as info:
        load_desired(load_settings(tmp_path, environ={}), tmp_path, environ=environ or {})
    return info.value.diagnostics


def at(diags: list[Diagnostic], line: int) -> list[str]:
    return [d.message for d in diags if d.line == line]


def test_a_misspelt_field_and_a_dangling_reference_in_one_document(tmp_path: Path) -> None:
    diags = problems(tmp_path, H + "kind: VectorStore\nmetadata: {name: kb}\nspec:\n  nmae: kb\n  files: [a, nope]\n")
    assert at(diags, 10) == ["unknown field 'nmae' in spec"]
    assert at(diags, 11) == ["spec.files[1] refers to File 'nope', which is not defined in the manifests"]
    assert len(diags) == 2


def test_every_bad_interpolation_in_one_string(tmp_path: Path) -> None:
    diags = problems(tmp_path, H + "kind: VectorStore\nmetadata: {name: kb}\nspec:\n"
                                   "  name: \"${var.nope}-${env.OCIGEN_TEST_UNSET}-${oops}\"\n")
    assert at(diags, 10) == ["unknown variable 'var.nope'",
                            "environment variable 'OCIGEN_TEST_UNSET' is not set (used as '${env.OCIGEN_TEST_UNSET}')",
                            "invalid interpolation '${oops}'"]
    assert "--var nope=VALUE" in diags[0].hint


def test_a_duplicate_attachment_is_reported_beside_other_errors(tmp_path: Path) -> None:
    diags = problems(tmp_path, H + "kind: VectorStore\nmetadata: {name: kb}\nspec:\n  files: [a, a]\n"
                                   "  expires_after: {anchor: last_active_at, days: 0}\n")
    assert at(diags, 10) == ["file.a is attached to vector_store.kb twice; it is already attached at m.yaml:10:11"]
    assert at(diags, 11) == ["spec.expires_after.days must be at least 1, got the number 0"]


def test_a_batch_naming_an_unknown_store_still_reports_its_duplicate_files(tmp_path: Path) -> None:
    diags = problems(tmp_path, H + "kind: VectorStoreFileBatch\nmetadata: {name: b}\nspec:\n  vector_store: kb\n"
                                   "  files: [a, a]\n")
    assert at(diags, 10) == ["spec.vector_store refers to VectorStore 'kb', which is not defined in the manifests"]
    assert at(diags, 11) == ["file.a is attached to vector_store.kb twice (through batch 'b'); it is already "
                             "attached at m.yaml:11:11"]


def test_a_field_with_an_error_gets_no_second_one_from_resolution(tmp_path: Path) -> None:
    # the path cannot be interpolated; "file '${env.X}/a.md' does not exist" would be noise
    diags = problems(tmp_path, H + "kind: File\nmetadata: {name: b}\nspec: {path: \"${env.OCIGEN_TEST_UNSET}/a.md\"}\n")
    assert [d.message for d in diags] == [
        "environment variable 'OCIGEN_TEST_UNSET' is not set (used as '${env.OCIGEN_TEST_UNSET}')"]


def test_a_bad_list_item_leaves_out_its_list_and_nothing_else(tmp_path: Path) -> None:
    # positions must stay true, so the list goes as a whole: its references are not checked, but
    # the rest of the document is
    diags = problems(tmp_path, H + "kind: Container\nmetadata: {name: c}\nspec:\n  files: [a, [x], nope]\n"
                                   "  memory_limit: 2g\n")
    assert [d.line for d in diags] == [10, 11]
    assert "memory_limit must be one of 1g, 4g, 16g, 64g" in diags[1].message


def test_references_to_a_document_with_errors_are_not_reported_as_dangling(tmp_path: Path) -> None:
    diags = problems(tmp_path, H + "kind: File\nmetadata: {name: b}\nspec: {path: a.md, purpos: assistants}\n---\n"
                                   + H + "kind: VectorStore\nmetadata: {name: kb}\nspec: {files: [a, b]}\n")
    assert [d.message for d in diags] == ["unknown field 'purpos' in spec"]
