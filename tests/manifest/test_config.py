"""ocigen.yaml, environments, OCIGEN_* variables and flag overrides -> Settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocigen_iac.config import load_settings, parse_duration
from ocigen_iac.errors import ValidationFailed

FULL = """
region: us-chicago-1
realm_domain: oraclecloud.com
project: ocid1.generativeaiproject.oc1..xxx
compartment: ocid1.compartment.oc1..xxx
auth:
  type: api_key
  api_key_env: MY_KEY
  profile: DEFAULT
endpoints:
  inference: https://example.test/openai/v1/
state:
  backend: local
  path: var/state
  stale_lock_after: 1h30m
vars:
  env: dev
  team: support
environments:
  dev: {vars: {env: dev}}
  prod:
    vars: {env: prod}
    project: ocid1.generativeaiproject.oc1..yyy
    region: eu-frankfurt-1
    auth: {type: session, profile: PROD}
    state: {path: var/prod-state}
"""


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "ocigen.yaml").write_text(text)
    return tmp_path


def test_defaults_without_a_file(tmp_path: Path) -> None:
    s = load_settings(tmp_path, environ={})
    assert s.root == tmp_path.resolve()
    assert s.env == "default"
    assert s.vars == {}
    assert s.region == "us-chicago-1"
    assert s.auth.type == "api_key" and s.auth.api_key_env == "OCI_GENAI_API_KEY"
    assert s.inference_base == "https://inference.generativeai.us-chicago-1.oci.oraclecloud.com/openai/v1"
    assert s.vector_store_base == ("https://inference.generativeai.us-chicago-1.oci.oraclecloud.com/20231130/openai/v1")
    assert s.state.path == tmp_path.resolve() / ".ocigen" / "state"
    assert s.state.stale_lock_after_s == 3600
    assert not s.local and not s.allow_paths_outside_root


def test_full_file_top_level(tmp_path: Path) -> None:
    s = load_settings(write(tmp_path, FULL), "default", environ={})  # "default" by name: the top level
    assert s.env == "default"
    assert s.vars == {"env": "dev", "team": "support"}
    assert s.project == "ocid1.generativeaiproject.oc1..xxx"
    assert s.compartment == "ocid1.compartment.oc1..xxx"
    assert s.auth.api_key_env == "MY_KEY"
    assert s.inference_base == "https://example.test/openai/v1"  # trailing slash dropped
    assert s.vector_store_base.endswith("/20231130/openai/v1")
    assert s.state.path == tmp_path.resolve() / "var" / "state"
    assert s.state.stale_lock_after_s == 5400


def test_environment_overrides(tmp_path: Path) -> None:
    s = load_settings(write(tmp_path, FULL), "prod", environ={})
    assert s.env == "prod"
    assert s.vars == {"env": "prod", "team": "support"}
    assert s.project == "ocid1.generativeaiproject.oc1..yyy"
    assert s.compartment == "ocid1.compartment.oc1..xxx"  # inherited
    assert s.region == "eu-frankfurt-1"
    assert s.auth.type == "session" and s.auth.profile == "PROD"
    assert s.auth.api_key_env == "MY_KEY"  # merged field by field
    # session is IAM: management goes to the control-plane host
    assert s.vector_store_base == "https://generativeai.eu-frankfurt-1.oci.oraclecloud.com/20231130/openai/v1"
    assert s.state.path == tmp_path.resolve() / "var" / "prod-state"


def test_env_vars_then_flags(tmp_path: Path) -> None:
    environ = {
        "OCIGEN_ENV": "prod",
        "OCIGEN_REGION": "us-ashburn-1",
        "OCIGEN_PROJECT": "p-env",
        "OCIGEN_COMPARTMENT": "c-env",
        "OCIGEN_AUTH_TYPE": "instance_principal",
        "OCIGEN_PROFILE": "ENVPROF",
        "OCIGEN_VECTOR_STORE_ENDPOINT": "http://127.0.0.1:9/vs",
    }
    s = load_settings(write(tmp_path, FULL), environ=environ)
    assert s.env == "prod"
    assert (s.region, s.project, s.compartment) == ("us-ashburn-1", "p-env", "c-env")
    assert s.auth.type == "instance_principal" and s.auth.profile == "ENVPROF"
    assert s.vector_store_base == "http://127.0.0.1:9/vs"

    s = load_settings(
        tmp_path,
        "dev",
        environ=environ,
        overrides={
            "region": "uk-london-1",
            "project": "p-flag",
            "auth_type": "api_key",
            "inference_endpoint": "http://127.0.0.1:8/openai/v1",
            "state_path": "elsewhere",
            "compartment": None,  # unset flags are ignored
        },
        local=True,
    )
    assert s.env == "dev" and s.vars["env"] == "dev"
    assert (s.region, s.project, s.compartment) == ("uk-london-1", "p-flag", "c-env")
    assert s.auth.type == "api_key"
    assert s.inference_base == "http://127.0.0.1:8/openai/v1"
    assert s.state.path == tmp_path.resolve() / "elsewhere"
    assert s.local


def test_unknown_override_key_is_a_programming_error(tmp_path: Path) -> None:
    with pytest.raises(TypeError):
        load_settings(tmp_path, overrides={"regoin": "x"}, environ={})


def test_bad_auth_type_from_env_var(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed) as info:
        load_settings(tmp_path, environ={"OCIGEN_AUTH_TYPE": "apikey"})
    d = info.value.diagnostics[0]
    assert d.file == "OCIGEN_AUTH_TYPE" and "did you mean 'api_key'?" in d.hint


def test_unknown_environment_without_a_file(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed) as info:
        load_settings(tmp_path, "dev", environ={})
    assert "unknown environment 'dev'" in str(info.value)
    assert "environments:" in info.value.diagnostics[0].hint


def test_no_env_selected_with_environments_configured_fails_listing_them(tmp_path: Path) -> None:
    # forgetting --env must not quietly plan a parallel "default" environment with its own state
    with pytest.raises(ValidationFailed) as info:
        load_settings(write(tmp_path, FULL), environ={})
    [d] = info.value.diagnostics
    assert (d.file, d.line) == ("ocigen.yaml", FULL.splitlines().index("environments:") + 1)
    assert "no environment selected" in d.message and "dev, prod" in d.message
    assert "--env dev" in d.hint and "default_environment: dev" in d.hint


def test_default_environment_selects_one_and_flags_still_win(tmp_path: Path) -> None:
    write(tmp_path, FULL + "default_environment: prod\n")
    assert load_settings(tmp_path, environ={}).env == "prod"
    assert load_settings(tmp_path, environ={}).region == "eu-frankfurt-1"
    assert load_settings(tmp_path, environ={"OCIGEN_ENV": "dev"}).env == "dev"
    assert load_settings(tmp_path, "dev", environ={"OCIGEN_ENV": "prod"}).env == "dev"


def test_default_environment_must_name_a_configured_one(tmp_path: Path) -> None:
    write(tmp_path, FULL + "default_environment: staging\n")
    with pytest.raises(ValidationFailed) as info:
        load_settings(tmp_path, environ={})
    [d] = info.value.diagnostics
    assert d.line == len(FULL.splitlines()) + 1 and d.column == 22
    assert "unknown environment 'staging' (selected by ocigen.yaml's default_environment)" in d.message
    assert "known environments: dev, prod" in d.hint


def test_default_by_name_still_means_the_top_level_values(tmp_path: Path) -> None:
    s = load_settings(write(tmp_path, FULL), environ={"OCIGEN_ENV": "default"})
    assert s.env == "default" and s.region == "us-chicago-1"


def test_vars_overrides_win_over_file_and_environment(tmp_path: Path) -> None:
    s = load_settings(write(tmp_path, FULL), "prod", overrides={"vars": {"team": "search", "n": 3}}, environ={})
    assert s.vars == {"env": "prod", "team": "search", "n": "3"}


def test_stale_lock_after_takes_milliseconds(tmp_path: Path) -> None:
    s = load_settings(write(tmp_path, "state: {stale_lock_after: 500ms}\n"), environ={})
    assert s.state.stale_lock_after_s == 0.5


def test_api_key_in_environment_block_is_rejected_without_echoing_it(tmp_path: Path) -> None:
    write(tmp_path, "environments:\n  prod:\n    auth:\n      api_key: sk-secret-value\n")
    with pytest.raises(ValidationFailed) as info:
        load_settings(tmp_path, environ={})
    text = str(info.value)
    assert "ocigen.yaml:4:7" in text and "api_key_env" in text
    assert "sk-secret-value" not in text


def test_oci_backend_needs_bucket(tmp_path: Path) -> None:
    write(tmp_path, "state:\n  backend: oci\n  namespace: ns\n")
    with pytest.raises(ValidationFailed) as info:
        load_settings(tmp_path, environ={})
    assert "needs state.namespace and state.bucket" in str(info.value)
    write(tmp_path, "state: {backend: oci, namespace: ns, bucket: b, prefix: p, endpoint: 'http://127.0.0.1:1'}\n")
    s = load_settings(tmp_path, environ={})
    assert (s.state.backend, s.state.namespace, s.state.bucket, s.state.prefix) == ("oci", "ns", "b", "p")
    assert s.state.endpoint == "http://127.0.0.1:1"


def test_vars_are_strings(tmp_path: Path) -> None:
    write(tmp_path, "vars: {replicas: 3, debug: true, ratio: 0.5}\n")
    assert load_settings(tmp_path, environ={}).vars == {"replicas": "3", "debug": "true", "ratio": "0.5"}


def test_several_config_errors_at_once(tmp_path: Path) -> None:
    write(tmp_path, "regoin: x\nauth: {type: nope}\nendpoints: {inference: not-a-url}\n")
    with pytest.raises(ValidationFailed) as info:
        load_settings(tmp_path, environ={})
    assert [d.line for d in info.value.diagnostics] == [1, 2, 3]


@pytest.mark.parametrize(
    ("text", "seconds"), [("1h", 3600), ("30m", 1800), ("90s", 90), ("1h30m", 5400), ("2d", 172800), (15, 15)]
)
def test_durations(text: str | int, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "1x", "0s", "-1h"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)
