"""Shared pieces of the native OCI Generative AI control plane (`/20231130/...`, IAM-signed):
OCI-shaped errors, OCIDs, RFC 3339 times, request bodies, response headers, `limit`/`page` paging
with `opc-next-page`, `opc-retry-token` idempotency, `If-Match`, work requests, and `Kind`: what
the routes of one resource kind need to read, answer and record it.

Errors render as `{"code", "message"}` (OciError subclasses OsError, which the app already renders
that way). Every response carries `opc-request-id` (the client's, echoed, else a new one).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import secrets
import sqlite3
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.responses import Response

from .context import Ctx
from .errors import OsError
from .responses import JSONResponse

API = "/20231130"
RETRY_TOKEN_TTL_S = 24 * 3600
DEFAULT_TENANT = "ocid1.tenancy.oc1..emulator"
_KEY_ID = re.compile(r'keyId="([^"]*)"')

SCHEMA = """
CREATE TABLE IF NOT EXISTS cp_projects(
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, compartment_id TEXT NOT NULL,
  tenant_id TEXT NOT NULL, display_name TEXT NOT NULL, description TEXT, configs TEXT NOT NULL,
  freeform_tags TEXT NOT NULL, defined_tags TEXT NOT NULL, state TEXT NOT NULL, target_state TEXT,
  due_at REAL, wr_id TEXT, time_created REAL NOT NULL, time_updated REAL NOT NULL, etag TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS cp_projects_list ON cp_projects(compartment_id, seq);
CREATE TABLE IF NOT EXISTS cp_connectors(
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, compartment_id TEXT NOT NULL,
  tenant_id TEXT NOT NULL, display_name TEXT NOT NULL, description TEXT, vector_store_id TEXT NOT NULL,
  vault_secret_id TEXT, schedule_config TEXT, configuration TEXT NOT NULL, freeform_tags TEXT NOT NULL,
  defined_tags TEXT NOT NULL, state TEXT NOT NULL, target_state TEXT, due_at REAL, wr_id TEXT,
  time_created REAL NOT NULL, time_updated REAL NOT NULL, etag TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS cp_connectors_list ON cp_connectors(compartment_id, seq);
CREATE TABLE IF NOT EXISTS cp_file_syncs(
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, connector_id TEXT NOT NULL,
  compartment_id TEXT NOT NULL, tenant_id TEXT NOT NULL, display_name TEXT NOT NULL,
  trigger_type TEXT NOT NULL, state TEXT NOT NULL, due_at REAL, wr_id TEXT, cancel_wr_id TEXT,
  lifecycle_details TEXT, tallies TEXT NOT NULL, freeform_tags TEXT NOT NULL, defined_tags TEXT NOT NULL,
  time_created REAL NOT NULL, time_started REAL, time_ended REAL, etag TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS cp_file_syncs_list ON cp_file_syncs(compartment_id, seq);
CREATE INDEX IF NOT EXISTS cp_file_syncs_connector ON cp_file_syncs(connector_id, state);
CREATE TABLE IF NOT EXISTS cp_sync_items(
  seq INTEGER PRIMARY KEY AUTOINCREMENT, sync_id TEXT NOT NULL, connector_id TEXT NOT NULL,
  ns TEXT NOT NULL, bucket TEXT NOT NULL, object_name TEXT NOT NULL, file_path TEXT NOT NULL,
  ext TEXT NOT NULL, action TEXT NOT NULL, file_id TEXT, size INTEGER NOT NULL, status TEXT NOT NULL,
  error TEXT, chunks INTEGER NOT NULL DEFAULT 0, started REAL NOT NULL, finished REAL);
CREATE INDEX IF NOT EXISTS cp_sync_items_sync ON cp_sync_items(sync_id, seq);
CREATE INDEX IF NOT EXISTS cp_sync_items_object ON cp_sync_items(connector_id, ns, bucket, object_name);
CREATE TABLE IF NOT EXISTS cp_connector_objects(
  connector_id TEXT NOT NULL, ns TEXT NOT NULL, bucket TEXT NOT NULL, name TEXT NOT NULL,
  etag TEXT NOT NULL, md5 TEXT NOT NULL, size INTEGER NOT NULL, file_id TEXT,
  PRIMARY KEY(connector_id, ns, bucket, name));
CREATE TABLE IF NOT EXISTS cp_work_requests(
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, operation_type TEXT NOT NULL,
  status TEXT NOT NULL, compartment_id TEXT NOT NULL, entity_type TEXT NOT NULL, entity_id TEXT NOT NULL,
  entity_uri TEXT NOT NULL, action_type TEXT NOT NULL, time_accepted REAL NOT NULL, time_started REAL,
  time_finished REAL);
CREATE TABLE IF NOT EXISTS cp_retry_tokens(
  token TEXT NOT NULL, operation TEXT NOT NULL, body_hash TEXT NOT NULL, resource_id TEXT NOT NULL,
  wr_id TEXT NOT NULL, created_at REAL NOT NULL, PRIMARY KEY(token, operation));
"""


# -- errors --------------------------------------------------------------------------------------
class OciError(OsError):
    """An OCI API error: body `{"code": ..., "message": ...}`."""


def not_found(kind: str, ident: str) -> OciError:
    return OciError(404, "NotAuthorizedOrNotFound", f"{kind} '{ident}' not found, or you are not authorized.")


def invalid(message: str) -> OciError:
    return OciError(400, "InvalidParameter", message)


def incorrect_state(message: str) -> OciError:
    return OciError(409, "IncorrectState", message)


# -- values --------------------------------------------------------------------------------------
def new_ocid(kind: str) -> str:
    return f"ocid1.{kind}.oc1..emu{secrets.token_hex(16)}"


def new_etag() -> str:
    return uuid.uuid4().hex


def ts(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def j(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def tenant_of(ctx: Ctx) -> str:
    """The tenancy of the signing principal: keyId 'tenancy/user/fp', or a session token's claim."""
    m = _KEY_ID.search(ctx.request.headers.get("authorization", ""))
    key_id = m.group(1) if m else ""
    if key_id.startswith("ST$"):
        try:
            claims = key_id[3:].split(".")[1]
            tenant = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4))).get("tenant")
            return tenant if isinstance(tenant, str) and tenant else DEFAULT_TENANT
        except (IndexError, ValueError, binascii.Error, AttributeError):
            return DEFAULT_TENANT
    tenancy = key_id.split("/")[0]
    return tenancy if tenancy.startswith("ocid1.tenancy.") else DEFAULT_TENANT


async def body(ctx: Ctx) -> tuple[dict[str, Any], bytes]:
    raw = await ctx.body(ctx.emu.config.max_json_bytes)
    try:
        data = json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise OciError(400, "CannotParseRequest", f"The request body is not valid JSON: {exc}.") from None
    if not isinstance(data, dict):
        raise OciError(400, "CannotParseRequest", "The request body must be a JSON object.")
    return data, raw


# -- responses -----------------------------------------------------------------------------------
def _headers(ctx: Ctx, etag: str | None, wr_id: str | None, next_page: str | None) -> dict[str, str]:
    out = {"opc-request-id": ctx.request.headers.get("opc-request-id") or uuid.uuid4().hex.upper()}
    if etag:
        out["etag"] = etag
    if wr_id:
        out["opc-work-request-id"] = wr_id
    if next_page:
        out["opc-next-page"] = next_page
    return out


def ok(
    ctx: Ctx, data: dict[str, Any], *, etag: str | None = None, wr_id: str | None = None, next_page: str | None = None
) -> JSONResponse:
    return JSONResponse(data, headers=_headers(ctx, etag, wr_id, next_page))


def accepted(ctx: Ctx, wr_id: str) -> Response:
    return Response(status_code=202, headers=_headers(ctx, None, wr_id, None))


def check_if_match(ctx: Ctx, etag: str) -> None:
    want = ctx.request.headers.get("if-match")
    if want is not None and want.strip().strip('"') not in (etag, "*"):
        raise OciError(412, "NoEtagMatch", "The If-Match etag does not match the resource's current etag.")


# -- paging --------------------------------------------------------------------------------------
def _limit(ctx: Ctx, default: int, maximum: int) -> int:
    raw = ctx.q("limit")
    if raw is None:
        return default
    try:
        n = int(raw)
    except ValueError:
        raise invalid(f"limit must be an integer between 1 and {maximum}; got '{raw}'.") from None
    if not 1 <= n <= maximum:
        raise invalid(f"limit must be between 1 and {maximum}; got {n}.")
    return n


def _decode_page(token: str) -> tuple[Any, int]:
    try:
        value, seq = json.loads(base64.urlsafe_b64decode(token.encode()))
        if not isinstance(seq, int):
            raise ValueError
        return value, seq
    except (ValueError, TypeError, binascii.Error):
        raise invalid(f"Invalid page token '{token}': pass the opc-next-page value of the previous call.") from None


def list_page(
    ctx: Ctx,
    *,
    table: str,
    where: str,
    params: list[Any],
    sorts: dict[str, tuple[str, str]],
    default_sort: str,
    render: Callable[[sqlite3.Row], dict[str, Any]],
    default_limit: int = 100,
    max_limit: int = 1000,
) -> JSONResponse:
    """One keyset-paged query. `sorts` maps a sortBy value to (column, default order); ties break
    on seq. The page token is an opaque encoding of the last row's (sort value, seq)."""
    sort_by = ctx.q("sortBy") or default_sort
    if sort_by not in sorts:
        raise invalid(f"sortBy must be one of {', '.join(sorts)}; got '{sort_by}'.")
    col, default_order = sorts[sort_by]
    order = ctx.q("sortOrder") or default_order
    if order not in ("ASC", "DESC"):
        raise invalid(f"sortOrder must be ASC or DESC; got '{order}'.")
    limit = _limit(ctx, default_limit, max_limit)
    cond, args = [where], list(params)
    token = ctx.q("page")
    op = ">" if order == "ASC" else "<"
    if token:
        value, seq = _decode_page(token)
        if col == "seq":
            cond.append(f"seq {op} ?")
            args.append(seq)
        else:
            cond.append(f"({col} {op} ? OR ({col} = ? AND seq {op} ?))")
            args += [value, value, seq]
    rows = ctx.emu.db.all(
        f"SELECT * FROM {table} WHERE {' AND '.join(cond)} ORDER BY {col} {order}, seq {order} LIMIT ?",
        [*args, limit + 1],
    )
    next_page = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_page = base64.urlsafe_b64encode(json.dumps([last[col], last["seq"]]).encode()).decode()
    return ok(ctx, {"items": [render(r) for r in rows[:limit]]}, next_page=next_page)


def list_in_compartment(
    ctx: Ctx,
    *,
    table: str,
    columns: dict[str, str],
    sorts: dict[str, tuple[str, str]],
    render: Callable[[sqlite3.Row], dict[str, Any]],
) -> JSONResponse:
    """A List… route: the rows of the required `compartmentId`, narrowed by the query parameters of
    `columns` (query name -> column); sortBy is timeCreated (newest first, the default) or `sorts`."""
    ctx.emu.control_plane.settle()
    where, params = filters(ctx, "compartment_id = ?", [required_query(ctx, "compartmentId")], columns)
    return list_page(ctx, table=table, where=where, params=params, sorts={"timeCreated": ("seq", "DESC"), **sorts},
                     default_sort="timeCreated", render=render)


def filters(ctx: Ctx, where: str, params: list[Any], mapping: dict[str, str]) -> tuple[str, list[Any]]:
    """AND `column = ?` for each query parameter of `mapping` (query name -> column) that is set."""
    for qname, column in mapping.items():
        value = ctx.q(qname)
        if value:
            where += f" AND {column} = ?"
            params.append(value)
    return where, params


def required_query(ctx: Ctx, name: str) -> str:
    value = ctx.q(name)
    if not value:
        raise OciError(400, "MissingParameter", f"The query parameter '{name}' is required.")
    return value


# -- idempotency ---------------------------------------------------------------------------------
def retried(ctx: Ctx, operation: str, raw: bytes) -> tuple[str, str] | None:
    """(resource_id, work_request_id) of an earlier create with this opc-retry-token, if any."""
    token = ctx.request.headers.get("opc-retry-token")
    if not token:
        return None
    row = ctx.emu.db.one(
        "SELECT * FROM cp_retry_tokens WHERE token = ? AND operation = ? AND created_at > ?",
        [token, operation, time.time() - RETRY_TOKEN_TTL_S],
    )
    if row is None:
        return None
    if row["body_hash"] != hashlib.sha256(raw).hexdigest():
        raise OciError(
            409,
            "InvalidatedRetryToken",
            "This opc-retry-token was already used with a different request body; use a new token.",
        )
    return row["resource_id"], row["wr_id"]


def remember(c: sqlite3.Connection, ctx: Ctx, operation: str, raw: bytes, resource_id: str, wr_id: str) -> None:
    token = ctx.request.headers.get("opc-retry-token")
    if not token:
        return
    now = time.time()
    c.execute("DELETE FROM cp_retry_tokens WHERE created_at <= ?", [now - RETRY_TOKEN_TTL_S])
    c.execute(
        "INSERT OR REPLACE INTO cp_retry_tokens(token, operation, body_hash, resource_id, wr_id, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [token, operation, hashlib.sha256(raw).hexdigest(), resource_id, wr_id, now],
    )


# -- work requests -------------------------------------------------------------------------------
def new_work_request(
    c: sqlite3.Connection, operation: str, compartment_id: str, entity_type: str, entity_id: str, uri: str
) -> str:
    wr_id = new_ocid("generativeaiworkrequest")
    now = time.time()
    c.execute(
        "INSERT INTO cp_work_requests(id, operation_type, status, compartment_id, entity_type, entity_id,"
        " entity_uri, action_type, time_accepted, time_started) VALUES (?, ?, 'IN_PROGRESS', ?, ?, ?, ?,"
        " 'IN_PROGRESS', ?, ?)",
        [wr_id, operation, compartment_id, entity_type, entity_id, uri, now, now],
    )
    return wr_id


def finish_work_request(c: sqlite3.Connection, wr_id: str | None, status: str, action: str) -> None:
    if wr_id:
        c.execute(
            "UPDATE cp_work_requests SET status = ?, action_type = ?, time_finished = ?"
            " WHERE id = ? AND time_finished IS NULL",
            [status, action, time.time(), wr_id],
        )


def work_request_obj(row: sqlite3.Row) -> dict[str, Any]:
    done = row["time_finished"] is not None
    return {
        "id": row["id"],
        "operationType": row["operation_type"],
        "status": row["status"],
        "compartmentId": row["compartment_id"],
        "resources": [
            {
                "entityType": row["entity_type"],
                "actionType": row["action_type"],
                "identifier": row["entity_id"],
                "entityUri": row["entity_uri"],
            }
        ],
        "percentComplete": 100.0 if done else 0.0,
        "timeAccepted": ts(row["time_accepted"]),
        "timeStarted": ts(row["time_started"]),
        "timeFinished": ts(row["time_finished"]),
    }


# -- kinds ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Kind:
    """One control-plane resource kind: its name in errors and work requests, its table, the path
    its routes live under, and how a row renders as the API's JSON object."""

    name: str
    table: str
    path: str
    render: Callable[[Ctx, sqlite3.Row], dict[str, Any]]

    def get(self, ctx: Ctx, rid: str) -> sqlite3.Row:
        """The row `rid` once due transitions are applied; 404 when there is none."""
        ctx.emu.control_plane.settle()
        row = ctx.emu.db.one(f"SELECT * FROM {self.table} WHERE id = ?", [rid])
        if row is None:
            raise not_found(self.name, rid)
        return row

    def answer(self, ctx: Ctx, rid: str, wr_id: str | None = None) -> JSONResponse:
        """The resource as it is now, with its etag (and the work request that changed it)."""
        row = self.get(ctx, rid)
        return ok(ctx, self.render(ctx, row), etag=row["etag"], wr_id=wr_id)

    def work_request(self, c: sqlite3.Connection, operation: str, compartment_id: str, rid: str) -> str:
        return new_work_request(c, operation, compartment_id, self.name, rid, f"{API}{self.path}/{rid}")
