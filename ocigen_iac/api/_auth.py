"""Authentication for the API client: API keys (Bearer) and OCI IAM request signing.

This module owns turning `Settings.auth` into something that decorates an outgoing
`httpx.Request`:

* `ApiKeyAuth`  -- `Authorization: Bearer <key>`; the key is read from the environment variable
  named by `auth.api_key_env` (never from a file), held in a `_Secret` whose repr is redacted,
  and registered for scrubbing so it never reaches a log line or an exception message.
* `IamAuth`     -- OCI HTTP Signature v1 with the `oci` SDK signers (user principal from a
  config profile, session token, instance principal, resource principal). `oci` is imported
  only here, only when IAM auth is configured, and only when the first request is signed.

Why not `oci_genai_auth.HttpxOciAuth`: it reads `request.content`, i.e. it buffers a whole
multipart upload in memory to hash it. Instead the transport hands us the body's SHA-256 and
length (for uploads computed by streaming the multipart generator once), we put
`x-content-sha256` and `content-length` on a body-less stand-in request, and the signer's
`inject_missing_headers` leaves precomputed values alone (it only hashes when
`x-content-sha256` is absent). The upload is then streamed from disk a second time.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterable
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from ocigen_iac.settings import AuthSettings, Settings

from ._exceptions import AuthFailed

__all__ = ["ApiKeyAuth", "AuthProvider", "IamAuth", "NoAuth", "build_auth"]


class _Secret:
    """A string that does not print itself."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "_Secret('***')"

    __str__ = __repr__


class AuthProvider(Protocol):
    kind: str

    def describe(self) -> str:
        """What is in use, for error messages ("api_key from $OCI_GENAI_API_KEY")."""
        ...

    def secrets(self) -> Iterable[str]:
        """Strings that must be scrubbed from logs and errors."""
        ...

    async def prepare(self) -> None:
        """Load credentials lazily (IAM: build the signer off the event loop)."""
        ...

    async def apply(self, request: httpx.Request, body_sha256: str | None, content_length: int | None) -> None:
        """Decorate `request` in place (called for every attempt)."""
        ...

    async def refresh(self) -> bool:
        """After a 401: reload credentials; True if it is worth retrying once."""
        ...


class NoAuth:
    """No credentials (the embedded emulator with `--local` and no key configured)."""

    kind = "none"

    def describe(self) -> str:
        return "no credentials (--local)"

    def secrets(self) -> Iterable[str]:
        return ()

    async def prepare(self) -> None:
        return None

    async def apply(self, request: httpx.Request, body_sha256: str | None, content_length: int | None) -> None:
        return None

    async def refresh(self) -> bool:
        return False


class ApiKeyAuth:
    kind = "api_key"

    def __init__(self, key: str, source: str) -> None:
        self._key = _Secret(key)
        self._source = source

    def describe(self) -> str:
        return f"api_key from {self._source}"

    def secrets(self) -> Iterable[str]:
        return (self._key.get(),)

    async def prepare(self) -> None:
        return None

    async def apply(self, request: httpx.Request, body_sha256: str | None, content_length: int | None) -> None:
        request.headers["Authorization"] = f"Bearer {self._key.get()}"

    async def refresh(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"ApiKeyAuth(source={self._source!r}, key='***')"


class _SignTarget:
    """The minimal `requests.PreparedRequest` surface the oci signers use, without a body."""

    def __init__(self, method: str, url: str, path_url: str, headers: Any) -> None:
        self.method = method
        self.url = url
        self.path_url = path_url
        self.headers = headers
        self.body = None


class IamAuth:
    """OCI request signing with an `oci` signer built lazily from the settings."""

    def __init__(self, auth: AuthSettings) -> None:
        self.kind = auth.type
        self._auth = auth
        self._signer: Any = None
        self._lock = asyncio.Lock()
        self._thread_lock = threading.Lock()
        self._secret_strings: list[str] = []

    def describe(self) -> str:
        if self.kind in ("user_principal", "session"):
            return f"{self.kind} profile {self._auth.profile} ({self._auth.config_file})"
        return self.kind

    def secrets(self) -> Iterable[str]:
        return tuple(self._secret_strings)

    async def prepare(self) -> None:
        if self._signer is not None:
            return
        async with self._lock:
            if self._signer is None:
                self._signer = await asyncio.to_thread(self._build_signer)

    async def refresh(self) -> bool:
        # Session tokens are refreshed by rewriting the token file (`oci session refresh`);
        # config edits and rotated keys are picked up the same way. Principals refresh themselves,
        # but rebuilding is cheap and harmless.
        async with self._lock:
            try:
                self._signer = await asyncio.to_thread(self._build_signer)
            except AuthFailed:
                return False
        return True

    # -- signer construction (runs in a worker thread; may touch disk or IMDS) --

    def _fail(self, why: str, hint: str | None = None) -> AuthFailed:
        return AuthFailed(None, "auth_config", f"cannot load credentials for {self.describe()}: {why}",
                          hint=hint)

    def _build_signer(self) -> Any:
        try:
            import oci
            import oci.auth.signers
            import oci.config
            import oci.signer
        except ImportError as exc:  # pragma: no cover - dependency is declared
            raise self._fail(f"the 'oci' package is not installed ({exc})") from None
        kind = self.kind
        try:
            if kind in ("user_principal", "session"):
                cfg_path = os.path.expanduser(self._auth.config_file)
                config = oci.config.from_file(cfg_path, self._auth.profile)
                pass_phrase = oci.config.get_config_value_or_default(config, "pass_phrase")
                if kind == "user_principal":
                    oci.config.validate_config(config)
                    return oci.signer.Signer(
                        tenancy=config["tenancy"],
                        user=config["user"],
                        fingerprint=config["fingerprint"],
                        private_key_file_location=config.get("key_file"),
                        pass_phrase=pass_phrase,
                        private_key_content=config.get("key_content"),
                    )
                token_file = config.get("security_token_file")
                if not token_file:
                    raise self._fail("the profile has no security_token_file",
                                     "run `oci session authenticate` or use auth.type user_principal")
                key_file = config.get("key_file")
                if not key_file:
                    raise self._fail("the profile has no key_file")
                with open(os.path.expanduser(token_file), encoding="utf-8") as fh:
                    token = fh.read().strip()
                if not token:
                    raise self._fail(f"the security token file {token_file} is empty",
                                     "run `oci session refresh` or `oci session authenticate`")
                self._secret_strings = [token]
                key = oci.signer.load_private_key_from_file(key_file, pass_phrase)
                return oci.auth.signers.SecurityTokenSigner(token, key)
            if kind == "instance_principal":
                return oci.auth.signers.InstancePrincipalsSecurityTokenSigner()
            if kind == "resource_principal":
                return oci.auth.signers.get_resource_principals_signer()
        except AuthFailed:
            raise
        except Exception as exc:  # oci raises a zoo of types (ConfigFileNotFound, InvalidConfig ...)
            hint = None
            if kind in ("user_principal", "session"):
                hint = "check auth.profile / auth.config_file in ocigen.yaml and the files they name"
            raise self._fail(f"{type(exc).__name__}: {exc}", hint) from None
        raise self._fail(f"unknown auth type {kind!r}")

    # -- per request --

    async def apply(self, request: httpx.Request, body_sha256: str | None, content_length: int | None) -> None:
        if self.kind in ("instance_principal", "resource_principal"):
            # these signers refresh their federation token inside do_request_sign (network I/O):
            # keep that off the event loop
            await asyncio.to_thread(self._sign, request, body_sha256, content_length)
        else:
            self._sign(request, body_sha256, content_length)

    def _sign(self, request: httpx.Request, body_sha256: str | None, content_length: int | None) -> None:
        if self._signer is None:  # pragma: no cover - transport calls prepare() first
            raise RuntimeError("IamAuth.apply before prepare()")
        from oci._vendor.requests.structures import CaseInsensitiveDict

        for h in ("authorization", "x-api-key"):
            request.headers.pop(h, None)
        url = str(request.url)
        headers = CaseInsensitiveDict()
        headers["host"] = request.headers.get("host") or urlsplit(url).netloc
        ctype = request.headers.get("content-type")
        if ctype:
            headers["content-type"] = ctype
        method = request.method.upper()
        if method in ("POST", "PUT", "PATCH"):
            if body_sha256 is None or content_length is None:  # pragma: no cover - transport bug
                raise RuntimeError("signed request with a body needs its sha256 and length")
            headers["x-content-sha256"] = body_sha256
            headers["content-length"] = str(content_length)
        raw_path = request.url.raw_path.decode("ascii")
        target = _SignTarget(method, url, raw_path, headers)
        with self._thread_lock:
            self._signer.do_request_sign(target)
        copy = ("authorization", "date", "x-content-sha256", "content-length", "content-type")
        for name, value in target.headers.items():
            lname = name.lower()
            if lname in copy and (lname == "authorization" or lname == "date" or target_has_body(method)):
                request.headers[name] = value


def target_has_body(method: str) -> bool:
    return method.upper() in ("POST", "PUT", "PATCH")


def build_auth(settings: Settings, api_key: str | None) -> AuthProvider:
    """The provider for `settings.auth`. Reads the API key env var now (fail fast, clearly)."""
    auth = settings.auth
    if auth.is_iam:
        return IamAuth(auth)
    if auth.type != "api_key":
        raise AuthFailed(None, "auth_config", f"unknown auth type {auth.type!r}",
                         hint="use api_key, user_principal, session, instance_principal or "
                              "resource_principal")
    if api_key is not None:
        return ApiKeyAuth(api_key, "the api_key argument")
    value = os.environ.get(auth.api_key_env)
    if value:
        return ApiKeyAuth(value.strip(), f"${auth.api_key_env}")
    if settings.local:
        return NoAuth()
    raise AuthFailed(
        None, "auth_config",
        f"no API key: environment variable {auth.api_key_env} is not set",
        hint=f"export {auth.api_key_env}=<your OCI Generative AI API key>, or set auth.type to an "
             "IAM kind (user_principal, session, instance_principal, resource_principal)",
    )
