"""Streaming multipart/form-data reception: the `file` part goes straight to a temp file on disk
(python-multipart's incremental parser, chunk by chunk), so memory stays flat for any upload size.
Small text fields are collected (bounded). The raw body is hashed on the way for signature checks;
on a mismatch, a size overflow or a parse error the temp file is deleted."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from python_multipart.multipart import MultipartParser, parse_options_header

from .context import Ctx
from .errors import ApiError, bad_request

MAX_FIELD_BYTES = 64 * 1024
MAX_FIELDS = 64


@dataclass
class Upload:
    fields: dict[str, str] = field(default_factory=dict)
    path: Path | None = None
    filename: str | None = None
    size: int = 0
    content_type: str | None = None

    def discard(self) -> None:
        if self.path is not None:
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass
            self.path = None


class _State:
    def __init__(self, tmp: Path, max_bytes: int) -> None:
        self.tmp = tmp
        self.max_bytes = max_bytes
        self.up = Upload()
        self.header_field = bytearray()
        self.header_value = bytearray()
        self.headers: dict[str, bytes] = {}
        self.name: str | None = None
        self.is_file = False
        self.value = bytearray()
        self.fh: IO[bytes] | None = None
        self.error: ApiError | None = None

    # callbacks ------------------------------------------------------------------------------------
    def on_part_begin(self) -> None:
        self.headers = {}
        self.name = None
        self.is_file = False
        self.value = bytearray()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        self.headers[bytes(self.header_field).decode("latin-1").lower()] = bytes(self.header_value)
        self.header_field = bytearray()
        self.header_value = bytearray()

    def on_headers_finished(self) -> None:
        _, opts = parse_options_header(self.headers.get("content-disposition", b""))
        name = opts.get(b"name")
        self.name = name.decode("utf-8", "replace") if name is not None else None
        filename = opts.get(b"filename")
        if self.name == "file" and filename is not None:
            if self.up.path is not None:
                self.error = bad_request("Only one 'file' part is allowed.", param="file")
                return
            self.is_file = True
            self.up.filename = os.path.basename(filename.decode("utf-8", "replace").replace("\\", "/"))
            ctype = self.headers.get("content-type")
            self.up.content_type = ctype.decode("latin-1") if ctype else None
            self.up.path = self.tmp
            self.fh = open(self.tmp, "wb")  # noqa: SIM115 - closed in on_part_end / finish

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.error is not None:
            return
        if self.is_file and self.fh is not None:
            self.up.size += end - start
            if self.up.size > self.max_bytes:
                self.error = ApiError(
                    413, f"File exceeds the maximum size of {self.max_bytes} bytes.", code="file_too_large"
                )
                return
            self.fh.write(data[start:end])
        else:
            self.value += data[start:end]
            if len(self.value) > MAX_FIELD_BYTES:
                self.error = ApiError(413, f"Form field '{self.name}' is too large.", code="request_too_large")

    def on_part_end(self) -> None:
        if self.is_file and self.fh is not None:
            self.fh.close()
            self.fh = None
        elif self.name is not None and self.error is None:
            if len(self.up.fields) >= MAX_FIELDS:
                self.error = bad_request("Too many form fields.")
                return
            self.up.fields[self.name] = bytes(self.value).decode("utf-8", "replace")

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_part_begin": self.on_part_begin,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
        }


async def receive_multipart(ctx: Ctx, tmp: Path, max_bytes: int) -> Upload:
    ctype, opts = parse_options_header(ctx.request.headers.get("content-type", ""))
    if ctype != b"multipart/form-data" or b"boundary" not in opts:
        raise bad_request("Expected a multipart/form-data body with a boundary.", code="invalid_content_type")
    st = _State(tmp, max_bytes)
    parser = MultipartParser(opts[b"boundary"], st.callbacks())  # type: ignore[arg-type]
    try:
        async for chunk in ctx.request.stream():
            ctx.body_check.update(chunk)
            parser.write(chunk)
            if st.error is not None:
                break
        if st.error is None:
            parser.finalize()
        if st.error is not None:
            raise st.error
        ctx.body_check.verify()
        if st.fh is not None:
            raise bad_request("The multipart body ended inside the file part.")
    except ApiError:
        _cleanup(st)
        raise
    except Exception as exc:  # python-multipart raises its own errors on malformed input
        _cleanup(st)
        raise bad_request(f"Malformed multipart body: {exc}.") from None
    return st.up


def _cleanup(st: _State) -> None:
    if st.fh is not None:
        st.fh.close()
        st.fh = None
    st.up.discard()
