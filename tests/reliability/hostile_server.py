"""A tiny misbehaving OpenAI-compatible server on 127.0.0.1 (http.server in a thread).

The first path segment picks the misbehaviour, so one server serves every case at once:
point a project at `http://127.0.0.1:PORT/<mode>/openai/v1`. Modes:

  malformed_json   list endpoints answer 200 with a body that is not JSON
  wrong_types      items whose fields have the wrong types (id: 123, bytes: "many")
  missing_fields   items without an id
  error_body_200   200 carrying {"error": {...}} instead of a list
  endless_cursor   has_more: true with the same last id, forever
  truncated        a file listing that matches a pending create, whose download is cut short
  create_garbage   lists are empty (so apply creates); every create answers 200 with garbage
  html_error       502 with an HTML body from a "proxy"
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

MODES = ("malformed_json", "wrong_types", "missing_fields", "error_body_200", "endless_cursor",
         "truncated", "create_garbage", "html_error")


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients hanging up on garbage is the point; no tracebacks in the test output


class HostileServer:
    """Start with `with HostileServer() as s:`; `s.base(mode)` is the endpoint for that mode."""

    def __init__(self) -> None:
        self.requests = 0
        self.truncated_file: dict[str, Any] = {}  # the file the `truncated` mode lists
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:
                server._handle(self, "GET")

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                if length:
                    self.rfile.read(length)
                server._handle(self, "POST")

            def do_DELETE(self) -> None:
                server._handle(self, "DELETE")

        self.httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=10)

    def base(self, mode: str) -> str:
        return f"http://127.0.0.1:{self.port}/{mode}/openai/v1"

    # --- responses -----------------------------------------------------------------------------
    def _send(self, h: BaseHTTPRequestHandler, status: int, body: bytes, ctype: str = "application/json",
              length: int | None = None) -> None:
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body) if length is None else length))
        if length is not None:
            h.send_header("Connection", "close")
        h.end_headers()
        h.wfile.write(body)
        h.wfile.flush()
        if length is not None:
            h.close_connection = True

    def _json(self, h: BaseHTTPRequestHandler, obj: Any, status: int = 200) -> None:
        self._send(h, status, json.dumps(obj).encode())

    def _handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        with self._lock:
            self.requests += 1
        url = urlsplit(h.path)
        parts = url.path.strip("/").split("/")
        mode = parts[0] if parts else ""
        rest = "/" + "/".join(parts[3:])  # after <mode>/openai/v1
        is_list = method == "GET" and rest in ("/files", "/vector_stores", "/containers")
        empty = {"object": "list", "data": [], "has_more": False}
        if mode == "malformed_json":
            self._send(h, 200, b'{"object": "list", "data": [{"id": "file-1",')
        elif mode == "wrong_types":
            self._json(h, {"object": "list", "data": [{"id": 123, "object": "file", "bytes": "many",
                                                     "created_at": "yesterday", "filename": ["x"]}],
                           "has_more": False})
        elif mode == "missing_fields":
            self._json(h, {"object": "list", "data": [{"object": "file", "bytes": 3}], "has_more": False})
        elif mode == "error_body_200":
            self._json(h, {"error": {"message": "upstream exploded", "type": "server_error", "code": "boom"}})
        elif mode == "endless_cursor":
            self._json(h, {"object": "list", "data": [{"id": "file-same", "object": "file", "bytes": 1,
                                                     "created_at": 1, "filename": "a.md", "purpose": "assistants"}],
                           "first_id": "file-same", "last_id": "file-same", "has_more": True})
        elif mode == "truncated":
            f = self.truncated_file
            if method == "GET" and rest == "/files" and f:
                self._json(h, {"object": "list", "data": [f], "has_more": False})
            elif method == "GET" and f and rest == f"/files/{f['id']}/content":
                self._send(h, 200, b"# partial", ctype="application/octet-stream", length=int(f["bytes"]))
            elif method == "GET" and f and rest == f"/files/{f['id']}":
                self._json(h, f)
            elif is_list:
                self._json(h, empty)
            else:
                self._json(h, {"error": {"message": "not here", "code": "not_found"}}, status=404)
        elif mode == "create_garbage":
            if is_list or (method == "GET" and "/files" in rest):
                self._json(h, empty)
            else:
                self._json(h, {"id": None, "object": 7, "status": {"nested": True}})
        elif mode == "html_error":
            self._send(h, 502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", ctype="text/html")
        else:
            self._json(h, {"error": {"message": f"unknown mode {mode}"}}, status=404)
