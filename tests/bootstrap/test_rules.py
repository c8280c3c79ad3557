"""Pure rules of the control-plane kinds: what a connector reads, when its content changes, what
validation refuses (no server)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from ocigen_iac.api.oci_sdk import profile_problem
from ocigen_iac.config import load_settings
from ocigen_iac.errors import ValidationFailed
from ocigen_iac.manifest import load_desired
from ocigen_iac.resources.object_storage_objects import _common_prefix
from ocigen_iac.resources.vector_store_connectors import content_digest, reads
from tests.api.iam_keys import write_iam_files

CONF = {"buckets": [{"namespace": None, "bucket": "docs", "prefixes": ["kb/", "faq/"]},
                    {"namespace": "ns2", "bucket": "other", "prefixes": []}]}


def test_what_a_connector_reads() -> None:
    assert reads(CONF, None, "docs", "kb/a.md") and reads(CONF, "anyns", "docs", "faq/b.md")
    assert not reads(CONF, None, "docs", "drafts/a.md")
    assert reads(CONF, "ns2", "other", "x") and reads(CONF, None, "other", "x")
    assert not reads(CONF, "ns3", "other", "x") and not reads(CONF, None, "elsewhere", "kb/a.md")


def test_content_digest_follows_names_and_hashes_only() -> None:
    a = {"bucket": "docs", "name": "kb/a.md", "sha256": "1" * 64, "source": "x"}
    b = {"bucket": "docs", "name": "kb/b.md", "sha256": "2" * 64}
    base = content_digest(CONF, [a, b])
    assert content_digest(CONF, [a, b]) == base
    assert content_digest(CONF, [{**a, "source": "moved/a.md"}, b]) == base  # where it came from does not matter
    assert content_digest(CONF, [{**a, "sha256": "3" * 64}, b]) != base
    assert content_digest(CONF, [a]) != base
    assert content_digest({"buckets": CONF["buckets"][:1]}, [a, b]) != base


def test_common_prefix() -> None:
    assert _common_prefix(["kb/a.md", "kb/sub/b.md", "kb/c.md"]) == "kb/"
    assert _common_prefix(["a", "b"]) == "" and _common_prefix([]) == "" and _common_prefix(["x/y"]) == "x/y"


def test_profile_problems_are_found_offline(tmp_path: Path) -> None:
    iam = write_iam_files(tmp_path / "oci")

    def problem(profile: str, config: Path | str = iam.config_file, auth: str = "api_key") -> str | None:
        (tmp_path / "ocigen.yaml").write_text(f"auth: {{type: {auth}, profile: {profile}, config_file: {config}}}\n")
        return profile_problem(load_settings(tmp_path, environ={}))

    assert problem("DEFAULT") is None and problem("SESSION", auth="session") is None
    assert "profile [NOPE] is not in" in (problem("NOPE") or "")
    bare = tmp_path / "bare-config"
    bare.write_text("[ONLY]\ntenancy=ocid1.tenancy.oc1..x\n")
    assert "profile [ONLY] of" in (problem("ONLY", bare) or "") and "has no user, fingerprint, key_file" in (
        problem("ONLY", bare) or "")
    assert "does not exist" in (problem("DEFAULT", tmp_path / "missing") or "")
    Path(str(iam.config_file).replace("config", "oci_api_key.pem")).unlink()
    assert "key_file" in (problem("DEFAULT") or "")
    assert problem("X", auth="instance_principal") is None  # cannot be checked offline


def _validate(tmp_path: Path, manifest: str, config: str = "compartment: ocid1.compartment.oc1..x\n",
              local: bool = True) -> str:
    (tmp_path / "m").mkdir(exist_ok=True)
    (tmp_path / "m" / "a.yaml").write_text(textwrap.dedent(manifest))
    (tmp_path / "ocigen.yaml").write_text(config)
    with pytest.raises(ValidationFailed) as e:
        load_desired(load_settings(tmp_path, local=local, environ={}), tmp_path / "m", environ={})
    return str(e.value)


def test_one_project_and_not_beside_a_configured_one(tmp_path: Path) -> None:
    two = """\
        apiVersion: ocigen-iac/v1
        kind: Project
        metadata: {name: a}
        spec: {}
        ---
        apiVersion: ocigen-iac/v1
        kind: Project
        metadata: {name: b}
        spec: {}
        """
    assert "only one Project can be declared" in _validate(tmp_path, two)
    one = "apiVersion: ocigen-iac/v1\nkind: Project\nmetadata: {name: a}\nspec: {}\n"
    text = _validate(tmp_path, one, "project: ocid1.generativeaiproject.oc1..x\ncompartment: c\n")
    assert "also sets project: ocid1.generativeaiproject.oc1..x" in text and "a.yaml:1:1" in text


def test_connector_spec_errors(tmp_path: Path) -> None:
    doc = """\
        apiVersion: ocigen-iac/v1
        kind: VectorStoreConnector
        metadata: {name: c}
        spec:
          vector_store: nope
          configuration: {buckets: [{bucket: docs}]}
          schedule: {cron: "0 3 * * *", frequency: DAILY}
        """
    text = _validate(tmp_path, doc)
    assert "set exactly one of 'cron' or 'frequency'" in text
    text = _validate(tmp_path, doc.replace(', frequency: DAILY', ''))
    assert "spec.vector_store refers to VectorStore 'nope', which is not defined" in text
    text = _validate(tmp_path, doc.replace(', frequency: DAILY', ''), config="")
    assert "needs a compartment" not in text  # --local: the emulator's compartment
    text = _validate(tmp_path, doc.replace(', frequency: DAILY', ''), config="", local=False)
    assert "VectorStoreConnector 'c' needs a compartment" in text
