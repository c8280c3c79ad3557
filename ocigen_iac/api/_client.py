"""`GenAIClient`: the typed async client for exactly the calls the engine makes.

This module owns endpoints (which base URL each call goes to), headers, request shapes and
response decoding. Transport concerns (retries, limits, auth, logging) live in `_transport`.

Endpoints: Files, Vector Store Files / File Batches / Search and Containers go to the data-plane
base (`settings.inference_base`); vector-store create/list/get/update/delete go to the
management base (`settings.vector_store_base`). Both default to `settings.default_endpoints`.

Headers: every call sends `User-Agent: ocigen-iac/<version>` and `OpenAI-Project` (when a
project is configured). Vector-store calls (both bases) send `OpenAI-Beta: assistants=v2`
like the openai SDK. `opc-compartment-id` (and the legacy `CompartmentId` when
`settings.send_legacy_compartment_header`) go on management-base calls only: that is where
Oracle's reference wiring sends them and where they are required; data-plane calls are scoped
by the project.

Creates (POST /files, /vector_stores, /containers, /containers/{id}/files, /file_batches) are
non-idempotent: see `OutcomeUnknown`. Everything else (GETs, DELETEs, updates, attaching a file
to a store, cancel, search) is retried normally.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import orjson
from pydantic import BaseModel

from ocigen_iac import __version__
from ocigen_iac.settings import Settings, default_endpoints

from ._auth import build_auth
from ._exceptions import ApiError, MalformedResponse, parse_error_body
from ._pagination import paginate, paginate_pages
from ._transport import ClientOptions, Clock, Transport
from ._upload import MultipartFile
from .models import (
    Container,
    ContainerFile,
    FileBatch,
    FileObject,
    VectorStore,
    VectorStoreFile,
    listing_view,
    parse,
)

__all__ = ["FILES_PAGE_LIMIT", "PAGE_LIMIT", "GenAIClient"]

FILES_PAGE_LIMIT = 10_000
PAGE_LIMIT = 100
BETA_HEADERS = {"OpenAI-Beta": "assistants=v2"}

M = TypeVar("M", bound=BaseModel)


def _wants_files_form(message: str | None) -> bool:
    """A 400 that asks for the per-file form ("body.files: Field required"), not for file_ids."""
    text = (message or "").lower()
    return bool(re.search(r"\bfiles\b", text)) and "file_ids" not in text and ("required" in text or "missing" in text)


def _seg(value: str) -> str:
    """One path segment, percent-encoded (ids are opaque strings)."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"expected a non-empty id, got {value!r}")
    return quote(value, safe="")


class GenAIClient:
    """Async client for OCI Generative AI's OpenAI-compatible Files, Vector Stores, Containers.

    Use as `async with GenAIClient(settings, opts) as c: ...`. `api_key=None` reads the key
    from `os.environ[settings.auth.api_key_env]` (API-key auth); IAM auth builds its signer on
    the first request. `c.stats` returns counters for benchmarks.
    """

    def __init__(
        self,
        settings: Settings,
        opts: ClientOptions | None = None,
        *,
        api_key: str | None = None,
        clock: Clock | None = None,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.settings = settings
        self.opts = opts or ClientOptions()
        d_inf, d_vs = default_endpoints(settings.region, settings.realm_domain, settings.auth)
        self.inference_base = (settings.inference_base or d_inf).rstrip("/")
        self.vector_store_base = (settings.vector_store_base or d_vs).rstrip("/")
        headers = {"User-Agent": f"ocigen-iac/{__version__}", "Accept": "application/json"}
        if settings.project:
            headers["OpenAI-Project"] = settings.project
        mgmt: dict[str, str] = dict(BETA_HEADERS)
        if settings.compartment:
            mgmt["opc-compartment-id"] = settings.compartment
            if settings.send_legacy_compartment_header:
                mgmt["CompartmentId"] = settings.compartment
        self._mgmt_headers = mgmt
        self._auth = build_auth(settings, api_key)
        self._t = Transport(self.opts, self._auth, headers, clock=clock, http=http)

    def stop_new_requests(self) -> None:
        self._t.stop_new_requests()

    def set_scope(self, *, project: str | None = None, **_: str) -> None:
        """A managed Project supplies the OpenAI-Project header once it exists."""
        if project:
            self._t.default_headers["OpenAI-Project"] = project

    # -- lifecycle --

    async def __aenter__(self) -> GenAIClient:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._t.aclose()

    def __repr__(self) -> str:
        return (f"GenAIClient(inference_base={self.inference_base!r}, "
                f"vector_store_base={self.vector_store_base!r}, auth={self._auth.describe()!r})")

    @property
    def stats(self) -> dict[str, Any]:
        """Requests by method + route template, attempts, retries, statuses, bytes uploaded."""
        return self._t.stats.snapshot()

    @property
    def auth_description(self) -> str:
        return self._auth.describe()

    @property
    def server_date(self) -> tuple[str, float] | None:
        """(the `Date` header of the last response, local time.time() when it arrived), if any."""
        return self._t.server_date

    async def probe(self, method: str, path: str, *, route: str, management: bool = False,
                    params: dict[str, Any] | None = None, json: Any = None) -> Any:
        """One request for diagnostics (`ocigen-iac doctor`), on the management base or the data
        plane, with the headers every call there carries; the decoded body, or ApiError."""
        base = self.vector_store_base if management else self.inference_base
        resp, _ = await self._call(method, base, path, route=route, operation=f"{method} {route}", params=params,
                                   json=json, mgmt=management, vs=path.startswith("/vector_stores"))
        return self._decode(resp, f"{method} {route}", allow_empty=True)

    # -- plumbing --

    def _mgmt_hint(self) -> str:
        return (f"is the vector-store management endpoint right? (currently {self.vector_store_base}; "
                "set endpoints.vector_stores in ocigen.yaml)")

    async def _call(
        self,
        method: str,
        base: str,
        path: str,
        *,
        route: str,
        operation: str,
        params: dict[str, Any] | None = None,
        json: Any = None,
        upload: MultipartFile | None = None,
        idempotent: bool = True,
        mgmt: bool = False,
        vs: bool = False,
        accept: str | None = None,
    ) -> tuple[httpx.Response, str]:
        headers: dict[str, str] = {}
        if mgmt:
            headers.update(self._mgmt_headers)
        elif vs:
            headers.update(BETA_HEADERS)
        url = base + path
        resp = await self._t.request(
            method, url, route=route, operation=operation, params=params, json=json, upload=upload,
            headers=headers, idempotent=idempotent, accept=accept,
            not_found_hint=self._mgmt_hint() if mgmt else None,
        )
        return resp, str(resp.request.url)

    def _decode(self, resp: httpx.Response, what: str, *, allow_empty: bool = False) -> Any:
        method = resp.request.method
        url = str(resp.request.url)
        rid = resp.headers.get("opc-request-id")
        raw = resp.content
        if not raw.strip():
            if allow_empty:
                return None
            raise MalformedResponse(resp.status_code, "malformed_response",
                                    f"malformed response for {what}: empty body", rid, method, url)
        try:
            body = orjson.loads(raw)  # several times faster than json on 10,000-item pages
        except (ValueError, UnicodeDecodeError):
            excerpt = self._t.scrub(raw[:120].decode("utf-8", "replace"))
            raise MalformedResponse(resp.status_code, "malformed_response",
                                    f"malformed response for {what}: not JSON ({excerpt!r})",
                                    rid, method, url) from None
        if isinstance(body, dict) and isinstance(body.get("error"), dict) and "id" not in body:
            code, message = parse_error_body(raw)
            raise MalformedResponse(resp.status_code, code or "malformed_response",
                                    self._t.scrub(f"malformed response for {what}: HTTP "
                                                  f"{resp.status_code} carrying an error: {message}"),
                                    rid, method, url)
        return body

    async def _one(self, model: type[M], method: str, base: str, path: str, *, route: str,
                   operation: str, **kw: Any) -> M:
        resp, _ = await self._call(method, base, path, route=route, operation=operation, **kw)
        body = self._decode(resp, operation)
        return parse(model, body, what=operation, method=resp.request.method, url=str(resp.request.url),
                     request_id=resp.headers.get("opc-request-id"))

    async def _delete(self, base: str, path: str, *, route: str, operation: str, **kw: Any) -> None:
        resp, _ = await self._call("DELETE", base, path, route=route, operation=operation, **kw)
        body = self._decode(resp, operation, allow_empty=True)  # containers may answer with no body
        if isinstance(body, dict) and body.get("deleted") is False:
            raise MalformedResponse(resp.status_code, "not_deleted",
                                    f"{operation}: the service answered deleted=false",
                                    resp.headers.get("opc-request-id"), "DELETE", str(resp.request.url))

    def _lister(self, base: str, path: str, *, route: str, operation: str, **kw: Any):  # type: ignore[no-untyped-def]
        async def fetch(params: dict[str, Any]) -> tuple[Any, str, str]:
            resp, url = await self._call("GET", base, path, route=route, operation=operation,
                                         params=params, **kw)
            return self._decode(resp, operation), "GET", url

        return fetch

    # ------------------------------------------------------------------ Files (data plane)

    async def iter_files(self, purpose: str | None = None) -> AsyncIterator[FileObject]:
        fetch = self._lister(self.inference_base, "/files", route="/files", operation="list_files")
        async for f in paginate(fetch, FileObject, limit=FILES_PAGE_LIMIT, params={"purpose": purpose},
                                what="list_files"):
            yield f

    async def iter_file_pages(self, fields: tuple[str, ...], purpose: str | None = None,
                              ) -> AsyncIterator[list[dict[str, Any]]]:
        """Files a page at a time, each as a dict of `fields` (see `models.listing_view`)."""
        fetch = self._lister(self.inference_base, "/files", route="/files", operation="list_files")
        async for page in paginate_pages(fetch, listing_view(FileObject, fields), limit=FILES_PAGE_LIMIT,
                                         params={"purpose": purpose}, what="list_files"):
            yield page

    async def get_file(self, file_id: str) -> FileObject:
        return await self._one(FileObject, "GET", self.inference_base, f"/files/{_seg(file_id)}",
                               route="/files/{id}", operation="get_file")

    async def create_file(
        self,
        path: Path,
        *,
        purpose: str,
        filename: str,
        expires_after: dict[str, Any] | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> FileObject:
        """Upload `path` (streamed from disk). `progress(n)`: file bytes sent so far this attempt."""
        fields = [("purpose", purpose)]
        for k, v in (expires_after or {}).items():
            fields.append((f"expires_after[{k}]", str(v)))
        upload = MultipartFile(Path(path), filename=filename, fields=fields, progress=progress)
        return await self._one(FileObject, "POST", self.inference_base, "/files", route="/files",
                               operation="create_file", upload=upload, idempotent=False)

    async def delete_file(self, file_id: str) -> None:
        await self._delete(self.inference_base, f"/files/{_seg(file_id)}", route="/files/{id}",
                           operation="delete_file")

    async def file_content(self, file_id: str) -> bytes:
        resp, _ = await self._call("GET", self.inference_base, f"/files/{_seg(file_id)}/content",
                                   route="/files/{id}/content", operation="file_content",
                                   accept="application/binary")
        return resp.content

    # ------------------------------------------------------------------ Vector stores (management)

    async def iter_vector_stores(self) -> AsyncIterator[VectorStore]:
        fetch = self._lister(self.vector_store_base, "/vector_stores", route="/vector_stores",
                             operation="list_vector_stores", mgmt=True)
        async for v in paginate(fetch, VectorStore, limit=PAGE_LIMIT, what="list_vector_stores"):
            yield v

    async def get_vector_store(self, vs_id: str) -> VectorStore:
        return await self._one(VectorStore, "GET", self.vector_store_base, f"/vector_stores/{_seg(vs_id)}",
                               route="/vector_stores/{id}", operation="get_vector_store", mgmt=True)

    async def create_vector_store(self, body: dict[str, Any]) -> VectorStore:
        return await self._one(VectorStore, "POST", self.vector_store_base, "/vector_stores",
                               route="/vector_stores", operation="create_vector_store", json=body,
                               idempotent=False, mgmt=True)

    async def update_vector_store(self, vs_id: str, body: dict[str, Any]) -> VectorStore:
        return await self._one(VectorStore, "POST", self.vector_store_base, f"/vector_stores/{_seg(vs_id)}",
                               route="/vector_stores/{id}", operation="update_vector_store", json=body,
                               mgmt=True)

    async def delete_vector_store(self, vs_id: str) -> None:
        await self._delete(self.vector_store_base, f"/vector_stores/{_seg(vs_id)}",
                           route="/vector_stores/{id}", operation="delete_vector_store", mgmt=True)

    # ------------------------------------------------------------------ Vector store files (data plane)

    async def iter_vector_store_files(self, vs_id: str, *, status: str | None = None, order: str | None = None,
                                      after: str | None = None) -> AsyncIterator[VectorStoreFile]:
        """Files attached to a store; `order` ("asc" | "desc", default the service's) sets the
        direction, `after` starts after a file the caller knows is there."""
        fetch = self._lister(self.inference_base, f"/vector_stores/{_seg(vs_id)}/files",
                             route="/vector_stores/{id}/files", operation="list_vector_store_files", vs=True)
        async for f in paginate(fetch, VectorStoreFile, limit=PAGE_LIMIT, params={"filter": status, "order": order},
                                what="list_vector_store_files", start_after=after):
            yield f

    async def iter_vector_store_file_pages(self, vs_id: str, fields: tuple[str, ...], *, status: str | None = None,
                                           order: str | None = None, after: str | None = None,
                                           ) -> AsyncIterator[list[dict[str, Any]]]:
        """`iter_vector_store_files` a page at a time, each file as a dict of `fields`."""
        fetch = self._lister(self.inference_base, f"/vector_stores/{_seg(vs_id)}/files",
                             route="/vector_stores/{id}/files", operation="list_vector_store_files", vs=True)
        async for page in paginate_pages(fetch, listing_view(VectorStoreFile, fields), limit=PAGE_LIMIT,
                                         params={"filter": status, "order": order},
                                         what="list_vector_store_files", start_after=after):
            yield page

    async def get_vector_store_file(self, vs_id: str, file_id: str) -> VectorStoreFile:
        return await self._one(VectorStoreFile, "GET", self.inference_base,
                               f"/vector_stores/{_seg(vs_id)}/files/{_seg(file_id)}",
                               route="/vector_stores/{id}/files/{id}", operation="get_vector_store_file",
                               vs=True)

    async def attach_file(self, vs_id: str, file_id: str, *, attributes: dict[str, Any] | None = None,
                          chunking_strategy: dict[str, Any] | None = None) -> VectorStoreFile:
        """Attach a File to a store. Idempotent per (store, file), so retried normally."""
        body: dict[str, Any] = {"file_id": file_id}
        if attributes is not None:
            body["attributes"] = attributes
        if chunking_strategy is not None:
            body["chunking_strategy"] = chunking_strategy
        return await self._one(VectorStoreFile, "POST", self.inference_base,
                               f"/vector_stores/{_seg(vs_id)}/files", route="/vector_stores/{id}/files",
                               operation="attach_file", json=body, vs=True)

    async def update_vector_store_file(self, vs_id: str, file_id: str,
                                       attributes: dict[str, Any] | None) -> VectorStoreFile:
        return await self._one(VectorStoreFile, "POST", self.inference_base,
                               f"/vector_stores/{_seg(vs_id)}/files/{_seg(file_id)}",
                               route="/vector_stores/{id}/files/{id}", operation="update_vector_store_file",
                               json={"attributes": attributes}, vs=True)

    async def detach_file(self, vs_id: str, file_id: str) -> None:
        await self._delete(self.inference_base, f"/vector_stores/{_seg(vs_id)}/files/{_seg(file_id)}",
                           route="/vector_stores/{id}/files/{id}", operation="detach_file", vs=True)

    # ------------------------------------------------------------------ File batches (data plane)

    async def create_file_batch(self, vs_id: str, file_ids: list[str], *, attributes: dict[str, Any] | None = None,
                                chunking_strategy: dict[str, Any] | None = None) -> FileBatch:
        """Attach `file_ids` with shared attributes/chunking in one batch. Sent as `file_ids` (what
        every server accepts, Oracle's sample included); a server that wants the newer per-file
        `files: [...]` form (and says so in a 400) gets that instead."""
        body: dict[str, Any] = {"file_ids": file_ids}
        if attributes is not None:
            body["attributes"] = attributes
        if chunking_strategy is not None:
            body["chunking_strategy"] = chunking_strategy
        try:
            return await self._post_batch(vs_id, body)
        except ApiError as exc:
            if exc.status not in (400, 422) or not _wants_files_form(exc.message):
                raise
        per_file = [{"file_id": f, **({"attributes": attributes} if attributes is not None else {}),
                     **({"chunking_strategy": chunking_strategy} if chunking_strategy is not None else {})}
                    for f in file_ids]
        return await self._post_batch(vs_id, {"files": per_file})

    async def _post_batch(self, vs_id: str, body: dict[str, Any]) -> FileBatch:
        return await self._one(FileBatch, "POST", self.inference_base,
                               f"/vector_stores/{_seg(vs_id)}/file_batches",
                               route="/vector_stores/{id}/file_batches", operation="create_file_batch",
                               json=body, idempotent=False, vs=True)

    async def get_file_batch(self, vs_id: str, batch_id: str) -> FileBatch:
        return await self._one(FileBatch, "GET", self.inference_base,
                               f"/vector_stores/{_seg(vs_id)}/file_batches/{_seg(batch_id)}",
                               route="/vector_stores/{id}/file_batches/{id}", operation="get_file_batch",
                               vs=True)

    async def cancel_file_batch(self, vs_id: str, batch_id: str) -> FileBatch:
        return await self._one(FileBatch, "POST", self.inference_base,
                               f"/vector_stores/{_seg(vs_id)}/file_batches/{_seg(batch_id)}/cancel",
                               route="/vector_stores/{id}/file_batches/{id}/cancel",
                               operation="cancel_file_batch", vs=True)

    async def iter_file_batch_files(self, vs_id: str, batch_id: str, status: str | None = None
                                    ) -> AsyncIterator[VectorStoreFile]:
        fetch = self._lister(self.inference_base,
                             f"/vector_stores/{_seg(vs_id)}/file_batches/{_seg(batch_id)}/files",
                             route="/vector_stores/{id}/file_batches/{id}/files",
                             operation="list_file_batch_files", vs=True)
        async for f in paginate(fetch, VectorStoreFile, limit=PAGE_LIMIT, params={"filter": status},
                                what="list_file_batch_files"):
            yield f

    # ------------------------------------------------------------------ Search (data plane)

    async def search(self, vs_id: str, query: str, *, max_num_results: int = 10,
                     filters: dict[str, Any] | None = None, ranking_options: dict[str, Any] | None = None,
                     rewrite_query: bool | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"query": query, "max_num_results": max_num_results}
        if filters is not None:
            body["filters"] = filters
        if ranking_options is not None:
            body["ranking_options"] = ranking_options
        if rewrite_query is not None:
            body["rewrite_query"] = rewrite_query
        resp, url = await self._call("POST", self.inference_base, f"/vector_stores/{_seg(vs_id)}/search",
                                     route="/vector_stores/{id}/search", operation="search", json=body,
                                     vs=True)
        out = self._decode(resp, "search")
        if not isinstance(out, dict):
            raise MalformedResponse(resp.status_code, "malformed_response",
                                    "malformed response for search: expected a JSON object",
                                    resp.headers.get("opc-request-id"), "POST", url)
        return out

    # ------------------------------------------------------------------ Containers (data plane)

    async def iter_containers(self, name: str | None = None) -> AsyncIterator[Container]:
        fetch = self._lister(self.inference_base, "/containers", route="/containers",
                             operation="list_containers")
        async for c in paginate(fetch, Container, limit=PAGE_LIMIT, params={"name": name},
                                what="list_containers"):
            yield c

    async def get_container(self, container_id: str) -> Container:
        return await self._one(Container, "GET", self.inference_base, f"/containers/{_seg(container_id)}",
                               route="/containers/{id}", operation="get_container")

    async def create_container(self, body: dict[str, Any]) -> Container:
        return await self._one(Container, "POST", self.inference_base, "/containers", route="/containers",
                               operation="create_container", json=body, idempotent=False)

    async def delete_container(self, container_id: str) -> None:
        await self._delete(self.inference_base, f"/containers/{_seg(container_id)}",
                           route="/containers/{id}", operation="delete_container")

    async def iter_container_files(self, container_id: str) -> AsyncIterator[ContainerFile]:
        fetch = self._lister(self.inference_base, f"/containers/{_seg(container_id)}/files",
                             route="/containers/{id}/files", operation="list_container_files")
        async for f in paginate(fetch, ContainerFile, limit=PAGE_LIMIT, what="list_container_files"):
            yield f

    async def create_container_file(
        self,
        container_id: str,
        *,
        path: Path | None = None,
        filename: str | None = None,
        file_id: str | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> ContainerFile:
        """Either upload `path` (multipart, named `filename` or the path's name) or copy `file_id`."""
        if (path is None) == (file_id is None):
            raise ValueError("create_container_file needs exactly one of path= or file_id=")
        route = "/containers/{id}/files"
        p = f"/containers/{_seg(container_id)}/files"
        if file_id is not None:
            return await self._one(ContainerFile, "POST", self.inference_base, p, route=route,
                                   operation="create_container_file", json={"file_id": file_id},
                                   idempotent=False)
        assert path is not None
        upload = MultipartFile(Path(path), filename=filename or Path(path).name, progress=progress)
        return await self._one(ContainerFile, "POST", self.inference_base, p, route=route,
                               operation="create_container_file", upload=upload, idempotent=False)

    async def delete_container_file(self, container_id: str, file_id: str) -> None:
        await self._delete(self.inference_base, f"/containers/{_seg(container_id)}/files/{_seg(file_id)}",
                           route="/containers/{id}/files/{id}", operation="delete_container_file")
