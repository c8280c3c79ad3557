"""The broken-manifest corpus: every case must fail with the right message, file and line.

Each case is a directory under corpus/ that acts as project root *and* manifest directory
(with its own ocigen.yaml when the case is about configuration). Cases that git cannot hold
cleanly (a symlink pointing out of the project, non-UTF-8 bytes) are built in tmp_path.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ocigen_iac.config import load_settings
from ocigen_iac.errors import ValidationFailed
from ocigen_iac.manifest import load_desired

CORPUS = Path(__file__).parent / "corpus"

# case, expected file, line, message fragment (hint included in the search)
CASES: list[tuple[str, str, int, str]] = [
    ("malformed_yaml", "m.yaml", 11, "invalid YAML: expected ',' or '}'"),
    ("tab_indentation", "m.yaml", 4, "tab character is used for indentation"),
    ("wrong_type", "m.yaml", 13, "spec.expires_after.days must be an integer, got 'thirty'"),
    ("unknown_field", "m.yaml", 7, "unknown field 'purpos' in spec"),
    ("unknown_field", "m.yaml", 7, "did you mean 'purpose'?"),
    ("unknown_lifecycle_field", "m.yaml", 8, "did you mean 'prevent_destroy'?"),
    ("misspelt_kind", "m.yaml", 9, "unknown kind 'VectorStor'"),
    ("misspelt_kind", "m.yaml", 9, "did you mean 'VectorStore'?"),
    ("lowercase_kind", "m.yaml", 2, "did you mean 'File'? (kinds are case-sensitive)"),
    ("wrong_api_version", "m.yaml", 1, "unsupported apiVersion 'ocigen-iac/v2'"),
    ("missing_api_version", "m.yaml", 1, "has no apiVersion"),
    ("missing_metadata_name", "m.yaml", 4, "missing required field 'name' in metadata"),
    ("invalid_metadata_name", "m.yaml", 4, "metadata.name 'hand book' has characters that are not allowed"),
    ("missing_spec", "m.yaml", 1, "missing required field 'spec'"),
    ("dangling_reference", "m.yaml", 13, "refers to File 'handbok', which is not defined"),
    ("dangling_reference", "m.yaml", 13, "did you mean 'handbook'?"),
    ("duplicate_names", "b.yaml", 5, "duplicate File name 'handbook' (already defined at a.yaml:1)"),
    ("wrong_kind_reference", "m.yaml", 21, "'kb', which is a VectorStore, but a File is expected"),
    ("batch_wrong_kind_store", "m.yaml", 13, "'handbook', which is a File, but a VectorStore is expected"),
    ("batch_dangling_store", "m.yaml", 20, "did you mean 'support-kb'?"),
    ("batch_empty_files", "m.yaml", 21, "spec.files needs at least 1 item"),
    ("duplicate_attachment", "m.yaml", 15, "file.handbook is attached to vector_store.kb twice"),
    ("duplicate_attachment_batch", "m.yaml", 21, "attached to vector_store.kb twice (through batch 'more')"),
    ("unknown_variable", "m.yaml", 13, "unknown variable 'var.enviroment'"),
    ("unset_env_variable", "m.yaml", 13, "environment variable 'OCIGEN_TEST_SURELY_UNSET_VAR' is not set"),
    ("unterminated_interpolation", "m.yaml", 13, "unterminated interpolation"),
    ("bad_interpolation_namespace", "m.yaml", 13, "invalid interpolation '${user.name}'"),
    ("path_dotdot_escape", "m.yaml", 6, "leaves the project root"),
    ("path_absolute", "m.yaml", 6, "absolute path '/etc/hostname' is not allowed"),
    ("glob_dotdot_escape", "m.yaml", 6, "leaves the project root"),
    ("container_path_escape", "m.yaml", 8, "leaves the project root"),
    ("missing_file", "m.yaml", 6, "file 'handbok.md' does not exist"),
    ("missing_file", "m.yaml", 6, "did you mean 'handbook.md'?"),
    ("glob_no_match", "m.yaml", 6, "glob 'docs/*.txt' matched no files"),
    ("glob_missing_dir", "m.yaml", 6, "directory 'faq' does not exist"),
    ("glob_all_excluded", "m.yaml", 6, "'exclude' removed all of them"),
    ("glob_bad_class", "m.yaml", 6, "glob 'docs/[z-a]*.md' has an invalid character class '[z-a]'"),
    ("glob_bad_class", "m.yaml", 6, "write a range low to high"),
    ("glob_exclude_bad_class", "m.yaml", 7, "exclude pattern '[9-0]*.md' has an invalid character class '[9-0]'"),
    ("metadata_17_keys", "m.yaml", 14, "spec.metadata has 17 keys; at most 16 are allowed"),
    ("metadata_16_keys_owner_tag", "m.yaml", 14, "at most 15 are allowed"),
    ("metadata_key_65_chars", "m.yaml", 14, "is 65 characters long; at most 64"),
    ("metadata_value_513_chars", "m.yaml", 14, "spec.metadata.team is 513 characters long; at most 512"),
    ("metadata_value_not_string", "m.yaml", 14, 'quote the value to make it a string: "2"'),
    ("attributes_17_keys", "m.yaml", 15, "spec.files[0].attributes has 17 keys; at most 16"),
    ("attribute_value_513_chars", "m.yaml", 16, "attributes.note is 513 characters long"),
    ("batch_attributes_merged_too_many", "m.yaml", 23, "would get 17 attributes (batch + per-file)"),
    ("chunk_size_99", "m.yaml", 15, "max_chunk_size_tokens must be at least 100, got the number 99"),
    ("chunk_size_4097", "m.yaml", 16, "max_chunk_size_tokens must be at most 4096, got the number 4097"),
    ("chunk_overlap_over_half", "m.yaml", 19, "must not exceed half of max_chunk_size_tokens"),
    ("chunk_overlap_negative", "m.yaml", 17, "chunk_overlap_tokens must be at least 0"),
    ("chunking_type_bogus", "m.yaml", 14, "did you mean 'static'?"),
    ("expires_days_0", "m.yaml", 13, "spec.expires_after.days must be at least 1, got the number 0"),
    ("expires_days_366", "m.yaml", 15, "spec.expires_after.days must be at most 365, got the number 366"),
    ("expires_wrong_anchor", "m.yaml", 14, "anchor must be one of last_active_at; got 'created_at'"),
    ("file_expires_seconds_3599", "m.yaml", 7, "seconds must be at least 3600, got the number 3599"),
    ("file_expires_seconds_too_long", "m.yaml", 8, "seconds must be at most 2592000"),
    ("container_memory_2g", "m.yaml", 13, "memory_limit must be one of 1g, 4g, 16g, 64g; got '2g'"),
    ("container_minutes_0", "m.yaml", 8, "minutes must be at least 1"),
    ("container_minutes_too_many", "m.yaml", 6, "minutes must be at most 1440"),
    ("container_dangling_file", "m.yaml", 14, "did you mean 'handbook'?"),
    ("container_duplicate_file", "m.yaml", 15, "lists 'file.handbook' twice"),
    ("container_file_and_path", "m.yaml", 14, "set exactly one of 'file' (a managed File) or 'path'"),
    ("purpose_bogus", "m.yaml", 7, "did you mean 'assistants'?"),
    ("purpose_file_type_mismatch", "m.yaml", 7, "purpose 'fine-tune' accepts only .jsonl files"),
    ("purpose_vision_glob_mismatch", "m.yaml", 7, "'notes.txt' is not one"),
    ("vector_store_name_invalid", "m.yaml", 13, "vector store name 'kb\\ndefault' (after interpolation) is not valid"),
    ("path_and_glob", "m.yaml", 6, "set exactly one of 'path' (one file) or 'glob'"),
    ("filename_with_glob", "m.yaml", 6, "'filename' cannot be used with 'glob'"),
    ("ignore_changes_unknown_field", "m.yaml", 15, "did you mean 'metadata'?"),
    ("duplicate_yaml_key", "m.yaml", 7, "duplicate key 'path' in this mapping (first defined on line 6)"),
    ("scalar_document", "m.yaml", 8, "document 2 is a string, but a manifest must be a mapping"),
    ("list_document", "m.yaml", 1, "the document is a list, but a manifest must be a mapping"),
    ("empty_directory", ".", 0, "no manifests found"),
    ("only_empty_documents", ".", 0, "no manifests found"),
    ("multiple_errors", "a.yaml", 7, "unknown field 'purpos'"),
    ("multiple_errors", "b.yaml", 13, "unknown variable 'var.nope'"),
    ("multiple_errors", "b.yaml", 14, "days must be at least 1"),
    # a document with errors of its own is still resolved (without its failing fields)
    ("multiple_errors", "b.yaml", 4, "duplicate File name 'handbook' (already defined at a.yaml:1)"),
    ("multiple_errors", "b.yaml", 15, "refers to File 'handbok', which is not defined"),
    ("config_unknown_key", "ocigen.yaml", 2, "unknown field 'regoin' in ocigen.yaml"),
    ("config_unknown_key", "ocigen.yaml", 2, "did you mean 'region'?"),
    ("config_unknown_environment", "ocigen.yaml", 1, "unknown environment 'staging'"),
    ("config_unknown_environment", "ocigen.yaml", 1, "known environments: dev, prod"),
    ("config_api_key_literal", "ocigen.yaml", 4, "keys never live in files"),
    ("config_api_key_literal", "ocigen.yaml", 4, "api_key_env"),
    ("config_bad_auth_type", "ocigen.yaml", 2, "did you mean 'api_key'?"),
    ("config_bad_duration", "ocigen.yaml", 2, "'soon' is not a duration"),
    ("config_malformed", "ocigen.yaml", 2, "invalid YAML"),
]

ENV_FOR = {"config_unknown_environment": "staging"}
COUNTS = {"multiple_errors": 5}


def run_case(root: Path, env: str | None = None) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as info:
        settings = load_settings(root, env, environ={})
        load_desired(settings, root, environ={})
    return info.value


def _check(failure: ValidationFailed, file: str, line: int, fragment: str) -> None:
    text = str(failure)
    assert "Traceback" not in text
    matches = [d for d in failure.diagnostics if d.file == file and d.line == line and fragment in (d.message + d.hint)]
    assert matches, f"expected {file}:{line} containing {fragment!r}; got:\n{text}"
    for d in failure.diagnostics:
        assert d.message and d.file


@pytest.mark.parametrize(("case", "file", "line", "fragment"), CASES, ids=[f"{c[0]}:{c[3][:30]}" for c in CASES])
def test_broken_manifest(case: str, file: str, line: int, fragment: str) -> None:
    failure = run_case(CORPUS / case, ENV_FOR.get(case))
    _check(failure, file, line, fragment)
    if case in COUNTS:
        assert len(failure.diagnostics) == COUNTS[case], str(failure)


def test_every_corpus_case_is_in_the_table() -> None:
    listed = {c[0] for c in CASES}
    on_disk = {p.name for p in CORPUS.iterdir() if p.is_dir()}
    assert on_disk == listed
    assert len(on_disk) + 2 >= 35  # plus the two built in tmp_path below


def test_diagnostics_are_sorted_and_located() -> None:
    failure = run_case(CORPUS / "multiple_errors")
    keys = [(d.file, d.line, d.column) for d in failure.diagnostics]
    assert keys == sorted(keys)
    assert all(d.column > 0 for d in failure.diagnostics)
    assert str(failure).endswith("5 errors found; nothing was changed.")


def test_symlink_pointing_outside_the_root(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "key.pem").write_text("-----BEGIN PRIVATE KEY-----\n")
    root = tmp_path / "project"
    root.mkdir()
    (root / "docs").mkdir()
    (root / "docs" / "ok.md").write_text("fine\n")
    (root / "docs" / "key.md").symlink_to(outside / "key.pem")
    (root / "handbook.md").symlink_to(outside / "key.pem")
    (root / "m.yaml").write_text(
        "apiVersion: ocigen-iac/v1\nkind: File\nmetadata: {name: handbook}\nspec:\n  path: handbook.md\n"
        "---\n"
        "apiVersion: ocigen-iac/v1\nkind: File\nmetadata: {name: docs}\nspec:\n  glob: docs/*.md\n"
    )
    failure = run_case(root)
    _check(failure, "m.yaml", 5, "symlink")
    _check(failure, "m.yaml", 11, "points outside the project root")
    assert len(failure.diagnostics) == 2


def test_symlink_outside_allowed_when_configured(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "shared.md").write_text("shared\n")
    root = tmp_path / "project"
    root.mkdir()
    (root / "shared.md").symlink_to(outside / "shared.md")
    (root / "ocigen.yaml").write_text("allow_paths_outside_root: true\n")
    (root / "m.yaml").write_text(
        "apiVersion: ocigen-iac/v1\nkind: File\nmetadata: {name: shared}\nspec:\n  path: shared.md\n"
    )
    desired = load_desired(load_settings(root, environ={}), root, environ={})
    assert desired.resources["file.shared"].spec.filename == "shared.md"


def test_symlink_inside_the_root_is_fine(tmp_path: Path) -> None:
    (tmp_path / "real.md").write_text("x\n")
    (tmp_path / "link.md").symlink_to(tmp_path / "real.md")
    (tmp_path / "m.yaml").write_text(
        "apiVersion: ocigen-iac/v1\nkind: File\nmetadata: {name: doc}\nspec:\n  path: link.md\n"
    )
    desired = load_desired(load_settings(tmp_path, environ={}), tmp_path, environ={})
    assert desired.resources["file.doc"].spec.filename == "link.md"


def test_non_utf8_bytes(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(
        "apiVersion: ocigen-iac/v1\nkind: File\nmetadata: {name: a}\nspec:\n  path: good.yaml\n"
    )
    (tmp_path / "latin1.yaml").write_bytes(
        b"apiVersion: ocigen-iac/v1\nkind: File\nmetadata: {name: b}\nspec:\n  path: caf\xe9.md\n"
    )
    failure = run_case(tmp_path)
    _check(failure, "latin1.yaml", 5, "not valid UTF-8 (byte 0xe9")
    assert failure.diagnostics[0].column == 12
    assert len(failure.diagnostics) == 1


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    shutil.copy(CORPUS / "unknown_field" / "handbook.md", tmp_path / "handbook.md")
    (tmp_path / "m.yaml").write_bytes(
        b"\xef\xbb\xbfapiVersion: ocigen-iac/v1\nkind: File\nmetadata: {name: h}\nspec:\n  path: handbook.md\n"
    )
    assert "file.h" in load_desired(load_settings(tmp_path, environ={}), tmp_path, environ={}).resources


def test_missing_manifest_directory(tmp_path: Path) -> None:
    failure = run_case_dir(tmp_path, tmp_path / "nope")
    assert "does not exist" in failure.diagnostics[0].message


def run_case_dir(root: Path, directory: Path) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as info:
        load_desired(load_settings(root, environ={}), directory, environ={})
    return info.value
