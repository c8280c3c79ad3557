"""Configuration of the emulator: `EmulatorConfig` (what the server is) and `Faults` (what goes wrong).

Both are plain dataclasses. `Faults` is JSON-serialisable (`to_dict` / `from_dict`) so it can be
set at start, through `EmulatorServer.set_faults`, or over HTTP with `PUT /_admin/faults`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any


@dataclass
class Faults:
    """Injected misbehaviour. Rates are probabilities in [0, 1], drawn from the emulator's seeded RNG
    in request order, so a given seed and request sequence always yields the same faults.

    latency_ms / jitter_ms   every matching request sleeps latency_ms + uniform(0, jitter_ms)
    rate_429                 answer 429 with `Retry-After: retry_after_s` and `retry-after-ms`
    rate_5xx                 answer 500 (nothing happens server-side)
    rate_drop                close the connection without any response (nothing happens server-side)
    rate_lost_create         on create routes: the create succeeds and is persisted, but the client
                             gets a 500 or a dropped connection
    ingest_fail_rate         an attached file ends `failed` with last_error.code == "server_error"
    ingest_delay_s           overrides EmulatorConfig.ingest_delay_s when not None
    routes                   aim the request faults: entries are path substrings ("vector_stores") or
                             "METHOD path-prefix" ("POST /files"; the prefix is matched against the full
                             path and against the path with the /openai/v1 or /20231130/openai/v1 prefix
                             removed). Empty => every route. /_admin routes never get faults.
    """

    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    rate_429: float = 0.0
    retry_after_s: float = 1.0
    rate_5xx: float = 0.0
    rate_drop: float = 0.0
    rate_lost_create: float = 0.0
    ingest_fail_rate: float = 0.0
    ingest_delay_s: float | None = None
    routes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Faults:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown fault field(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        out = cls(**data)
        for name in ("rate_429", "rate_5xx", "rate_drop", "rate_lost_create", "ingest_fail_rate"):
            v = getattr(out, name)
            if not isinstance(v, int | float) or not 0.0 <= float(v) <= 1.0:
                raise ValueError(f"{name} must be a number between 0 and 1")
        for name in ("latency_ms", "jitter_ms", "retry_after_s"):
            v = getattr(out, name)
            if not isinstance(v, int | float) or v < 0:
                raise ValueError(f"{name} must be a non-negative number")
        if out.ingest_delay_s is not None and (
            not isinstance(out.ingest_delay_s, int | float) or out.ingest_delay_s < 0
        ):
            raise ValueError("ingest_delay_s must be null or a non-negative number")
        if not isinstance(out.routes, list) or not all(isinstance(r, str) for r in out.routes):
            raise ValueError("routes must be a list of strings")
        return out

    def active(self) -> bool:
        return bool(
            self.latency_ms
            or self.jitter_ms
            or self.rate_429
            or self.rate_5xx
            or self.rate_drop
            or self.rate_lost_create
        )


@dataclass
class EmulatorConfig:
    """What the emulator is. Defaults behave like OCI (project header and compartment required)."""

    data_dir: Path
    api_keys: list[str] = field(default_factory=list)
    # keyId -> PEM public key. keyId is "tenancy/user/fingerprint" or "ST$<session token>".
    signing_keys: dict[str, str] = field(default_factory=dict)
    require_project: bool = True
    require_compartment: bool = True
    faults: Faults = field(default_factory=Faults)
    seed: int = 0
    ingest_delay_s: float = 0.05
    # seconds a control-plane resource spends CREATING/UPDATING/DELETING (and a file sync ACCEPTED)
    control_plane_delay_s: float = 0.2
    access_log: bool = False
    max_clock_skew_s: int = 300
    max_batch_files: int = 500
    max_file_bytes: int = 512 * 1024 * 1024
    max_json_bytes: int = 8 * 1024 * 1024
    os_namespace: str = "emulatorns"
    # seconds between sweeps for expired files, stores and containers
    sweep_interval_s: float = 1.0

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir)

    @property
    def auth_required(self) -> bool:
        return bool(self.api_keys or self.signing_keys)
