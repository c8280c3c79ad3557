"""A local server that behaves like OCI Generative AI's OpenAI-compatible endpoints for Files,
Vector Stores (files, batches, search) and Containers (files), plus the Object Storage routes the
remote state backend needs. See DESIGN.md section 7.

    from ocigen_iac.emulator import EmulatorServer, EmulatorConfig, Faults, serve

Modules: config (EmulatorConfig, Faults), server (EmulatorServer, serve), app (pipeline and
routing), router, core (process state), db (SQLite), model (resource semantics and expiry),
api_files / api_vector_stores / api_containers (handlers), uploads (streaming multipart),
ingest (worker and chunking), search (BM25 and filters), auth (API keys, OCI signatures),
faults (fault injection, counters), objectstorage (/n routes), admin (/_admin routes),
control_plane (/20231130 projects, vector store connectors and file syncs; cp_* modules).
"""

from .config import EmulatorConfig, Faults
from .server import EmulatorServer, serve

__all__ = ["EmulatorConfig", "EmulatorServer", "Faults", "serve"]
