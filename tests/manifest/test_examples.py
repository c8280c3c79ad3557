"""The example manifests in manifests/: they load, expand and match the JSON schema."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import jsonschema
import pytest
import yaml

from ocigen_iac.config import load_settings
from ocigen_iac.manifest import json_schema, load_desired, summarize
from ocigen_iac.resources.containers import ContainerSpec
from ocigen_iac.resources.files import FileSpec
from ocigen_iac.resources.vector_store_files import FileBatchSpec
from ocigen_iac.resources.vector_stores import VectorStoreSpec

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "manifests"


def _example_documents() -> list[tuple[str, dict]]:
    docs = []
    for path in sorted(EXAMPLES.rglob("*.yaml")):
        for i, doc in enumerate(yaml.safe_load_all(path.read_text())):
            if doc is not None:
                docs.append((f"{path.name}#{i}", doc))
    return docs


@pytest.fixture(scope="module")
def desired():
    return load_desired(load_settings(REPO, environ={}), EXAMPLES, environ={})


def test_examples_load(desired) -> None:
    assert set(desired.resources) == {
        "file.handbook",
        'file.faq["account.md"]',
        'file.faq["billing.md"]',
        'file.faq["storage.md"]',
        'file.policies["acceptable-use.md"]',
        'file.policies["data-retention.md"]',
        'file.policies["refunds.md"]',
        "vector_store.support-kb",
        "vector_store_file_batch.policies",
        "container.analyst-sandbox",
        "retrieval_check.support-kb-answers",
    }
    assert set(desired.manifest_digests) == {"manifests/analyst-sandbox.yaml", "manifests/knowledge-base.yaml",
                                             "manifests/retrieval-checks.yaml"}
    assert all(len(h) == 64 for h in desired.manifest_digests.values())


def test_example_specs(desired) -> None:
    handbook = desired.resources["file.handbook"]
    assert isinstance(handbook.spec, FileSpec)
    assert handbook.spec.path == EXAMPLES / "docs" / "handbook.md"
    assert handbook.spec.path.is_absolute()
    assert handbook.spec.rel_path == "manifests/docs/handbook.md"
    assert handbook.spec.filename == "handbook.md"
    assert handbook.spec.purpose == "assistants"
    assert handbook.location is not None and handbook.location.file == "manifests/knowledge-base.yaml"

    store = desired.resources["vector_store.support-kb"]
    assert isinstance(store.spec, VectorStoreSpec)
    assert store.spec.name == "support-kb-dev"  # ${var.env} from the committed ocigen.yaml
    assert store.spec.metadata == {"team": "support", "environment": "dev"}
    assert store.spec.expires_after == {"anchor": "last_active_at", "days": 30}
    assert store.spec.chunking_strategy == {
        "type": "static",
        "static": {"max_chunk_size_tokens": 800, "chunk_overlap_tokens": 400},
    }
    files = {a.file: a for a in store.spec.files}
    assert files["file.handbook"].attributes is None
    assert files['file.faq["billing.md"]'].attributes == {"section": "faq"}
    assert files['file.faq["billing.md"]'].chunking_strategy is None  # the store's default applies
    assert set(store.depends_on) == set(files)

    batch = desired.resources["vector_store_file_batch.policies"]
    assert isinstance(batch.spec, FileBatchSpec)
    assert batch.spec.vector_store == "vector_store.support-kb"
    assert [a.file for a in batch.spec.files] == [
        'file.policies["acceptable-use.md"]',
        'file.policies["data-retention.md"]',
        'file.policies["refunds.md"]',
    ]  # draft-ai-usage.md is excluded
    assert all(a.attributes == {"section": "policy"} for a in batch.spec.files)
    assert batch.depends_on[0] == "vector_store.support-kb"

    box = desired.resources["container.analyst-sandbox"]
    assert isinstance(box.spec, ContainerSpec)
    assert box.spec.name == "analyst-sandbox"
    assert box.spec.memory_limit == "4g"
    assert box.spec.expires_after == {"anchor": "last_active_at", "minutes": 60}
    assert box.spec.files[0].file == "file.handbook"
    assert box.spec.files[1].path == EXAMPLES / "data" / "prices.csv"
    assert box.spec.files[1].filename == "prices.csv"
    assert box.spec.files[1].member == "path:manifests/data/prices.csv"
    assert box.depends_on == ("file.handbook",)


def test_examples_per_environment() -> None:
    prod = load_desired(load_settings(REPO, "prod", environ={}), EXAMPLES, environ={})
    assert prod.resources["vector_store.support-kb"].spec.name == "support-kb-prod"


def test_examples_validate_without_ocigen_yaml(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLES, tmp_path / "manifests")
    desired = load_desired(load_settings(tmp_path, environ={}), tmp_path / "manifests", environ={})
    # ${var.env} falls back to the environment name
    assert desired.resources["vector_store.support-kb"].spec.name == "support-kb-default"


def test_summary(desired) -> None:
    assert summarize(desired) == (
        "Found 3 manifest files: 7 documents: 3 File (7 files after glob expansion), 1 VectorStore, "
        "1 VectorStoreFileBatch, 1 Container (2 container files), 1 RetrievalCheck (7 queries)."
    )
    assert summarize(desired, {"file": 7, "vector_store": 1}).splitlines() == [
        "Found 3 manifest files: 7 documents declare 8 objects (plan counts objects).",
        "  documents: 3 File (7 files after glob expansion), 1 VectorStore, 1 VectorStoreFileBatch, "
        "1 Container (2 container files), 1 RetrievalCheck (7 queries)",
        "  objects:   7 file, 1 vector_store",
    ]


def test_everything_the_examples_reference_exists(desired) -> None:
    for r in desired.resources.values():
        for dep in r.depends_on:
            assert dep in desired.resources
        if isinstance(r.spec, FileSpec):
            assert r.spec.path.is_file()


def test_schema_is_valid_json_schema() -> None:
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    json.dumps(schema)  # serialisable
    assert {s["$ref"].rsplit("/", 1)[-1] for s in schema["oneOf"]} == {
        "FileDocument",
        "VectorStoreDocument",
        "VectorStoreFileBatchDocument",
        "ContainerDocument",
        "ProjectDocument",
        "ObjectStorageObjectsDocument",
        "VectorStoreConnectorDocument",
        "RetrievalCheckDocument",
    }


@pytest.mark.parametrize(("name", "doc"), _example_documents(), ids=[n for n, _ in _example_documents()])
def test_schema_validates_example_documents(name: str, doc: dict) -> None:
    jsonschema.validate(doc, json_schema(), cls=jsonschema.Draft202012Validator)


def test_schema_rejects_broken_documents() -> None:
    schema = json_schema()
    docs = dict(_example_documents())
    store = next(d for d in docs.values() if d["kind"] == "VectorStore")
    validator = jsonschema.Draft202012Validator(schema)

    for mutate in (
        lambda d: d["spec"].__setitem__("expires_after", {"anchor": "last_active_at", "days": 0}),
        lambda d: d["spec"].__setitem__("nmae", "x"),
        lambda d: d.__setitem__("kind", "VectorStor"),
        lambda d: d.__setitem__("apiVersion", "ocigen-iac/v2"),
        lambda d: d["spec"]["metadata"].update({f"k{i}": "v" for i in range(16)}),
        lambda d: d["spec"].__setitem__("chunking_strategy", {"type": "static", "static": {}}),
        lambda d: d["spec"]["files"].append({"file": "x", "attributes": {"k" * 65: "v"}}),
    ):
        broken = copy.deepcopy(store)
        mutate(broken)
        assert list(validator.iter_errors(broken)), broken


def test_loading_is_deterministic() -> None:
    a = load_desired(load_settings(REPO, environ={}), EXAMPLES, environ={})
    b = load_desired(load_settings(REPO, environ={}), EXAMPLES, environ={})
    assert list(a.resources) == list(b.resources)
    assert a.resources == b.resources
