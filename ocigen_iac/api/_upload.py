"""Streaming multipart/form-data bodies read straight from disk (this module owns uploads).

`MultipartFile` describes one upload: some text fields plus one file part. It knows its exact
`length` up front (so the request carries `Content-Length`, never chunked encoding), can produce
the body as an async iterator of chunks any number of times (one per attempt), and can compute
the body's SHA-256 by streaming the very same bytes (needed for OCI request signing), without
ever holding more than one chunk in memory.

The file is re-checked (size and mtime) whenever it is read; a file that changed between the
hashing pass and the sending pass, or mid-stream, aborts the upload with `UploadChanged`
rather than sending a body whose signature or length is wrong.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import mimetypes
import os
import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

from ocigen_iac.errors import OcigenError

__all__ = ["CHUNK_SIZE", "MultipartFile", "UploadChanged", "quote_filename"]

CHUNK_SIZE = 1024 * 1024  # 1 MiB: large enough for throughput, small enough to keep RSS flat


class UploadChanged(OcigenError):
    """The file being uploaded changed on disk while it was being read."""


def quote_filename(name: str) -> str:
    """Escape a filename for a Content-Disposition parameter (WHATWG/httpx style)."""
    return name.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def _field_name(name: str) -> str:
    return name.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


class MultipartFile:
    """A multipart/form-data body: text `fields` then one file part named `file_field`."""

    def __init__(
        self,
        path: Path,
        *,
        filename: str,
        fields: list[tuple[str, str]] | None = None,
        file_field: str = "file",
        content_type: str | None = None,
        chunk_size: int = CHUNK_SIZE,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        self.path = Path(path)
        self.filename = filename
        self.chunk_size = chunk_size
        self.progress = progress
        st = os.stat(self.path)
        self._stamp = (st.st_size, st.st_mtime_ns)
        self.file_size = st.st_size
        self.boundary = "ocigen-" + secrets.token_hex(16)
        b = self.boundary.encode("ascii")
        pre = bytearray()
        for name, value in fields or []:
            pre += b"--" + b + b"\r\n"
            pre += f'Content-Disposition: form-data; name="{_field_name(name)}"\r\n\r\n'.encode()
            pre += value.encode("utf-8") + b"\r\n"
        ctype = content_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        pre += b"--" + b + b"\r\n"
        pre += (
            f'Content-Disposition: form-data; name="{_field_name(file_field)}"; '
            f'filename="{quote_filename(filename)}"\r\n'
            f"Content-Type: {ctype}\r\n\r\n"
        ).encode()
        self._preamble = bytes(pre)
        self._epilogue = b"\r\n--" + b + b"--\r\n"
        self.length = len(self._preamble) + self.file_size + len(self._epilogue)
        self._sha256: str | None = None

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def _check_unchanged(self) -> None:
        st = os.stat(self.path)
        if (st.st_size, st.st_mtime_ns) != self._stamp:
            raise UploadChanged(f"{self.path} changed on disk during the upload; run again")

    def iter_sync(self) -> Iterator[bytes]:
        """The body, chunk by chunk (blocking reads)."""
        self._check_unchanged()
        yield self._preamble
        sent = 0
        with open(self.path, "rb") as fh:
            while True:
                chunk = fh.read(self.chunk_size)
                if not chunk:
                    break
                sent += len(chunk)
                if sent > self.file_size:
                    raise UploadChanged(f"{self.path} grew during the upload; run again")
                yield chunk
        if sent != self.file_size:
            raise UploadChanged(f"{self.path} shrank during the upload; run again")
        yield self._epilogue

    def sha256_b64_sync(self) -> str:
        """base64(SHA-256(body)) by streaming the body once; cached."""
        if self._sha256 is None:
            h = hashlib.sha256()
            for chunk in self.iter_sync():
                h.update(chunk)
            self._sha256 = base64.b64encode(h.digest()).decode("ascii")
        return self._sha256

    async def sha256_b64(self) -> str:
        if self._sha256 is None:
            await asyncio.to_thread(self.sha256_b64_sync)
        assert self._sha256 is not None
        return self._sha256

    async def stream(self, on_bytes: Callable[[int], None] | None = None) -> AsyncIterator[bytes]:
        """The body as an async iterator; file reads run in a worker thread.

        `progress(n)` is called with the cumulative number of *file* bytes sent in this attempt
        (it restarts at 0 when an attempt is retried). `on_bytes(n)` counts every body byte.
        """
        await asyncio.to_thread(self._check_unchanged)
        yield self._preamble
        if on_bytes:
            on_bytes(len(self._preamble))
        sent = 0
        fh = await asyncio.to_thread(open, self.path, "rb")
        try:
            while True:
                chunk = await asyncio.to_thread(fh.read, self.chunk_size)
                if not chunk:
                    break
                sent += len(chunk)
                if sent > self.file_size:
                    raise UploadChanged(f"{self.path} grew during the upload; run again")
                yield chunk
                if on_bytes:
                    on_bytes(len(chunk))
                if self.progress:
                    self.progress(sent)
        finally:
            fh.close()
        if sent != self.file_size:
            raise UploadChanged(f"{self.path} shrank during the upload; run again")
        yield self._epilogue
        if on_bytes:
            on_bytes(len(self._epilogue))
