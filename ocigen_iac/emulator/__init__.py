"""A local server that behaves like OCI Generative AI's OpenAI-compatible endpoints for Files,
Vector Stores (files, batches, search) and Containers (files), plus the Object Storage routes the
remote state backend needs. By default it is OCI at its least convenient (stores that take time to
become ready, files that take time to process, split management/data-plane prefixes, ties in
created_at, server-owned metadata keys); `VARIANTS` switches to the ways other OpenAI-compatible
servers differ. See `EmulatorConfig` for every switch.

    from ocigen_iac.emulator import EmulatorServer, EmulatorConfig, Faults, VARIANTS, serve
    EmulatorServer(EmulatorConfig.for_variant("missing-400", data_dir=...)).start()

Modules: config (EmulatorConfig, Faults, VARIANTS), server (EmulatorServer, serve, banner), app
(pipeline and routing), router, core (process state), db (SQLite, keyset pages), model (resource
semantics, readiness and expiry), api_files / api_vector_stores / api_containers (handlers),
uploads (streaming multipart), ingest (worker and chunking), search (BM25 and filters), auth (API
keys, OCI signatures), faults (fault injection, counters), objectstorage (/n routes), admin
(/_admin routes),
control_plane (/20231130 projects, vector store connectors and file syncs; cp_* modules).
"""

from .config import VARIANTS, EmulatorConfig, Faults
from .server import EmulatorServer, banner, serve

__all__ = ["VARIANTS", "EmulatorConfig", "EmulatorServer", "Faults", "banner", "serve"]
