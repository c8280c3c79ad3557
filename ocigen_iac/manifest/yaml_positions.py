"""YAML with positions: parse text into plain Python data that remembers where everything was.

Owns turning bytes into documents and YAML syntax problems into Diagnostics. Nothing here knows
about manifests or ocigen.yaml.

* Mappings become `PosDict` (a dict) with `.start` (line, column of the mapping), and for every
  key `.key_pos[key]` / `.value_pos[key]`. Sequences become `PosList` with `.start` and
  `.item_pos[i]`. Scalars are plain Python values; their position lives in the parent.
  Lines and columns are 1-based, like every editor.
* Timestamps are *not* resolved (`2024-01-01` stays a string: the API only knows strings).
* A key repeated in one mapping is an error (YAML says keys are unique; PyYAML silently keeps
  the last one).
* Bytes must be UTF-8 (a BOM is tolerated); the first bad byte is reported with its position.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor

from ocigen_iac.errors import Diagnostic

Pos = tuple[int, int]  # (line, column), 1-based


class PosDict(dict):
    """A mapping that remembers the position of itself, its keys and its values."""

    __slots__ = ("key_pos", "start", "value_pos")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.start: Pos = (0, 0)
        self.key_pos: dict[Any, Pos] = {}
        self.value_pos: dict[Any, Pos] = {}


class PosList(list):
    """A sequence that remembers the position of itself and of each item."""

    __slots__ = ("item_pos", "start")

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.start: Pos = (0, 0)
        self.item_pos: list[Pos] = []


def _pos(mark: Any) -> Pos:
    return (mark.line + 1, mark.column + 1)


class _Resolver(yaml.resolver.Resolver):
    pass


# Same implicit resolvers as SafeLoader, minus timestamps.
_Resolver.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.resolver.Resolver.yaml_implicit_resolvers.items()
}


class _Constructor(SafeConstructor):
    duplicate_keys: list[Diagnostic]
    filename: str

    def construct_pos_map(self, node: yaml.MappingNode) -> Iterator[PosDict]:
        data = PosDict()
        data.start = _pos(node.start_mark)
        yield data
        self.flatten_mapping(node)
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError as exc:
                raise ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    "found an unhashable key (a list or mapping used as a key)",
                    key_node.start_mark,
                ) from exc
            value = self.construct_object(value_node, deep=True)
            if key in data:
                line, col = _pos(key_node.start_mark)
                first = data.key_pos.get(key, (0, 0))
                self.duplicate_keys.append(
                    Diagnostic(
                        self.filename,
                        line,
                        col,
                        f"duplicate key {key!r} in this mapping (first defined on line {first[0]})",
                        "YAML keys must be unique: remove or rename one of them",
                    )
                )
            data[key] = value
            data.key_pos[key] = _pos(key_node.start_mark)
            data.value_pos[key] = _pos(value_node.start_mark)

    def construct_pos_seq(self, node: yaml.SequenceNode) -> Iterator[PosList]:
        data = PosList()
        data.start = _pos(node.start_mark)
        yield data
        for child in node.value:
            data.append(self.construct_object(child, deep=True))
            data.item_pos.append(_pos(child.start_mark))


_Constructor.add_constructor("tag:yaml.org,2002:map", _Constructor.construct_pos_map)
_Constructor.add_constructor("tag:yaml.org,2002:seq", _Constructor.construct_pos_seq)
_Constructor.add_constructor("tag:yaml.org,2002:omap", _Constructor.construct_pos_seq)


class PositionLoader(
    yaml.reader.Reader,
    yaml.scanner.Scanner,
    yaml.parser.Parser,
    yaml.composer.Composer,
    _Constructor,
    _Resolver,
):
    def __init__(self, stream: str, filename: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        _Constructor.__init__(self)
        _Resolver.__init__(self)
        self.duplicate_keys = []
        self.filename = filename


@dataclass
class Document:
    """One YAML document of a file."""

    file: str  # display path
    index: int  # 0-based position in the file
    data: Any
    start: Pos  # where the document's content begins


def decode_utf8(raw: bytes, filename: str) -> tuple[str | None, list[Diagnostic]]:
    """Bytes -> text, or a Diagnostic naming the line and column of the first invalid byte."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        return None, [
            Diagnostic(
                filename,
                line,
                col,
                f"the file is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})",
                "save the file as UTF-8 (YAML manifests must be UTF-8 text)",
            )
        ]


_TAB_RE = re.compile(r"'\\t'")
# Characters PyYAML's reader refuses (it raises before any position is known).
_UNPRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _syntax_diagnostic(exc: yaml.YAMLError, filename: str) -> Diagnostic:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line, col = _pos(mark) if mark is not None else (0, 0)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    message = f"invalid YAML: {problem}"
    if context:
        message += f" ({context})"
    hint = "check the indentation and quoting around this position"
    if _TAB_RE.search(problem) or "\t" in problem:
        message = "invalid YAML: a tab character is used for indentation"
        hint = "YAML does not allow tabs for indentation: indent with spaces"
    elif "mapping values are not allowed" in problem:
        hint = "a value containing ': ' must be quoted, or the indentation is off"
    elif "unhashable" in problem:
        hint = "mapping keys must be plain scalars (strings)"
    return Diagnostic(filename, line, col, message, hint)


def load_documents(text: str, filename: str) -> tuple[list[Document], list[Diagnostic]]:
    """Parse every document of `text`. On a syntax error, the documents before it are kept and
    the error is reported (YAML cannot resynchronise after a syntax error)."""
    docs: list[Document] = []
    problems: list[Diagnostic] = []
    index = 0
    try:
        bad = _UNPRINTABLE.search(text)
        if bad:
            before = text[: bad.start()]
            line = before.count("\n") + 1
            col = bad.start() - (before.rfind("\n") + 1) + 1
            problems.append(
                Diagnostic(
                    filename,
                    line,
                    col,
                    f"invalid YAML: the control character U+{ord(bad.group()):04X} is not allowed",
                    "remove it (YAML files must be printable text)",
                )
            )
            return docs, problems
        loader = PositionLoader(text, filename)
    except yaml.YAMLError as exc:  # pragma: no cover - the regex above catches these first
        problems.append(_syntax_diagnostic(exc, filename))
        return docs, problems
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:  # pragma: no cover - defensive
                break
            data = loader.construct_document(node)
            docs.append(Document(filename, index, data, _pos(node.start_mark)))
            index += 1
    except yaml.YAMLError as exc:
        problems.append(_syntax_diagnostic(exc, filename))
    except RecursionError:
        problems.append(Diagnostic(filename, 0, 0, "the YAML is nested too deeply", "flatten the document"))
    finally:
        loader.dispose()
    problems.extend(loader.duplicate_keys)
    return docs, problems
