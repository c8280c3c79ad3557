"""A small fake of the GitHub and GitLab REST endpoints the kit calls, on 127.0.0.1.

It keeps comments/notes and labels in memory, records every request (method, path, query, body,
headers), pages lists the way each API does (GitHub: Link header; GitLab: X-Next-Page), and can
be told to fail: `fail_next(n, status)` answers the next n requests with `status`;
`lose_next_post_response()` creates the object but answers 502, as a lost response would look.
"""

from __future__ import annotations

import io
import json
import re
import threading
import zipfile
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

TOKEN = "ghp_FAKE-TOKEN-must-never-be-printed"


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    headers: dict[str, str]


@dataclass
class ForgeState:
    comments: list[dict[str, Any]] = field(default_factory=list)  # {"id", "body", "system"?}
    labels: list[str] = field(default_factory=list)
    repo_labels: dict[str, str] = field(default_factory=dict)  # name -> color
    # saved-plan lookups
    commit_pulls: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # sha -> PRs or MRs
    runs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # head sha -> workflow runs
    artifacts: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # run id -> artifacts
    artifact_files: dict[int, dict[str, bytes]] = field(default_factory=dict)  # artifact id -> zip members
    job_artifacts: dict[tuple[str, str, str], bytes] = field(default_factory=dict)  # (ref, job, path) -> bytes


class FakeForge:
    def __init__(self, token: str = TOKEN, page_size: int | None = None) -> None:
        self.token = token
        self.page_size = page_size  # force small pages to exercise paging
        self.state = ForgeState()
        self.requests: list[Recorded] = []
        self._fail: list[int] = []
        self._lose_post = 0
        self._next_id = 1000
        self._lock = threading.Lock()
        handler = type("Handler", (_Handler,), {"forge": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> FakeForge:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)

    def fail_next(self, n: int, status: int = 502) -> None:
        self._fail.extend([status] * n)

    def lose_next_post_response(self) -> None:
        self._lose_post += 1

    def new_id(self) -> int:
        with self._lock:
            self._next_id += 1
            return self._next_id

    def calls(self, method: str | None = None) -> list[Recorded]:
        return [r for r in self.requests if method is None or r.method == method]


def zip_of(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buf.getvalue()


class _Handler(BaseHTTPRequestHandler):
    forge: FakeForge

    def log_message(self, *args: Any) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    # --- plumbing ---------------------------------------------------------------------------
    def _send(self, status: int, data: Any = None, headers: dict[str, str] | None = None, raw: bytes | None = None
              ) -> None:
        body = raw if raw is not None else (b"" if data is None else json.dumps(data).encode())
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream" if raw is not None else "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _page(self, items: list[Any], query: dict[str, str], gitlab: bool) -> None:
        per_page = self.forge.page_size or int(query.get("per_page", 30))
        page = int(query.get("page", 1))
        chunk = items[(page - 1) * per_page: page * per_page]
        more = page * per_page < len(items)
        headers = {}
        if gitlab:
            headers["X-Next-Page"] = str(page + 1) if more else ""
        elif more:
            headers["Link"] = f'<{self.forge.url}{urlsplit(self.path).path}?page={page + 1}>; rel="next"'
        self._send(200, chunk, headers)

    def _handle(self, method: str) -> None:
        forge = self.forge
        parts = urlsplit(self.path)
        path = parts.path
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        forge.requests.append(Recorded(method, path, query, body, dict(self.headers.items())))

        gitlab = path.startswith("/api/v4/")
        if path.startswith("/blob/"):  # artifact storage: no auth, like a pre-signed URL
            self._send(200, raw=zip_of(forge.state.artifact_files[int(path.rsplit("/", 1)[1])]))
            return
        supplied = self.headers.get("PRIVATE-TOKEN") if gitlab else (self.headers.get("Authorization") or "")
        if supplied not in (forge.token, f"Bearer {forge.token}"):
            self._send(401, {"message": "Bad credentials"})
            return
        if forge._fail:
            self._send(forge._fail.pop(0), {"message": "upstream trouble"})
            return
        try:
            (self._gitlab if gitlab else self._github)(method, unquote(path), query, body)
        except KeyError:
            self._send(404, {"message": "Not Found"})

    # --- GitHub -----------------------------------------------------------------------------
    def _github(self, method: str, path: str, query: dict[str, str], body: Any) -> None:
        s = self.forge.state
        if m := re.fullmatch(r"/repos/[^/]+/[^/]+/issues/\d+/comments", path):
            if method == "GET":
                return self._page(s.comments, query, gitlab=False)
            return self._create_comment(body)
        if m := re.fullmatch(r"/repos/[^/]+/[^/]+/issues/comments/(\d+)", path):
            comment = next(c for c in s.comments if c["id"] == int(m.group(1)))
            comment["body"] = body["body"]
            return self._send(200, comment)
        if re.fullmatch(r"/repos/[^/]+/[^/]+/issues/\d+/labels", path):
            if method == "POST":
                s.labels += [name for name in body["labels"] if name not in s.labels]
            return self._page([{"name": n} for n in s.labels], query, gitlab=False)
        if m := re.fullmatch(r"/repos/[^/]+/[^/]+/issues/\d+/labels/(.+)", path):
            if m.group(1) not in s.labels:
                return self._send(404, {"message": "Label does not exist"})
            s.labels.remove(m.group(1))
            return self._send(200, [{"name": n} for n in s.labels])
        if m := re.fullmatch(r"/repos/[^/]+/[^/]+/labels/(.+)", path):
            return self._send(200, {"name": m.group(1), "color": s.repo_labels[m.group(1)]})
        if re.fullmatch(r"/repos/[^/]+/[^/]+/labels", path):
            if body["name"] in s.repo_labels:
                return self._send(422, {"message": "Validation Failed", "errors": [{"code": "already_exists"}]})
            s.repo_labels[body["name"]] = body["color"]
            return self._send(201, body)
        if m := re.fullmatch(r"/repos/[^/]+/[^/]+/commits/([0-9a-f]+)/pulls", path):
            return self._send(200, s.commit_pulls.get(m.group(1), []))
        if re.fullmatch(r"/repos/[^/]+/[^/]+/actions/runs", path):
            runs = [r for r in s.runs.get(query.get("head_sha", ""), [])
                    if r.get("event") == query.get("event") and r.get("conclusion") == query.get("status")]
            return self._send(200, {"total_count": len(runs), "workflow_runs": runs})
        if m := re.fullmatch(r"/repos/[^/]+/[^/]+/actions/runs/(\d+)/artifacts", path):
            arts = [a for a in s.artifacts.get(int(m.group(1)), []) if a["name"] == query.get("name")]
            return self._send(200, {"total_count": len(arts), "artifacts": arts})
        if m := re.fullmatch(r"/repos/[^/]+/[^/]+/actions/artifacts/(\d+)/zip", path):
            return self._send(302, headers={"Location": f"{self.forge.url}/blob/{m.group(1)}"})
        raise KeyError(path)

    def _create_comment(self, body: Any) -> None:
        comment = {"id": self.forge.new_id(), "body": body["body"]}
        self.forge.state.comments.append(comment)
        if self.forge._lose_post:
            self.forge._lose_post -= 1
            return self._send(502, {"message": "bad gateway"})
        self._send(201, comment)

    # --- GitLab -----------------------------------------------------------------------------
    def _gitlab(self, method: str, path: str, query: dict[str, str], body: Any) -> None:
        s = self.forge.state
        path = path.removeprefix("/api/v4")
        if re.fullmatch(r"/projects/[^/]+/merge_requests/\d+/notes", path):
            if method == "GET":
                return self._page(s.comments, query, gitlab=True)
            return self._create_comment(body)
        if m := re.fullmatch(r"/projects/[^/]+/merge_requests/\d+/notes/(\d+)", path):
            note = next(c for c in s.comments if c["id"] == int(m.group(1)))
            note["body"] = body["body"]
            return self._send(200, note)
        if re.fullmatch(r"/projects/[^/]+/merge_requests/\d+", path):
            if method == "PUT":
                drop = {n for n in (body.get("remove_labels") or "").split(",") if n}
                s.labels = [n for n in s.labels if n not in drop]
                s.labels += [n for n in (body.get("add_labels") or "").split(",") if n and n not in s.labels]
            return self._send(200, {"iid": 7, "labels": list(s.labels)})
        if m := re.fullmatch(r"/projects/[^/]+/repository/commits/([0-9a-f]+)/merge_requests", path):
            return self._send(200, s.commit_pulls.get(m.group(1), []))
        if m := re.fullmatch(r"/projects/[^/]+/jobs/artifacts/(.+)/raw/(.+)", path):
            return self._send(200, raw=s.job_artifacts[(m.group(1), query.get("job", ""), m.group(2))])
        raise KeyError(path)
