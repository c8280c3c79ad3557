"""Configuration of the emulator: `EmulatorConfig` (what the server is) and `Faults` (what goes wrong).

Both are plain dataclasses. `Faults` is JSON-serialisable (`to_dict` / `from_dict`) so it can be
set at start, through `EmulatorServer.set_faults`, or over HTTP with `PUT /_admin/faults`.

`VARIANTS` names the server behaviours a client must cope with (OCI itself, and other
OpenAI-compatible servers); `EmulatorConfig.for_variant(name, data_dir=...)` builds one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

PAGE_ANOMALIES = (None, "short", "empty_cursor")


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
    ingest_fail_first        the first ingestion of each file in each store ends like that; the file
                             attached again (after a detach) is ingested (a transient failure that a
                             client's retry cures, on every file at once)
    ingest_delay_s           overrides EmulatorConfig.ingest_delay_s when not None
    rate_attach_lost         an attachment that completes is silently dropped from its store at that
                             moment: its batch's file_counts still count it as completed, but the
                             store's file_counts, file list, retrieve and search no longer hold it
                             (drawn per attachment when it is attached)
    page_anomaly             null, "short" or "empty_cursor", on list routes matched by `routes`:
                             "short"        every page holds at most half of `limit` (rounded up), with
                                            has_more true while objects remain (legal: keep paging)
                             "empty_cursor" a request with a cursor (after/before) answers
                                            `data: []`, has_more false, even when objects remain (a
                                            broken server: only counts reveal it)
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
    ingest_fail_first: bool = False
    ingest_delay_s: float | None = None
    rate_attach_lost: float = 0.0
    page_anomaly: str | None = None
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
        for name in ("rate_429", "rate_5xx", "rate_drop", "rate_lost_create", "ingest_fail_rate", "rate_attach_lost"):
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
        if not isinstance(out.ingest_fail_first, bool):
            raise ValueError("ingest_fail_first must be true or false")
        if out.page_anomaly not in PAGE_ANOMALIES:
            raise ValueError(f"page_anomaly must be null or one of {', '.join(a for a in PAGE_ANOMALIES if a)}")
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
    """What the emulator is. The defaults behave like OCI at its least convenient; every field that
    makes a client's life harder is named so a test can switch it off or on.

    Access
    data_dir                 where the SQLite database and blobs persist
    api_keys                 accepted `Authorization: Bearer` keys; empty (and no signing_keys) = no auth
    signing_keys             keyId -> PEM public key for OCI request signatures; keyId is
                             "tenancy/user/fingerprint" or "ST$<session token>"
    require_project          the OpenAI-Project header is required on every API route
    require_compartment      opc-compartment-id (or CompartmentId) is required on vector-store CRUD
    max_clock_skew_s         signed requests whose date is further off are refused (401)

    Where routes live (always): vector-store CRUD (create/list/get/update/delete /vector_stores[/{id}])
    answers only under the management prefix /20231130/openai/v1; files, vector-store files, file
    batches, search and containers only under the data-plane prefix /openai/v1. The other prefix
    answers 404 (route not found), as OCI's two hosts do.

    Timing
    ingest_delay_s           an attachment stays in_progress this long before it is ingested
    store_ready_delay_s      a new vector store is `in_progress` this long; until then every
                             data-plane call on it (files, file batches, search) answers 404 as if
                             it did not exist, while the management GET shows it in_progress
    store_visibility_lag_s   extra time after the store reports `completed` before the data plane
                             sees it (field reports: 10-30 s on OCI); 0 = visible when completed
    file_process_delay_s     a new File is `status: "uploaded"` this long, then "processed". A File
                             attached (alone, in a batch or at store create) while still "uploaded"
                             is accepted, and its vector-store file ends `failed` with
                             last_error {code: "invalid_file", message: "File ... is still being
                             processed ..."}; re-attaching returns that failed attachment unchanged
                             (detach it first)

    Behaviour (True/False switches; the default is the inconvenient one)
    downloads_allowed        False: GET /files/{id}/content answers 400 "Not allowed to download
                             files of purpose: assistants" for purposes assistants and user_data
                             (OpenAI's rule); True: every purpose can be downloaded
    plain_container_paths    False: a container file's path is /mnt/data/<hex8>-<filename> (the
                             spec's example); True: /mnt/data/<filename>
    container_expiry_honoured False: the client's expires_after is validated and then ignored; every
                             container expires after 20 idle minutes (OCI's fixed rule) and says so;
                             True: the client's minutes are used
    file_ids_only_batches    False: a file batch takes `file_ids` (+ shared attributes and
                             chunking_strategy) or per-file `files`, exactly one of them; True: only
                             `file_ids` (older servers, Oracle's sample): `files` answers 400
                             "body.file_ids: Field required"
    missing_is_400           a missing object answers 400 instead of 404 (same error body)
    no_containers            the /containers routes do not exist (404 route not found)

    Always on (no switch): created_at has one-second resolution and objects created in one second
    tie; lists order by (created_at, insertion) with `order=asc` and by (created_at descending,
    insertion ascending) with `order=desc`, so the two orders are not each other's reverse; a
    missing object answers code NotAuthorizedOrNotFound ("... not found, or you are not authorized
    to access it"); a new store's metadata holds server keys (SERVER_METADATA_KEYS) that count
    towards the 16-key limit and that an update replacing the metadata loses (counted per store in
    /_admin/objects); search_query in a search answer is a list of strings.

    Limits and housekeeping
    max_batch_files / max_file_bytes / max_json_bytes   request limits
    os_namespace             the Object Storage namespace the /n routes serve
    sweep_interval_s         seconds between sweeps for expired files, stores and containers
    faults, seed             injected misbehaviour (see Faults) and its RNG seed
    access_log               one line per request on stdout, written before the response completes
    """

    data_dir: Path
    api_keys: list[str] = field(default_factory=list)
    signing_keys: dict[str, str] = field(default_factory=dict)
    require_project: bool = True
    require_compartment: bool = True
    faults: Faults = field(default_factory=Faults)
    seed: int = 0
    ingest_delay_s: float = 0.05
    store_ready_delay_s: float = 1.0
    store_visibility_lag_s: float = 0.0
    file_process_delay_s: float = 0.3
    downloads_allowed: bool = False
    plain_container_paths: bool = False
    container_expiry_honoured: bool = False
    file_ids_only_batches: bool = False
    missing_is_400: bool = False
    no_containers: bool = False
    # seconds a control-plane resource spends CREATING/UPDATING/DELETING (and a file sync ACCEPTED)
    control_plane_delay_s: float = 0.2
    access_log: bool = False
    max_clock_skew_s: int = 300
    max_batch_files: int = 500
    max_file_bytes: int = 512 * 1024 * 1024
    max_json_bytes: int = 8 * 1024 * 1024
    os_namespace: str = "emulatorns"
    sweep_interval_s: float = 1.0

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir)
        for name in ("ingest_delay_s", "store_ready_delay_s", "store_visibility_lag_s", "file_process_delay_s"):
            v = getattr(self, name)
            if not isinstance(v, int | float) or isinstance(v, bool) or v < 0:
                raise ValueError(f"{name} must be a non-negative number of seconds; got {v!r}")

    @property
    def auth_required(self) -> bool:
        return bool(self.api_keys or self.signing_keys)

    @classmethod
    def for_variant(cls, name: str, **kw: Any) -> EmulatorConfig:
        """The configuration of a named variant (see VARIANTS); keyword arguments win over it."""
        if name not in VARIANTS:
            raise ValueError(f"unknown emulator variant {name!r}; known: {', '.join(VARIANTS)}")
        return cls(**{**VARIANTS[name], **kw})


# name -> EmulatorConfig overrides. "default" is OCI as documented and observed; each other entry
# is one way another OpenAI-compatible server (or an older OCI) differs.
VARIANTS: dict[str, dict[str, Any]] = {
    "default": {},
    "file-ids-batches": {"file_ids_only_batches": True},
    "missing-400": {"missing_is_400": True},
    "no-containers": {"no_containers": True},
    "plain-container-paths": {"plain_container_paths": True},
    "downloads-allowed": {"downloads_allowed": True},
    "container-expiry-honoured": {"container_expiry_honoured": True},
}
