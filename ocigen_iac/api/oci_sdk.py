"""The `oci` SDK, for the calls the OpenAI-compatible client does not make: the native Generative
AI control plane (projects, vector store connectors, file syncs) and Object Storage objects.

Auth is the one the Object Storage state backend uses (`state/oci_backend.py`), factored here so
both can share it: IAM settings sign with their own signer (`_auth.IamAuth`); `auth.type: api_key`
(a Generative AI key, which these IAM-signed services do not accept) signs with the user-principal
profile `auth.profile` of `auth.config_file`. Under `--local` the embedded emulator takes its API
key as `Authorization: Bearer` (the SDK accepts any requests auth as a signer).

`oci` is imported only when a client is first built, so `--version` and `validate` never pay for
it. SDK calls block: `SdkClients.call` runs them in a worker thread, with one SDK client per
thread (sharing the signer), and turns SDK errors into this package's `ApiError` family.
"""

from __future__ import annotations

import asyncio
import configparser
import os
import threading
from collections.abc import Callable
from typing import Any

from ocigen_iac.settings import AuthSettings, Settings, control_plane_endpoint, object_storage_endpoint

from ._exceptions import ApiError, AuthFailed, NotFound, OutcomeUnknown, TransportFailed

__all__ = ["SdkClients", "profile_problem", "sdk_auth", "sdk_config_and_signer", "to_data"]

# Placeholders the SDK's config validation accepts when the signer is not one of its own (--local).
_PLACEHOLDER_CONFIG = {
    "tenancy": "ocid1.tenancy.oc1..local",
    "user": "ocid1.user.oc1..local",
    "fingerprint": "00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00",
    "key_file": "unused.pem",
}
PROFILE_KEYS = ("user", "tenancy", "fingerprint", "key_file")


def sdk_auth(auth: AuthSettings) -> AuthSettings:
    """The IAM settings SDK calls sign with: API keys are for the OpenAI-compatible API only."""
    if auth.is_iam:
        return auth
    return AuthSettings(type="user_principal", profile=auth.profile, config_file=auth.config_file)


def profile_problem(settings: Settings) -> str | None:
    """Why the configured credentials cannot sign SDK calls, checked offline (no `oci` import),
    or None. Principals (instance, resource) cannot be checked without the network."""
    auth = sdk_auth(settings.auth)
    if auth.type not in ("user_principal", "session"):
        return None
    path = os.path.expanduser(auth.config_file)
    via = "" if settings.auth.is_iam else " (auth.type api_key signs these IAM calls with a config profile)"
    if not os.path.isfile(path):
        return f"the OCI config file {auth.config_file} does not exist{via}"
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError) as exc:
        return f"the OCI config file {auth.config_file} cannot be read: {exc}"
    if auth.profile != "DEFAULT" and not parser.has_section(auth.profile):
        return f"profile [{auth.profile}] is not in {auth.config_file}{via}"
    section = parser[auth.profile] if auth.profile != "DEFAULT" else parser.defaults()
    needed = PROFILE_KEYS if auth.type == "user_principal" else ("key_file", "security_token_file")
    missing = [k for k in needed if not section.get(k) and not (k == "key_file" and section.get("key_content"))]
    if missing:
        return f"profile [{auth.profile}] of {auth.config_file} has no {', '.join(missing)}{via}"
    for key in ("key_file", "security_token_file"):
        value = section.get(key)
        if value and key in needed and not os.path.isfile(os.path.expanduser(value)):
            return f"{key} {value} of profile [{auth.profile}] does not exist"
    return None


def _bearer_signer(key: str) -> Any:
    from oci._vendor.requests.auth import AuthBase

    class BearerSigner(AuthBase):  # type: ignore[misc]
        """The emulator's API key, in place of a request signature."""

        def __call__(self, r: Any) -> Any:
            r.headers["Authorization"] = f"Bearer {key}"
            return r

        @property
        def without_content_headers(self) -> Any:  # the SDK asks for this variant on some calls
            return self

        def __repr__(self) -> str:
            return "BearerSigner('***')"

    return BearerSigner()


def sdk_config_and_signer(settings: Settings, local_api_key: str | None = None) -> tuple[dict[str, Any], Any]:
    """(SDK config, signer) for `settings`. Raises AuthFailed naming the profile / principal."""
    import oci

    from ._auth import IamAuth

    if local_api_key is not None:
        return {**_PLACEHOLDER_CONFIG, "region": settings.region}, _bearer_signer(local_api_key)
    auth = sdk_auth(settings.auth)
    signer = IamAuth(auth)._build_signer()
    config: dict[str, Any] = {}
    if auth.type in ("user_principal", "session"):  # the SDK validates these fields for a key signer
        config = dict(oci.config.from_file(os.path.expanduser(auth.config_file), auth.profile))
    config["region"] = settings.region
    return config, signer


def to_data(obj: Any) -> Any:
    """An SDK model (or list of them) as plain JSON-like data, snake_case keys, times as text."""
    import oci

    return oci.util.to_dict(obj)


class SdkClients:
    """The Generative AI control-plane and Object Storage clients of one run."""

    def __init__(self, settings: Settings, local_api_key: str | None = None) -> None:
        self.settings = settings
        self._local_key = local_api_key
        self._config: dict[str, Any] | None = None
        self._signer: Any = None
        self._build_lock = threading.Lock()
        self._local = threading.local()

    def _auth(self) -> tuple[dict[str, Any], Any]:
        with self._build_lock:
            if self._config is None:
                self._config, self._signer = sdk_config_and_signer(self.settings, self._local_key)
            return self._config, self._signer

    def _retry(self) -> Any:
        import oci

        return oci.retry.RetryStrategyBuilder(
            max_attempts=5,
            total_elapsed_time_seconds=120,
            service_error_retry_config={429: [], 409: ["IncorrectState", "Conflict"]},
            service_error_retry_on_any_5xx=True,
        ).get_retry_strategy()

    def genai(self) -> Any:
        """This thread's GenerativeAiClient (the native control plane)."""
        client = getattr(self._local, "genai", None)
        if client is None:
            import oci

            config, signer = self._auth()
            client = oci.generative_ai.GenerativeAiClient(
                config, signer=signer, service_endpoint=control_plane_endpoint(self.settings),
                retry_strategy=self._retry(), timeout=(10, 60))
            self._local.genai = client
        return client

    def object_storage(self) -> Any:
        """This thread's ObjectStorageClient."""
        client = getattr(self._local, "os", None)
        if client is None:
            import oci

            config, signer = self._auth()
            kwargs: dict[str, Any] = {"signer": signer, "retry_strategy": self._retry(), "timeout": (10, 300)}
            endpoint = object_storage_endpoint(self.settings)
            if endpoint:
                kwargs["service_endpoint"] = endpoint
            client = oci.object_storage.ObjectStorageClient(config, **kwargs)
            self._local.os = client
        return client

    async def call(self, service: str, method: str, *args: Any, create: bool = False, **kwargs: Any) -> Any:
        """`client.method(*args, **kwargs)` of `service` ("genai" or "object_storage") in a worker
        thread. `create`: a non-idempotent call whose lost response is OutcomeUnknown."""
        def run() -> Any:
            client = self.genai() if service == "genai" else self.object_storage()
            return getattr(client, method)(*args, **kwargs)

        return await asyncio.to_thread(self._mapped, method, run, create)

    async def call_blocking(self, what: str, run: Callable[[], Any], *, create: bool = False) -> Any:
        """`run()` (which uses this thread's clients) in a worker thread, errors mapped."""
        return await asyncio.to_thread(self._mapped, what, run, create)

    def _mapped(self, what: str, run: Callable[[], Any], create: bool) -> Any:
        import oci

        try:
            return run()
        except AuthFailed:
            raise
        except oci.exceptions.ServiceError as exc:
            method, url = exc.operation_name or what, exc.request_endpoint
            if exc.status == 404:
                raise NotFound(404, exc.code, exc.message, exc.request_id, method, url) from None
            if exc.status in (401, 403):
                raise AuthFailed(exc.status, exc.code, exc.message, exc.request_id, method, url,
                                 hint="check auth in ocigen.yaml and the IAM policies of the user or principal "
                                      "it names") from None
            if create and exc.status >= 500:
                raise OutcomeUnknown(what, f"HTTP {exc.status} {exc.code}", status=exc.status,
                                     request_id=exc.request_id) from None
            err = ApiError(exc.status, exc.code, exc.message, exc.request_id, method, url)
            err.sdk_status = exc.status  # type: ignore[attr-defined]
            raise err from None
        except (oci.exceptions.RequestException, oci.exceptions.ConnectTimeout, OSError) as exc:
            detail = f"{type(exc).__name__}: {exc}"
            if create:
                raise OutcomeUnknown(what, detail) from None
            raise TransportFailed(None, "network_error", detail, method=what) from None
        except oci.exceptions.ClientError as exc:
            raise ApiError(None, type(exc).__name__, str(exc), method=what) from None
