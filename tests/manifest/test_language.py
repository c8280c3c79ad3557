"""Interpolation, globs, positions and the pieces of the manifest language in isolation."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocigen_iac.config import load_settings
from ocigen_iac.errors import ValidationFailed
from ocigen_iac.manifest import load_desired
from ocigen_iac.manifest.interpolate import InterpolationError, interpolate
from ocigen_iac.manifest.paths import Confinement, expand_glob, glob_match, split_glob
from ocigen_iac.manifest.yaml_positions import load_documents

H = "apiVersion: ocigen-iac/v1\n"


@pytest.mark.parametrize(
    ("text", "out"),
    [
        ("plain", "plain"),
        ("kb-${var.env}", "kb-dev"),
        ("${var.env}-${env.USER_X}", "dev-alice"),
        ("$${var.env}", "${var.env}"),
        ("cost: $5", "cost: $5"),
        ("${ var.env }", "dev"),
        ("${env.EMPTY}", ""),
    ],
)
def test_interpolate(text: str, out: str) -> None:
    assert interpolate(text, {"env": "dev"}, {"USER_X": "alice", "EMPTY": ""}) == out


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("${var.nope}", "unknown variable 'var.nope'"),
        ("${env.NOPE}", "is not set"),
        ("${var.env", "unterminated"),
        ("${foo.bar}", "invalid interpolation"),
        ("${var.}", "invalid interpolation"),
        ("${}", "invalid interpolation"),
    ],
)
def test_interpolate_errors(text: str, fragment: str) -> None:
    with pytest.raises(InterpolationError) as info:
        interpolate(text, {"env": "dev"}, {})
    assert fragment in info.value.message


def test_did_you_mean_for_variables() -> None:
    with pytest.raises(InterpolationError) as info:
        interpolate("${var.tem}", {"team": "x"}, {})
    assert "did you mean 'team'?" in info.value.hint


@pytest.mark.parametrize(
    ("pattern", "path", "ok"),
    [
        ("*.md", "a.md", True),
        ("*.md", "sub/a.md", False),
        ("**/*.md", "a.md", True),
        ("**/*.md", "x/y/a.md", True),
        ("**", "x/y/a.md", True),
        ("a/**/b.md", "a/b.md", True),
        ("a/**/b.md", "a/x/y/b.md", True),
        ("draft-*", "draft-x.md", True),
        ("**/draft-*", "draft-x.md", True),
        ("**/draft-*", "sub/draft-x.md", True),
        ("?.md", "ab.md", False),
        ("[ab].md", "b.md", True),
        ("[!ab].md", "b.md", False),
        ("*.md", ".hidden.md", False),
        (".*.md", ".hidden.md", True),
    ],
)
def test_glob_match(pattern: str, path: str, ok: bool) -> None:
    assert glob_match(pattern, path) is ok


def test_split_glob() -> None:
    assert split_glob("docs/faq/**/*.md") == ("docs/faq", "**/*.md")
    assert split_glob("*.md") == ("", "*.md")
    assert split_glob("./docs/a.md") == ("docs", "a.md")


def _tree(root: Path, files: list[str]) -> None:
    for f in files:
        p = root / f
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(f)


def test_expand_glob_recursive_sorted_with_excludes(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        ["docs/b.md", "docs/a.md", "docs/sub/c.md", "docs/sub/draft-d.md", "docs/.hidden/e.md", "docs/x.txt"],
    )
    conf = Confinement(tmp_path.resolve())
    members = expand_glob(conf, tmp_path, "docs/**/*.md", ["**/draft-*"])
    assert [m.key for m in members] == ["a.md", "b.md", "sub/c.md"]
    assert members[2].path == tmp_path / "docs" / "sub" / "c.md"
    # an exclude written relative to the manifest directory works too
    members = expand_glob(conf, tmp_path, "docs/*.md", ["docs/a.md"])
    assert [m.key for m in members] == ["b.md"]


def test_glob_member_addresses_and_filenames(tmp_path: Path) -> None:
    _tree(tmp_path, ["m/docs/faq/intro.md", "m/docs/faq/billing/refunds.md", "m/docs/faq/notes.txt"])
    (tmp_path / "m" / "files.yaml").write_text(
        H + "kind: File\nmetadata: {name: faq}\nspec:\n  glob: docs/faq/**/*.md\n"
        "---\n" + H + "kind: VectorStore\nmetadata: {name: kb}\nspec:\n  files: [faq]\n"
    )
    desired = load_desired(load_settings(tmp_path, environ={}), tmp_path / "m", environ={})
    assert list(desired.resources) == [
        'file.faq["billing/refunds.md"]',
        'file.faq["intro.md"]',
        "vector_store.kb",
    ]
    member = desired.resources['file.faq["billing/refunds.md"]']
    assert member.spec.filename == "refunds.md"  # the service keeps the base name; the address keeps the path
    assert member.spec.rel_path == "m/docs/faq/billing/refunds.md"
    assert member.name == "faq" and member.kind == "File"
    kb = desired.resources["vector_store.kb"]
    assert kb.spec.name == "kb"  # defaults to metadata.name
    assert [a.file for a in kb.spec.files] == list(desired.resources)[:2]


def test_paths_are_relative_to_the_manifest_file(tmp_path: Path) -> None:
    _tree(tmp_path, ["common/policy.md", "team/a/notes.md"])
    (tmp_path / "team" / "a" / "m.yaml").write_text(
        H + "kind: File\nmetadata: {name: notes}\nspec:\n  path: notes.md\n"
        "---\n" + H + "kind: File\nmetadata: {name: policy}\nspec:\n  path: ../../common/policy.md\n"
    )
    desired = load_desired(load_settings(tmp_path, environ={}), tmp_path, environ={})
    assert desired.resources["file.notes"].spec.rel_path == "team/a/notes.md"
    assert desired.resources["file.policy"].spec.rel_path == "common/policy.md"


def test_batch_folds_attributes_and_chunking(tmp_path: Path) -> None:
    _tree(tmp_path, ["a.md", "b.md"])
    (tmp_path / "m.yaml").write_text(
        H
        + "kind: File\nmetadata: {name: a}\nspec: {path: a.md}\n---\n"
        + H
        + "kind: File\nmetadata: {name: b}\nspec: {path: b.md, expires_after: {seconds: 3600}}\n---\n"
        + H
        + "kind: VectorStore\nmetadata: {name: kb}\nspec:\n  name: my-kb\n"
        "  chunking_strategy: {type: auto}\n---\n"
        + H
        + "kind: VectorStoreFileBatch\nmetadata: {name: batch}\nspec:\n  vector_store: kb\n"
        "  attributes: {section: policy, rank: 1}\n"
        "  chunking_strategy: {type: static, static: {max_chunk_size_tokens: 400, chunk_overlap_tokens: 200}}\n"
        "  files:\n    - a\n    - {file: b, attributes: {rank: 2, public: true}, chunking_strategy: {type: auto}}\n"
        "lifecycle: {prevent_destroy: true, ignore_changes: all}\n"
    )
    desired = load_desired(load_settings(tmp_path, environ={}), tmp_path, environ={})
    assert desired.resources["file.b"].spec.expires_after == {"anchor": "created_at", "seconds": 3600}
    kb = desired.resources["vector_store.kb"]
    assert kb.spec.name == "my-kb" and kb.spec.chunking_strategy == {"type": "auto"} and kb.spec.files == ()
    batch = desired.resources["vector_store_file_batch.batch"]
    a, b = batch.spec.files
    assert a.attributes == {"section": "policy", "rank": 1}
    assert a.chunking_strategy == {
        "type": "static",
        "static": {"max_chunk_size_tokens": 400, "chunk_overlap_tokens": 200},
    }
    assert b.attributes == {"section": "policy", "rank": 2, "public": True}
    assert b.chunking_strategy == {"type": "auto"}
    assert batch.lifecycle.prevent_destroy and batch.lifecycle.ignore_changes == ("all",)
    assert batch.depends_on == ("vector_store.kb", "file.a", "file.b")


def test_hidden_files_and_config_are_not_manifests(tmp_path: Path) -> None:
    _tree(tmp_path, ["a.md"])
    (tmp_path / ".hidden.yaml").write_text("not: a manifest\n")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.yaml").write_text("- nope\n")
    (tmp_path / "ocigen.yaml").write_text("vars: {env: qa}\n")
    (tmp_path / "m.yml").write_text(H + "kind: File\nmetadata: {name: a}\nspec: {path: a.md}\n")
    desired = load_desired(load_settings(tmp_path, environ={}), tmp_path, environ={})
    assert list(desired.resources) == ["file.a"]
    assert list(desired.manifest_digests) == ["m.yml"]


def test_env_interpolation_uses_the_process_environment(tmp_path: Path, monkeypatch) -> None:
    _tree(tmp_path, ["a.md"])
    (tmp_path / "m.yaml").write_text(
        H + "kind: Container\nmetadata: {name: box}\nspec: {name: 'box-${env.OCIGEN_TEST_OWNER}'}\n"
    )
    monkeypatch.setenv("OCIGEN_TEST_OWNER", "alice")
    desired = load_desired(load_settings(tmp_path, environ={}), tmp_path)
    assert desired.resources["container.box"].spec.name == "box-alice"


def test_interpolated_numbers_are_accepted(tmp_path: Path) -> None:
    (tmp_path / "ocigen.yaml").write_text("vars: {days: 7}\n")
    (tmp_path / "m.yaml").write_text(
        H + "kind: VectorStore\nmetadata: {name: kb}\nspec: {expires_after: {days: '${var.days}'}}\n"
    )
    desired = load_desired(load_settings(tmp_path, environ={}), tmp_path, environ={})
    assert desired.resources["vector_store.kb"].spec.expires_after == {"anchor": "last_active_at", "days": 7}


def test_positions_are_recorded_for_keys_and_values() -> None:
    docs, problems = load_documents("a: 1\nb:\n  - x\n  - {c: d}\n---\ne: f\n", "f.yaml")
    assert not problems
    first, second = docs
    assert first.data.key_pos["b"] == (2, 1)
    assert first.data["b"].item_pos == [(3, 5), (4, 5)]
    assert first.data["b"][1].value_pos["c"] == (4, 9)
    assert second.start == (6, 1) and second.index == 1


def test_dates_stay_strings() -> None:
    docs, _ = load_documents("d: 2024-01-01\n", "f.yaml")
    assert docs[0].data["d"] == "2024-01-01"


def test_manifest_file_as_directory_argument(tmp_path: Path) -> None:
    _tree(tmp_path, ["a.md"])
    (tmp_path / "one.yaml").write_text(H + "kind: File\nmetadata: {name: a}\nspec: {path: a.md}\n")
    (tmp_path / "two.yaml").write_text("broken: [\n")
    desired = load_desired(load_settings(tmp_path, environ={}), tmp_path / "one.yaml", environ={})
    assert list(desired.resources) == ["file.a"]


def test_errors_in_one_document_do_not_cascade(tmp_path: Path) -> None:
    _tree(tmp_path, ["a.md"])
    (tmp_path / "m.yaml").write_text(
        H
        + "kind: File\nmetadata: {name: a}\nspec: {path: a.md, purpose: nope}\n---\n"
        + H
        + "kind: VectorStore\nmetadata: {name: kb}\nspec: {files: [a]}\n"
    )
    with pytest.raises(ValidationFailed) as info:
        load_desired(load_settings(tmp_path, environ={}), tmp_path, environ={})
    assert len(info.value.diagnostics) == 1  # no "unknown File 'a'" on top


def test_store_names_accept_what_the_api_accepts(tmp_path: Path) -> None:
    # Oracle's own sample creates a store named "OCI Support FAQ Vector Store"
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "kb.yaml").write_text(
        H + "kind: VectorStore\nmetadata: {name: kb}\nspec:\n  name: OCI Support FAQ Vector Store\n")
    desired = load_desired(load_settings(tmp_path, environ={}), tmp_path / "m", environ={})
    assert desired.resources["vector_store.kb"].spec.name == "OCI Support FAQ Vector Store"
