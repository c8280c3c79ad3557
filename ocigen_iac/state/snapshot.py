"""Reading a large local state snapshot without holding all of it twice.

`orjson.loads` of a whole snapshot holds the file, the parser's document and every parsed
record at once (at 100,000 records about 65 MB of text plus about as much again of parser
memory). This reader walks the resources section in chunks of complete records, turning each
chunk into `ResourceState`s before reading the next, so only one chunk of text is in memory.

It relies on the layout ocigen-iac writes (`dump_json`: two-space indents, so a record ends
with a line `    }` and the resources section with a line `  }`; JSON strings hold no raw
newlines, so these lines cannot occur inside a value). Anything else (an edited file, another
layout, another format version, a parse error) returns None and the caller reads the file whole.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import orjson

from ocigen_iac.state.model import STATE_FORMAT_VERSION, ResourceState, State, ValueSharer

CHUNK = 1 << 16  # smaller chunks leave less parser memory behind (1 MB ones cost ~0.4 kB a record)
_RESOURCES = b'\n  "resources": {\n'
_RECORD_END = b"\n    },\n"  # one record ends and another follows
_SECTION_END = b"\n  }"  # the resources object closes (records are indented 4 or more)


def read_streaming(source: Path | BinaryIO) -> State | None:
    """The snapshot at `source`: a path, or a binary file open at its start."""
    try:
        if isinstance(source, Path):
            with source.open("rb") as fh:
                return _read(fh)
        return _read(source)
    except (ValueError, KeyError, TypeError):
        return None  # the whole-file reader reports it


def _read(fh: BinaryIO) -> State | None:
    buf = fh.read(CHUNK)
    start = buf.find(_RESOURCES)
    if start < 0:
        return None
    head = buf[:start]
    buf = buf[start + len(_RESOURCES) - 1:]  # from the newline before the first record
    resources: dict[str, ResourceState] = {}
    share = ValueSharer()
    while True:
        end = buf.find(_SECTION_END)
        if end >= 0:
            if buf[:end].strip():
                _add(resources, share, buf[:end])
            tail = buf[end + len(_SECTION_END):] + fh.read()
            break
        cut = buf.rfind(_RECORD_END)
        if cut >= 0:
            _add(resources, share, buf[:cut + 6])  # up to and including the record's closing brace
            buf = buf[cut + 7:]  # after its comma
        more = fh.read(CHUNK)
        if not more:
            return None  # no end to the resources section
        buf += more
    data = orjson.loads(head + b'\n  "resources": {}' + tail)
    if not isinstance(data, dict) or data.get("format_version") != STATE_FORMAT_VERSION:
        return None  # migrations and errors: the whole-file reader
    state = State.from_dict(data)
    state.resources = resources
    return state


def _add(resources: dict[str, ResourceState], share: ValueSharer, records: bytes) -> None:
    """Parse a run of complete `"address": {...}` members of the resources object."""
    parsed = orjson.loads(b"{" + records + b"}")
    for address, record in parsed.items():
        resources[State.address_key(address)] = ResourceState.loaded(record, share)
