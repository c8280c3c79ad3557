"""`ocigen.yaml` + environment + env vars + CLI flags -> Settings.

Owns the configuration file format (README "Configuration") and the precedence rules, lowest first:

  1. defaults (settings.py)
  2. `ocigen.yaml` top level (optional; at the project root)
  3. the selected environment: `environments.NAME` — its `vars` are merged over the top-level
     `vars`; `region`, `realm_domain`, `project`, `compartment`, `auth`, `endpoints`, `state`
     override the top-level values field by field
  4. environment variables:
       OCIGEN_ENV                     environment to select when `env` is not given
       OCIGEN_REGION                  region, e.g. us-chicago-1
       OCIGEN_PROJECT                 project OCID (OpenAI-Project header)
       OCIGEN_COMPARTMENT             compartment OCID (opc-compartment-id header)
       OCIGEN_AUTH_TYPE               api_key | user_principal | session | instance_principal |
                                      resource_principal
       OCIGEN_PROFILE                 ~/.oci/config profile (user_principal / session)
       OCIGEN_INFERENCE_ENDPOINT      data-plane base URL override
       OCIGEN_VECTOR_STORE_ENDPOINT   vector-store management base URL override
  5. `overrides` (CLI flags), flat keys: region, realm_domain, project, compartment, auth_type,
     profile, api_key_env, inference_endpoint, vector_store_endpoint, state_path, and `vars`
     (a mapping from --var / --var-file, merged over every `vars:` above). None = unset.

The environment name is `env`, else $OCIGEN_ENV, else `default_environment:`, else "default".
"default" needs no `environments` entry (top-level values apply); any other name must be
configured. When `environments:` is set, a run that names none (and no `default_environment:`)
is an error listing them, so forgetting --env never plans a parallel, empty environment.
Keys never live in files: `api_key:` anywhere in ocigen.yaml is an error (use `api_key_env`).
Endpoints default to `settings.default_endpoints(region, realm_domain, auth)`. The state path is
made absolute relative to the project root. Parsing never touches the network.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, ValidationError

from ocigen_iac.errors import Diagnostic, ValidationFailed
from ocigen_iac.manifest.diagnose import explain_pattern
from ocigen_iac.settings import AuthSettings, Settings, StateSettings, default_endpoints

CONFIG_FILE = "ocigen.yaml"
AUTH_TYPES = ("api_key", "user_principal", "session", "instance_principal", "resource_principal")
ENV_VARS = {
    "OCIGEN_REGION": "region",
    "OCIGEN_PROJECT": "project",
    "OCIGEN_COMPARTMENT": "compartment",
    "OCIGEN_AUTH_TYPE": "auth_type",
    "OCIGEN_PROFILE": "profile",
    "OCIGEN_INFERENCE_ENDPOINT": "inference_endpoint",
    "OCIGEN_VECTOR_STORE_ENDPOINT": "vector_store_endpoint",
}
OVERRIDE_KEYS = frozenset(
    {
        "region",
        "realm_domain",
        "project",
        "compartment",
        "auth_type",
        "profile",
        "api_key_env",
        "inference_endpoint",
        "vector_store_endpoint",
        "state_path",
        "vars",
    }
)
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|d|h|m|s)")
_DURATION_UNITS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def parse_duration(value: str | int | float, *, allow_zero: bool = False) -> float:
    """The one duration grammar (flags and ocigen.yaml alike): '1h30m', '90s', '500ms', '2d',
    or a number of seconds -> seconds. Units appear once each, largest first."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 1h, 30m, 90s or 500ms")
    if isinstance(value, int | float):
        total = float(value)
    else:
        text = value.strip().lower()
        if re.fullmatch(r"\d+(?:\.\d+)?", text):
            total = float(text)
        else:
            pos, total, order = 0, 0.0, ["d", "h", "m", "s", "ms"]
            last = -1
            for m in _DURATION_PART.finditer(text):
                if m.start() != pos or text[pos:m.start()].strip():
                    break
                rank = order.index(m.group(2))
                if rank <= last:
                    raise ValueError(f"{value!r} is not a duration: write e.g. 1h30m, 90s or 500ms")
                last = rank
                total += float(m.group(1)) * _DURATION_UNITS[m.group(2)]
                pos = m.end()
                while pos < len(text) and text[pos] == " ":
                    pos += 1
            if not text or pos != len(text):
                raise ValueError(f"{value!r} is not a duration: write e.g. 1h30m, 90s or 500ms")
    if total < 0 or (total == 0 and not allow_zero):
        raise ValueError("a duration must be positive")
    return total


def _stringify(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


VarValue = Annotated[str, BeforeValidator(_stringify)]
ENV_NAME_RE = explain_pattern(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$", "is not a valid environment name",
                              "use letters, digits, '_', '-' and '.', starting with a letter, digit or '_'")
URL_RE = explain_pattern(r"^https?://\S+$", "is not an http(s) URL",
                         "write an http(s) URL such as https://host/path (no spaces)")
Url = Annotated[str, Field(pattern=URL_RE, description="an http(s) base URL")]
ENV_VAR_NAME_RE = explain_pattern(r"^[A-Za-z_][A-Za-z0-9_]*$", "is not an environment variable name",
                                  "name the variable that holds the key, e.g. OCI_GENAI_API_KEY")
OWNER_RE = explain_pattern(r"^[A-Za-z0-9_][A-Za-z0-9_.@/-]{0,127}$", "cannot be an owner",
                           "use up to 128 letters, digits and _ . @ / - (e.g. team/repo), starting with a "
                           "letter, digit or '_'")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AuthConfig(_Model):
    type: Literal["api_key", "user_principal", "session", "instance_principal", "resource_principal"] | None = None
    api_key_env: Annotated[str, Field(pattern=ENV_VAR_NAME_RE)] | None = Field(
        None, description="the environment variable that holds the API key"
    )
    profile: str | None = Field(None, description="~/.oci/config profile (user_principal / session)")
    config_file: str | None = None


class EndpointsConfig(_Model):
    inference: Url | None = Field(None, description="data plane, e.g. https://inference.generativeai.R.oci.D/openai/v1")
    vector_stores: Url | None = Field(None, description="vector-store management base URL")
    control_plane: Url | None = Field(
        None, description="native control plane (Project, VectorStoreConnector), default "
        "https://generativeai.REGION.oci.REALM")
    object_storage: Url | None = Field(
        None, description="Object Storage (ObjectStorageObjects), default the region's endpoint")


class StateConfig(_Model):
    backend: Literal["local", "oci"] | None = None
    path: str | None = Field(None, description="local backend directory, relative to the project root")
    namespace: str | None = None
    bucket: str | None = None
    prefix: str | None = None
    endpoint: Url | None = None
    stale_lock_after: str | float | None = Field(None, description="e.g. 1h, 30m, 90s")


class _Overridable(_Model):
    region: str | None = None
    realm_domain: str | None = None
    project: str | None = None
    compartment: str | None = None
    auth: AuthConfig | None = None
    endpoints: EndpointsConfig | None = None
    state: StateConfig | None = None
    vars: dict[str, VarValue] = Field(default_factory=dict, description="values for ${var.NAME}")


class EnvironmentConfig(_Overridable):
    pass


class ProjectConfig(_Overridable):
    allow_paths_outside_root: bool = False
    owner: Annotated[str, StringConstraints(pattern=OWNER_RE)] | None = Field(
        None, description="this project's identity in ownership tags; two projects must never share it "
        "(default: the state's lineage)")
    owner_tag_key: str | None = None
    environments: dict[Annotated[str, Field(pattern=ENV_NAME_RE)], EnvironmentConfig] = Field(
        default_factory=dict
    )
    default_environment: Annotated[str, Field(pattern=ENV_NAME_RE)] | None = Field(
        None, description="the environment a run without --env / OCIGEN_ENV uses")


def _find_api_keys(tree: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any]]:
    """Every `api_key:` (or `apiKey:`) mapping key in the file, with its position."""
    from ocigen_iac.manifest.yaml_positions import PosDict, PosList

    found: list[tuple[tuple[Any, ...], Any]] = []
    if isinstance(tree, PosDict):
        for k, v in tree.items():
            if k in ("api_key", "apiKey", "api-key"):
                found.append(((*path, k), tree.key_pos.get(k, tree.start)))
            else:
                found.extend(_find_api_keys(v, (*path, k)))
    elif isinstance(tree, PosList):
        for i, v in enumerate(tree):
            found.extend(_find_api_keys(v, (*path, i)))
    return found


def _merge(base: BaseModel | None, over: BaseModel | None) -> dict[str, Any]:
    out = base.model_dump(exclude_none=True) if base else {}
    if over:
        out.update(over.model_dump(exclude_none=True))
    return out


def _read_config(root: Path) -> tuple[ProjectConfig, str, Any]:
    """(config, display name, position tree); raises ValidationFailed."""
    from ocigen_iac.manifest.diagnose import diagnostics_from
    from ocigen_iac.manifest.yaml_positions import PosDict, decode_utf8, load_documents

    path = root / CONFIG_FILE
    shown = CONFIG_FILE
    if not path.exists():
        if (root / "ocigen.yml").exists():
            path, shown = root / "ocigen.yml", "ocigen.yml"
        else:
            return ProjectConfig(), shown, None
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ValidationFailed([Diagnostic(shown, 0, 0, f"cannot read {shown}: {exc.strerror or exc}")]) from None
    text, problems = decode_utf8(raw, shown)
    if text is None:
        raise ValidationFailed(problems)
    docs, problems = load_documents(text, shown)
    docs = [d for d in docs if d.data is not None]
    if problems:
        raise ValidationFailed(problems)
    if not docs:
        return ProjectConfig(), shown, None
    if len(docs) > 1:
        raise ValidationFailed(
            [
                Diagnostic(
                    shown,
                    docs[1].start[0],
                    docs[1].start[1],
                    f"{shown} must hold a single YAML document",
                    "remove the extra '---' documents",
                )
            ]
        )
    tree = docs[0].data
    if not isinstance(tree, PosDict):
        raise ValidationFailed(
            [
                Diagnostic(
                    shown,
                    docs[0].start[0],
                    docs[0].start[1],
                    f"{shown} must be a mapping (region:, auth:, environments: ...)",
                    "write keys such as region:, auth:, state:, vars: and environments: at the top level "
                    "(see the README's Configuration section)",
                )
            ]
        )
    secrets = _find_api_keys(tree)
    problems = [
        Diagnostic(
            shown,
            pos[0],
            pos[1],
            f"'{'.'.join(map(str, loc))}' holds a secret, and keys never live in files",
            "remove it and name the environment variable that holds the key instead: "
            "auth: {type: api_key, api_key_env: OCI_GENAI_API_KEY}",
        )
        for loc, pos in secrets
    ]
    try:
        config = ProjectConfig.model_validate(_strip(tree, {loc for loc, _ in secrets}))
    except ValidationError as exc:
        problems.extend(diagnostics_from(exc, ProjectConfig, tree, shown, tree.start, top=shown))
        config = None
    if problems:
        problems.sort(key=lambda d: (d.line, d.column))
        raise ValidationFailed(problems)
    assert config is not None
    return config, shown, tree


def _strip(tree: Any, drop: set[tuple[Any, ...]], path: tuple[Any, ...] = ()) -> Any:
    if isinstance(tree, dict):
        return {k: _strip(v, drop, (*path, k)) for k, v in tree.items() if (*path, k) not in drop}
    if isinstance(tree, list):
        return [_strip(v, drop, (*path, i)) for i, v in enumerate(tree)]
    return tree


def load_settings(
    root: Path,
    env: str | None = None,
    *,
    overrides: Mapping[str, Any] | None = None,
    local: bool = False,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Resolve the Settings for project `root` (see the module docstring for precedence).

    `environ` replaces os.environ (tests). Raises ValidationFailed for a bad ocigen.yaml, an
    unknown environment or a bad override value.
    """
    environ = os.environ if environ is None else environ
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    unknown = set(overrides) - OVERRIDE_KEYS
    if unknown:
        raise TypeError(f"unknown settings override(s): {', '.join(sorted(unknown))}")
    root = Path(root).expanduser().resolve()
    config, shown, tree = _read_config(root)

    env_name = _select_environment(config, env, environ, shown, tree)
    selected: EnvironmentConfig | None = config.environments.get(env_name)

    def pick(name: str) -> Any:
        value = getattr(selected, name, None) if selected is not None else None
        return value if value is not None else getattr(config, name)

    region = pick("region") or "us-chicago-1"
    realm = pick("realm_domain") or "oraclecloud.com"
    project = pick("project")
    compartment = pick("compartment")
    auth = _merge(config.auth, selected.auth if selected else None)
    endpoints = _merge(config.endpoints, selected.endpoints if selected else None)
    state = _merge(config.state, selected.state if selected else None)
    variables = dict(config.vars)
    if selected is not None:
        variables.update(selected.vars)

    # environment variables, then flags
    layered: dict[str, Any] = {}
    for var, key in ENV_VARS.items():
        if environ.get(var):
            layered[key] = (environ[var], var)
    for key, value in overrides.items():
        if key == "vars":  # --var / --var-file: the last word on ${var.NAME}
            variables.update({str(k): str(_stringify(v)) for k, v in dict(value).items()})
            continue
        layered[key] = (value, f"--{key.replace('_', '-')}")

    problems: list[Diagnostic] = []
    for key, (value, source) in layered.items():
        if key == "region":
            region = str(value)
        elif key == "realm_domain":
            realm = str(value)
        elif key == "project":
            project = str(value)
        elif key == "compartment":
            compartment = str(value)
        elif key == "auth_type":
            if value not in AUTH_TYPES:
                from ocigen_iac.manifest.interpolate import did_you_mean

                hint = did_you_mean(str(value), AUTH_TYPES)
                problems.append(
                    Diagnostic(
                        source,
                        0,
                        0,
                        f"unknown auth type {value!r}",
                        (hint + " " if hint else "") + f"use one of {', '.join(AUTH_TYPES)}",
                    )
                )
            else:
                auth["type"] = value
        elif key == "profile":
            auth["profile"] = str(value)
        elif key == "api_key_env":
            auth["api_key_env"] = str(value)
        elif key in ("inference_endpoint", "vector_store_endpoint"):
            if not re.match(r"^https?://\S+$", str(value)):
                problems.append(
                    Diagnostic(
                        source,
                        0,
                        0,
                        f"{value!r} is not an http(s) URL",
                        "pass a base URL such as https://host/openai/v1",
                    )
                )
            endpoints["inference" if key == "inference_endpoint" else "vector_stores"] = str(value).rstrip("/")
        elif key == "state_path":
            state["path"] = str(value)

    stale = 3600.0
    if state.get("stale_lock_after") is not None:
        try:
            stale = parse_duration(state["stale_lock_after"])
        except ValueError as exc:
            line, col = _pos(tree, env_name, ("state", "stale_lock_after"))
            problems.append(
                Diagnostic(
                    shown,
                    line,
                    col,
                    f"state.stale_lock_after: {exc}",
                    "write a duration such as 1h, 30m or 90s",
                )
            )
    backend = state.get("backend", "local")
    if backend == "oci" and not (state.get("namespace") and state.get("bucket")):
        line, col = _pos(tree, env_name, ("state", "backend"))
        problems.append(
            Diagnostic(
                shown,
                line,
                col,
                "state.backend 'oci' needs state.namespace and state.bucket",
                "add the Object Storage namespace and bucket that hold the state",
            )
        )
    plain = [(("endpoints", k), v) for k, v in endpoints.items()]
    if state.get("endpoint"):
        plain.append((("state", "endpoint"), state["endpoint"]))
    for loc, url in plain:
        if _plain_http_to_remote(str(url)):
            line, col = _pos(tree, env_name, loc)
            problems.append(
                Diagnostic(
                    shown,
                    line,
                    col,
                    f"{'.'.join(loc)}: {url} is plain http to a remote host; credentials and content "
                    "would cross the network unencrypted",
                    "use https:// (plain http is accepted only for loopback addresses such as the emulator)",
                )
            )
    if problems:
        raise ValidationFailed(problems)

    auth_settings = AuthSettings(**auth)
    default_inference, default_vs = default_endpoints(region, realm, auth_settings)
    state_path = Path(state.get("path", ".ocigen/state")).expanduser()
    if not state_path.is_absolute():
        state_path = root / state_path
    state_kwargs: dict[str, Any] = {
        "backend": backend,
        "path": Path(os.path.normpath(state_path)),
        "stale_lock_after_s": stale,
    }
    for k in ("namespace", "bucket", "prefix", "endpoint"):
        if state.get(k) is not None:
            state_kwargs[k] = state[k]
    extra: dict[str, Any] = {}
    if config.owner_tag_key:
        extra["owner_tag_key"] = config.owner_tag_key
    if config.owner:
        extra["owner"] = config.owner
    return Settings(
        root=root,
        env=env_name,
        vars=variables,
        region=region,
        realm_domain=realm,
        project=project,
        compartment=compartment,
        auth=auth_settings,
        inference_base=endpoints.get("inference", default_inference).rstrip("/"),
        vector_store_base=endpoints.get("vector_stores", default_vs).rstrip("/"),
        control_plane_base=str(endpoints.get("control_plane", "")).rstrip("/"),
        object_storage_base=str(endpoints.get("object_storage", "")).rstrip("/"),
        state=StateSettings(**state_kwargs),
        allow_paths_outside_root=config.allow_paths_outside_root,
        local=local,
        **extra,
    )


def _select_environment(config: ProjectConfig, env: str | None, environ: Mapping[str, str], shown: str,
                        tree: Any) -> str:
    """The environment's name: `env` (--env), else $OCIGEN_ENV, else `default_environment:`, else
    "default" — which only a file without `environments:` gets implicitly: with environments
    defined, forgetting --env must not quietly plan a parallel, empty environment."""
    from ocigen_iac.manifest.interpolate import did_you_mean

    known = sorted(config.environments)
    if env:
        name, source = env, "--env"
    elif environ.get("OCIGEN_ENV"):
        name, source = environ["OCIGEN_ENV"], "OCIGEN_ENV"
    elif config.default_environment:
        name, source = config.default_environment, "default_environment"
    elif known:
        line, col = tree.key_pos["environments"] if tree is not None and "environments" in tree else (0, 0)
        raise ValidationFailed([Diagnostic(
            shown, line, col,
            f"no environment selected, and {shown} defines {len(known)}: {', '.join(known)}",
            f"pass --env {known[0]} (or set OCIGEN_ENV), or add `default_environment: {known[0]}` to {shown}")])
    else:
        return "default"
    if name in config.environments or (name == "default" and source != "default_environment"):
        return name  # "default" (the top-level values) may always be asked for by name
    hint = did_you_mean(name, known)
    hint = (hint + " " if hint else "") + (f"known environments: {', '.join(known)}" if known
                                           else f"define it under `environments:` in {shown}")
    line, col = (0, 0)
    key = "default_environment" if source == "default_environment" else "environments"
    if tree is not None and key in tree:
        line, col = tree.value_pos[key] if key == "default_environment" else tree.key_pos[key]
    where = f"{shown}'s default_environment" if source == "default_environment" else source
    raise ValidationFailed([Diagnostic(shown if tree is not None else source, line, col,
                                       f"unknown environment {name!r} (selected by {where})", hint)])


def command_line_vars(assignments: list[str], files: list[Path]) -> dict[str, str]:
    """--var-file FILE (YAML or JSON: a mapping of names to strings, numbers or booleans), in
    order, then --var NAME=VALUE, in order: later wins. Raises ValidationFailed with every problem."""
    from ocigen_iac.manifest.interpolate import NAME_RE as VAR_NAME_RE  # what ${var.NAME} accepts
    from ocigen_iac.manifest.yaml_positions import PosDict, decode_utf8, load_documents

    out: dict[str, str] = {}
    problems: list[Diagnostic] = []
    for path in files:
        shown = str(path)
        try:
            text, errs = decode_utf8(path.read_bytes(), shown)
        except OSError as exc:
            problems.append(Diagnostic(shown, 0, 0, f"cannot read the --var-file: {exc.strerror or exc}",
                                       "pass a YAML or JSON file of variables, e.g. {team: search}"))
            continue
        docs, more = load_documents(text, shown) if text is not None else ([], [])
        problems += errs + more
        docs = [d for d in docs if d.data is not None]
        if text is None or errs or more:
            continue
        if len(docs) != 1 or not isinstance(docs[0].data, PosDict):
            line, col = docs[0].start if docs else (0, 0)
            problems.append(Diagnostic(shown, line, col, "a --var-file holds one mapping of variable names to values",
                                       "write e.g. `team: search` lines (YAML) or {\"team\": \"search\"} (JSON)"))
            continue
        tree = docs[0].data
        for name, value in tree.items():
            line, col = tree.key_pos.get(name, tree.start)
            if not isinstance(name, str) or not VAR_NAME_RE.match(name):
                problems.append(Diagnostic(shown, line, col, f"{name!r} is not a variable name",
                                           "use letters, digits, '_' and '-', starting with a letter or '_'"))
            elif value is None or isinstance(value, dict | list):
                problems.append(Diagnostic(shown, *tree.value_pos.get(name, (line, col)),
                                           f"variable {name!r} must be a string, number or boolean",
                                           "variables are substituted into strings: give it one value"))
            else:
                out[name] = str(_stringify(value))
    for text in assignments:
        name, sep, value = text.partition("=")
        if not sep or not VAR_NAME_RE.match(name.strip()):
            problems.append(Diagnostic("--var", 0, 0, f"{text!r} is not NAME=VALUE",
                                       "write --var team=search (quote the whole argument if VALUE has spaces)"))
            continue
        out[name.strip()] = value
    if problems:
        raise ValidationFailed(problems)
    return out


def _plain_http_to_remote(url: str) -> bool:
    """True for http:// URLs whose host is not loopback (127.0.0.0/8, ::1, localhost)."""
    import ipaddress
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme != "http":
        return False
    host = (parts.hostname or "").lower()
    if host == "localhost":
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True


def _pos(tree: Any, env_name: str, loc: tuple[str, ...]) -> tuple[int, int]:
    """Position of `loc` in the selected environment's block, else at the top level."""
    if tree is None:
        return (0, 0)
    from ocigen_iac.manifest.diagnose import locate

    pos, _, _, found = locate(tree, ("environments", env_name, *loc), tree.start)
    if found:
        return pos
    return locate(tree, loc, tree.start)[0]
