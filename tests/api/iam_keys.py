"""Generate OCI-style credentials on disk for IAM signing tests: an RSA key pair, a
~/.oci/config-style file with a user-principal profile and a session-token profile."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

TENANCY = "ocid1.tenancy.oc1..aaaatest"
USER = "ocid1.user.oc1..aaaatest"


@dataclass
class IamFiles:
    config_file: Path
    user_key_id: str  # tenancy/user/fingerprint
    session_key_id: str  # ST$<token>
    public_pem: str
    token: str


def _fingerprint(key: rsa.RSAPrivateKey) -> str:
    der = key.public_key().public_bytes(serialization.Encoding.DER,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    h = hashlib.md5(der).hexdigest()
    return ":".join(h[i:i + 2] for i in range(0, 32, 2))


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(key: rsa.RSAPrivateKey) -> str:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def write_iam_files(d: Path, key: rsa.RSAPrivateKey | None = None) -> IamFiles:
    key = key or new_key()
    d.mkdir(parents=True, exist_ok=True)
    key_file = d / "oci_api_key.pem"
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_file.chmod(0o600)
    fp = _fingerprint(key)
    # a JWT-looking session token (the emulator only maps keyId "ST$<token>" to a public key)
    raw = json.dumps({"sub": USER, "tenant": TENANCY}).encode()
    claims = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    token = f"eyJhbGciOiJSUzI1NiJ9.{claims}.c2lnbmF0dXJl"
    token_file = d / "token"
    token_file.write_text(token + "\n")
    cfg = d / "config"
    cfg.write_text(
        "[DEFAULT]\n"
        f"user={USER}\nfingerprint={fp}\ntenancy={TENANCY}\nregion=us-chicago-1\nkey_file={key_file}\n"
        "\n[SESSION]\n"
        f"fingerprint={fp}\ntenancy={TENANCY}\nregion=us-chicago-1\nkey_file={key_file}\n"
        f"security_token_file={token_file}\n"
    )
    return IamFiles(cfg, f"{TENANCY}/{USER}/{fp}", f"ST${token}", public_pem(key), token)
