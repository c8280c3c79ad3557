"""Addresses are values, not strings (Terraform's `addrs`).

    file.handbook                               Address("file", "handbook")
    file.faq["billing/refunds.md"]              Address("file", "faq", key="billing/refunds.md")
    vector_store.kb.files[file.faq["a.md"]]     a child: Address("vector_store", "kb").child("files", <file addr>)
    container.sandbox.files[path:data/p.csv]    a child whose member is a local path, not an address

`str(address)` is the display and state form; `Address.parse` reads it back (every input the
user types, `--target`, `state mv`, `moved:`, goes through it). Nobody builds or splits an
address with string operations: children, renames and "is this inside that" are methods here.
"""

from __future__ import annotations

import dataclasses
import json
import re
import sys
from dataclasses import dataclass
from functools import lru_cache

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
PATH_MEMBER = "path:"


class AddressError(ValueError):
    """An address that does not parse; the message says what was expected."""


@dataclass(frozen=True, slots=True, eq=False)
class Address:
    prefix: str  # the document kind's address prefix: file, vector_store, container, ...
    name: str  # metadata.name
    key: str | None = None  # instance key of a glob member: file.faq["intro.md"]
    field: str | None = None  # for a child: the spec field that declares it ("files")
    member: Address | str | None = None  # for a child: the referenced object, or "path:rel/path"
    _text: str = dataclasses.field(default="", init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_text", _render(self))

    # --- display, parsing, identity -----------------------------------------------------------
    def __str__(self) -> str:
        return self._text

    # An address equals its display form, so state (keyed by strings) and the typed world meet
    # without conversions: `resources["file.handbook"]` finds Address("file", "handbook").
    def __eq__(self, other: object) -> bool:
        if isinstance(other, Address):
            return self._text == other._text
        if isinstance(other, str):
            return self._text == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._text)

    def __repr__(self) -> str:
        return f"Address({str(self)!r})"

    @staticmethod
    def parse(text: str) -> Address:
        return _parse_cached(text.strip())

    # --- structure --------------------------------------------------------------------------
    @property
    def is_child(self) -> bool:
        return self.field is not None

    @property
    def owner(self) -> Address:
        """The document-level address a child belongs to (itself for a top-level address)."""
        if self.field is None:
            return self
        return Address(self.prefix, self.name, self.key)

    @property
    def resource(self) -> Address:
        """The whole resource (a glob File's document), without instance key or child part."""
        return Address(self.prefix, self.name)

    def child(self, field: str, member: Address | str) -> Address:
        if self.field is not None:
            raise AddressError(f"{self} is already a child address")
        return Address(self.prefix, self.name, self.key, field, member)

    def instance(self, key: str) -> Address:
        return Address(self.prefix, self.name, key)

    def member_address(self) -> Address | None:
        return self.member if isinstance(self.member, Address) else None

    # --- relations --------------------------------------------------------------------------
    def within(self, other: Address) -> bool:
        """True if self is `other`, one of its instances, or a child of either (for --target)."""
        if self == other:
            return True
        if (self.prefix, self.name) != (other.prefix, other.name):
            return False
        if other.field is not None:
            return False
        if other.key is not None and self.key != other.key:
            return False
        return other.key is not None or self.key is not None or self.field is not None

    def mentions(self, other: Address) -> bool:
        """True if self is within `other` or its member is (a dependent child of it)."""
        if self.within(other):
            return True
        member = self.member_address()
        return member is not None and member.mentions(other)

    def renamed(self, old: Address, new: Address) -> Address | None:
        """This address after moving `old` to `new` (a whole resource or one instance), or None
        if the move does not touch it. Children follow their owner and their member."""
        changed = False
        prefix, name, key = self.prefix, self.name, self.key
        if (prefix, name) == (old.prefix, old.name) and old.field is None and (old.key is None or old.key == key):
            prefix, name = new.prefix, new.name
            if old.key is not None:
                key = new.key
            elif new.key is not None:
                raise AddressError(f"cannot move the whole resource {old} to one instance {new}")
            changed = True
        member = self.member
        if isinstance(member, Address):
            moved = member.renamed(old, new)
            if moved is not None:
                member, changed = moved, True
        if not changed:
            return None
        return Address(prefix, name, key, self.field, member)


def _render(a: Address) -> str:
    out = f"{a.prefix}.{a.name}"
    if a.key is not None:
        out += "[" + json.dumps(a.key, ensure_ascii=False) + "]"
    if a.field is not None:
        out += f".{a.field}[{a.member}]"
    return sys.intern(out)  # one copy, shared with the state's keys and the attrs that name it


@lru_cache(maxsize=65536)
def _parse_cached(text: str) -> Address:
    parser = _Parser(text)
    address = parser.address()
    if parser.i != len(text):
        parser.fail("unexpected text after the address")
    return address


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0

    def fail(self, what: str) -> None:
        raise AddressError(
            f"{self.text!r} is not an address ({what} at character {self.i + 1}); addresses look like "
            'file.NAME, file.NAME["rel/path"], vector_store.NAME or vector_store.NAME.files[file.NAME]'
        )

    def ident(self) -> str:
        m = _IDENT.match(self.text, self.i)
        if m is None:
            self.fail("expected a name")
            raise AssertionError  # unreachable
        self.i = m.end()
        return m.group(0)

    def expect(self, char: str) -> None:
        if not self.text.startswith(char, self.i):
            self.fail(f"expected {char!r}")
        self.i += len(char)

    def address(self) -> Address:
        prefix = self.ident()
        self.expect(".")
        name = self.ident()
        key: str | None = None
        if self.text.startswith('["', self.i):
            self.i += 1
            key = self.json_string()
            self.expect("]")
        if not self.text.startswith(".", self.i):
            return Address(prefix, name, key)
        self.i += 1
        field = self.ident()
        self.expect("[")
        member: Address | str
        if self.text.startswith(PATH_MEMBER, self.i):
            end = self._closing_bracket()
            member = self.text[self.i:end]
            self.i = end
        else:
            member = self.address()
        self.expect("]")
        return Address(prefix, name, key, field, member)

    def json_string(self) -> str:
        decoder = json.JSONDecoder()
        try:
            value, end = decoder.raw_decode(self.text, self.i)
        except ValueError:
            self.fail("expected a quoted instance key")
            raise AssertionError from None
        if not isinstance(value, str):
            self.fail("expected a quoted instance key")
        self.i = end
        return value

    def _closing_bracket(self) -> int:
        depth = 0
        for j in range(self.i, len(self.text)):
            ch = self.text[j]
            if ch == "[":
                depth += 1
            elif ch == "]":
                if depth == 0:
                    return j
                depth -= 1
        self.fail("expected ']'")
        raise AssertionError
