"""Authentication: Bearer API keys and OCI HTTP Signatures (draft-cavage, version 1, rsa-sha256) as
`oci.signer.Signer` (keyId "tenancy/user/fingerprint") and `oci.auth.signers.SecurityTokenSigner`
(keyId "ST$<token>") produce them.

Checked for a signature: the keyId is configured; `date`/`x-date`, `(request-target)` and `host`
are signed; for requests with a body on API routes also `x-content-sha256`, `content-type` and
`content-length`; the date is within `max_clock_skew_s`; the RSA-SHA256 signature verifies against
the configured public key. The body itself is checked against `x-content-sha256` by whoever reads
the body (see `context.BodyCheck`), because uploads are streamed.

With no API keys and no signing keys configured, authentication is not required.
"""

from __future__ import annotations

import base64
import re
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from .config import EmulatorConfig
from .errors import ApiError

_PARAM = re.compile(r'(\w+)="([^"]*)"')
BODY_METHODS = {"POST", "PUT", "PATCH"}


@dataclass
class AuthResult:
    principal: str
    expected_sha256: str | None = None


def _fail(message: str) -> ApiError:
    return ApiError(401, message, code="NotAuthenticated", type_="invalid_request_error")


@lru_cache(maxsize=256)
def _public_key(pem: str) -> rsa.RSAPublicKey:
    key = load_pem_public_key(pem.encode())
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("only RSA public keys are supported")
    return key


def authenticate(
    cfg: EmulatorConfig,
    method: str,
    target: str,
    headers: Any,
    *,
    body_headers_required: bool,
) -> AuthResult:
    """`target` is the raw path plus '?query' as sent; `headers` a case-insensitive mapping."""
    if not cfg.auth_required:
        return AuthResult("anonymous")
    authz = headers.get("authorization")
    if not authz:
        raise _fail("Missing Authorization header: send 'Bearer <API key>' or an OCI request signature.")
    scheme, _, rest = authz.partition(" ")
    if scheme.lower() == "bearer":
        if rest.strip() in cfg.api_keys:
            return AuthResult("api_key")
        raise ApiError(401, "Incorrect API key provided.", code="invalid_api_key")
    if scheme.lower() != "signature":
        raise _fail(f"Unsupported Authorization scheme '{scheme}'.")
    params = dict(_PARAM.findall(rest))
    key_id = params.get("keyId", "")
    if params.get("version", "1") != "1":
        raise _fail(f"Unsupported signature version '{params.get('version')}'.")
    if params.get("algorithm", "rsa-sha256") != "rsa-sha256":
        raise _fail(f"Unsupported signature algorithm '{params.get('algorithm')}'.")
    if not key_id or "signature" not in params or "headers" not in params:
        raise _fail("Malformed Signature: keyId, headers and signature are required.")
    pem = cfg.signing_keys.get(key_id)
    if pem is None:
        shown = "ST$<session token>" if key_id.startswith("ST$") else key_id
        raise _fail(f"Unknown keyId '{shown}': no public key is configured for it.")
    signed = params["headers"].lower().split()
    date_header = "x-date" if "x-date" in signed else "date"
    required = [date_header, "(request-target)", "host"]
    if body_headers_required and method in BODY_METHODS:
        required += ["x-content-sha256", "content-type", "content-length"]
    missing = [h for h in required if h not in signed]
    if missing:
        raise _fail(f"Signature does not cover required header(s): {', '.join(missing)}.")
    lines = []
    for h in signed:
        if h == "(request-target)":
            lines.append(f"(request-target): {method.lower()} {target}")
            continue
        value = headers.get(h)
        if value is None:
            raise _fail(f"Signed header '{h}' is missing from the request.")
        lines.append(f"{h}: {value}")
    try:
        sent = parsedate_to_datetime(headers.get(date_header, "")).timestamp()
    except (TypeError, ValueError):
        raise _fail(f"Unparseable {date_header} header.") from None
    skew = abs(time.time() - sent)
    if skew > cfg.max_clock_skew_s:
        raise _fail(
            f"The request date is {int(skew)} s away from the server clock; at most "
            f"{cfg.max_clock_skew_s} s is allowed (check the client clock)."
        )
    try:
        sig = base64.b64decode(params["signature"], validate=True)
        _public_key(pem).verify(sig, "\n".join(lines).encode(), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        shown = "ST$<session token>" if key_id.startswith("ST$") else key_id
        raise _fail(f"The signature does not verify for keyId '{shown}'.") from None
    expected = headers.get("x-content-sha256") if "x-content-sha256" in signed else None
    return AuthResult(key_id if not key_id.startswith("ST$") else "session_token", expected)
