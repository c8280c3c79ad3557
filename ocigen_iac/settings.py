"""Resolved run settings: plain data every layer reads, produced by `config.load_settings`.

`ocigen.yaml` (config.py) + the selected environment + environment variables + CLI flags are
folded into one `Settings`. Nothing here holds a secret: the API key stays in the environment
variable named by `auth.api_key_env` and is read by the API client at the last moment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

AuthType = Literal["api_key", "user_principal", "session", "instance_principal", "resource_principal"]
IAM_AUTH_TYPES: frozenset[str] = frozenset(
    {"user_principal", "session", "instance_principal", "resource_principal"}
)


@dataclass(frozen=True)
class AuthSettings:
    type: AuthType = "api_key"
    api_key_env: str = "OCI_GENAI_API_KEY"
    profile: str = "DEFAULT"
    config_file: str = "~/.oci/config"

    @property
    def is_iam(self) -> bool:
        return self.type in IAM_AUTH_TYPES


@dataclass(frozen=True)
class StateSettings:
    backend: Literal["local", "oci"] = "local"
    path: Path = Path(".ocigen/state")  # local backend directory (absolute after resolution)
    namespace: str | None = None  # oci backend
    bucket: str | None = None
    prefix: str = "ocigen-iac"
    endpoint: str | None = None  # Object Storage endpoint override (tests point it at 127.0.0.1)
    stale_lock_after_s: float = 3600.0  # a lock older than this is *reported* stale, never broken


# The run's scope key for the OpenAI-Project header: settings.project, or a managed Project's OCID
PROJECT_SCOPE = "project"


@dataclass(frozen=True)
class Settings:
    root: Path  # project root: ocigen.yaml lives here; paths are confined below it
    env: str  # selected environment name ("default" when none is configured/selected)
    vars: dict[str, str] = field(default_factory=dict)  # ${var.NAME}
    region: str = "us-chicago-1"
    realm_domain: str = "oraclecloud.com"
    project: str | None = None  # OpenAI-Project header
    compartment: str | None = None  # opc-compartment-id header on vector-store management calls
    auth: AuthSettings = field(default_factory=AuthSettings)
    inference_base: str = ""  # data plane, e.g. https://inference.generativeai.R.oci.D/openai/v1
    vector_store_base: str = ""  # vector-store management (create/list/get/update/delete)
    control_plane_base: str = ""  # native control plane (projects, connectors); "" = derived from region
    object_storage_base: str = ""  # Object Storage (ObjectStorageObjects); "" = the SDK's regional endpoint
    state: StateSettings = field(default_factory=StateSettings)
    allow_paths_outside_root: bool = False
    owner_tag_key: str = "ocigen-iac-owner"  # vector-store metadata key naming project, env and address
    owner: str | None = None  # the project's identity in ownership tags (None: the state's lineage)
    send_legacy_compartment_header: bool = True  # also send `CompartmentId` (harmless legacy)
    local: bool = False  # --local: the embedded emulator, no credentials

    def target_identity(self) -> dict[str, object]:
        """What a saved plan must find unchanged: the target and the values it was planned with."""
        return {"env": self.env, PROJECT_SCOPE: self.project, "compartment": self.compartment,
                "inference": self.inference_base if not self.local else "local",
                "management": self.vector_store_base if not self.local else "local",
                "vars": self.vars, "owner": self.owner}


def default_endpoints(region: str, realm_domain: str, auth: AuthSettings) -> tuple[str, str]:
    """(inference_base, vector_store_base) derived as the reference describes.

    Data plane: https://inference.generativeai.{region}.oci.{realm}/openai/v1.
    Vector-store management: IAM -> the control-plane host
    https://generativeai.{region}.oci.{realm}/20231130/openai/v1; API key -> the inference host
    with /20231130/openai/v1 (Oracle's API-key tutorial). Both are overridable in ocigen.yaml.
    """
    inference_host = f"https://inference.generativeai.{region}.oci.{realm_domain}"
    inference = f"{inference_host}/openai/v1"
    if auth.is_iam:
        management = f"https://generativeai.{region}.oci.{realm_domain}/20231130/openai/v1"
    else:
        management = f"{inference_host}/20231130/openai/v1"
    return inference, management


def control_plane_endpoint(settings: Settings) -> str:
    """The native OCI Generative AI control plane (projects, vector store connectors): the
    `endpoints.control_plane` override, else https://generativeai.{region}.oci.{realm}. Under
    --local, the embedded emulator serves it on the same host as the data plane."""
    if settings.local and settings.inference_base:
        from urllib.parse import urlsplit

        parts = urlsplit(settings.inference_base)
        return f"{parts.scheme}://{parts.netloc}"
    if settings.control_plane_base:
        return settings.control_plane_base
    return f"https://generativeai.{settings.region}.oci.{settings.realm_domain}"


def object_storage_endpoint(settings: Settings) -> str | None:
    """Object Storage for ObjectStorageObjects: the `endpoints.object_storage` override, the
    emulator under --local, else None (the SDK derives the regional endpoint)."""
    if settings.local and settings.inference_base:
        return control_plane_endpoint(settings)
    return settings.object_storage_base or None
