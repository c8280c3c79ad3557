"""The emulator's JSON response: starlette's, encoded with orjson.

Encoding list pages is the largest part of the emulator's CPU, and in tests, `--local` and the
benchmarks the emulator shares the machine with the client it serves. orjson writes the same
compact bytes as starlette's `json.dumps(..., separators=(",", ":"), ensure_ascii=False)` for the
values the emulator returns, several times faster. A value orjson cannot write (an integer past
64 bits, which a client may send as an attribute) falls back to starlette's encoder.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import JSONResponse as _StarletteJSONResponse


class JSONResponse(_StarletteJSONResponse):
    def render(self, content: Any) -> bytes:
        try:
            return orjson.dumps(content)
        except orjson.JSONEncodeError:
            return super().render(content)
