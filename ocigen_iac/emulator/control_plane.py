"""The native OCI Generative AI control plane, as `oci.generative_ai.GenerativeAiClient` (oci 2.189)
calls it with `service_endpoint=<emulator url>`: projects, vector store connectors, their file
syncs, stats and ingestion logs, and work requests. Routes live under /20231130 (not under
/20231130/openai/v1), are IAM-signed like Object Storage (no OpenAI-Project header) and answer
OCI-shaped errors `{"code", "message"}`: 404 NotAuthorizedOrNotFound, 409 IncorrectState,
400 InvalidParameter / MissingParameter / CannotParseRequest, 412 NoEtagMatch.

Lists take `limit` (1..1000, default 100) and `page` and answer `{"items": [...]}` with an
`opc-next-page` header while more remain. Lifecycle delays: `EmulatorConfig.control_plane_delay_s`.
Modules: cp_common (errors, paging, idempotency, work requests, `Kind`), cp_validate (bodies),
cp_lifecycle (transitions, the create/update/delete they share, worker thread), cp_projects and
cp_connectors (what each kind holds of its own), cp_sync (the sync engine).
"""

from __future__ import annotations

from starlette.responses import Response

from . import cp_connectors as conn
from . import cp_projects as proj
from .context import Ctx
from .cp_common import API, Kind, ok, work_request_obj
from .router import Handler, Route

WORK_REQUEST = Kind("WorkRequest", "cp_work_requests", "/workRequests", lambda _ctx, r: work_request_obj(r))


async def get_work_request(ctx: Ctx) -> Response:
    return ok(ctx, work_request_obj(WORK_REQUEST.get(ctx, ctx.params["id"])))


def _r(method: str, path: str, handler: Handler, create: bool = False) -> Route:
    return Route(method, API + path, handler, family="cp", create=create)


ROUTES = [
    _r("POST", "/generativeAiProjects", proj.create_project, create=True),
    _r("GET", "/generativeAiProjects", proj.list_projects),
    _r("GET", "/generativeAiProjects/{id}", proj.get_project),
    _r("PUT", "/generativeAiProjects/{id}", proj.update_project),
    _r("DELETE", "/generativeAiProjects/{id}", proj.delete_project),
    _r("POST", "/generativeAiProjects/{id}/actions/changeCompartment", proj.change_project_compartment),
    _r("POST", "/vectorStoreConnectors", conn.create_connector, create=True),
    _r("GET", "/vectorStoreConnectors", conn.list_connectors),
    _r("GET", "/vectorStoreConnectors/{id}", conn.get_connector),
    _r("PUT", "/vectorStoreConnectors/{id}", conn.update_connector),
    _r("DELETE", "/vectorStoreConnectors/{id}", conn.delete_connector),
    _r("GET", "/vectorStoreConnectors/{id}/stats", conn.connector_stats),
    _r("GET", "/vectorStoreConnectors/{id}/ingestionLogs", conn.connector_logs),
    _r("POST", "/vectorStoreConnectorFileSyncs", conn.create_file_sync, create=True),
    _r("GET", "/vectorStoreConnectorFileSyncs", conn.list_file_syncs),
    _r("GET", "/vectorStoreConnectorFileSyncs/{id}", conn.get_file_sync),
    _r("DELETE", "/vectorStoreConnectorFileSyncs/{id}", conn.cancel_file_sync),
    _r("GET", "/vectorStoreConnectorFileSyncs/{id}/ingestionLogs", conn.file_sync_logs),
    _r("GET", "/workRequests/{id}", get_work_request),
]
