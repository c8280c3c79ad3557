"""Turn pydantic ValidationErrors into located, human Diagnostics.

Owns: mapping an error's `loc` back onto the position-aware YAML tree (yaml_positions), wording
("unknown field 'purpose_'", "days must be at least 1, got 0"), and "did you mean" hints from the
model that owns the field. Used for manifests and for ocigen.yaml alike.
"""

from __future__ import annotations

import re
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from ocigen_iac.errors import Diagnostic
from ocigen_iac.manifest.interpolate import did_you_mean
from ocigen_iac.manifest.yaml_positions import Pos, PosDict, PosList

_TYPE_NAMES = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, int | float):
        return f"the number {value}"
    text = str(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text!r}"


def locate(tree: Any, loc: tuple[Any, ...], base: Pos) -> tuple[Pos, Pos | None, str, bool]:
    """Follow `loc` in the YAML tree.

    Returns (value position, key position or None, dotted path, whether the whole loc was found).
    Union-member tags that pydantic inserts into `loc` (e.g. 'constrained-str', 'static') are
    skipped when they don't name a key of the current mapping.
    """
    node = tree
    pos: Pos = getattr(tree, "start", base) or base
    key_pos: Pos | None = None
    path = ""
    for part in loc:
        if part == "[key]":
            return (key_pos or pos), key_pos, path, True
        if isinstance(node, PosList) and isinstance(part, int) and 0 <= part < len(node):
            pos = node.item_pos[part] if part < len(node.item_pos) else pos
            key_pos = None
            node = node[part]
            path += f"[{part}]"
        elif isinstance(node, PosDict) and part in node:
            key_pos = node.key_pos.get(part)
            pos = node.value_pos.get(part, pos)
            node = node[part]
            path += f".{part}" if path else str(part)
        elif isinstance(node, dict) and part in node:  # plain dict (defaults)
            node = node[part]
            path += f".{part}" if path else str(part)
        elif isinstance(part, str) and (
            part.startswith(("constrained-", "function-")) or part in _UNION_TAGS or not isinstance(node, dict)
        ):
            continue
        else:
            sep = "." if path else ""
            return pos, key_pos, path + (f"[{part}]" if isinstance(part, int) else f"{sep}{part}"), False
    return pos, key_pos, path, True


_UNION_TAGS = {"str", "int", "float", "bool", "list", "dict", "none", "auto", "static"}


def _unwrap(tp: Any) -> list[Any]:
    """The concrete types inside Annotated / Optional / unions."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        out: list[Any] = []
        for arg in typing.get_args(tp):
            out.extend(_unwrap(arg))
        return out
    return [tp]


def fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names of the model that owns the mapping at `loc` (for did-you-mean)."""
    current: list[Any] = [model]
    for part in loc:
        nxt: list[Any] = []
        for tp in current:
            for t in _unwrap(tp):
                origin = typing.get_origin(t)
                if isinstance(t, type) and issubclass(t, BaseModel):
                    for name, f in t.model_fields.items():
                        if part in (name, f.alias):
                            nxt.append(f.annotation)
                    if isinstance(part, str) and part not in t.model_fields:
                        nxt.append(t)  # a union tag: stay on this model
                elif origin is list and isinstance(part, int):
                    nxt.append(typing.get_args(t)[0])
                elif origin is dict and isinstance(part, str):
                    nxt.append(typing.get_args(t)[1])
        current = nxt or current
    names: list[str] = []
    for tp in current:
        for t in _unwrap(tp):
            if isinstance(t, type) and issubclass(t, BaseModel):
                names.extend(f.alias or n for n, f in t.model_fields.items())
    return sorted(set(names))


# regex -> (what a mismatching value is not, how to fix it); modules register their patterns
PATTERN_HINTS: dict[str, tuple[str, str]] = {}
DEFAULT_PATTERN_HINT = ("has characters that are not allowed",
                        "use letters, digits, '-' and '_', starting with a letter or '_'")


def explain_pattern(pattern: str, problem: str, hint: str) -> str:
    """Register the wording for values that do not match `pattern`; returns the pattern."""
    PATTERN_HINTS[pattern] = (problem, hint)
    return pattern


def _expected_literals(ctx: dict[str, Any] | None) -> list[str]:
    if not ctx or "expected" not in ctx:
        return []
    return re.findall(r"'([^']*)'", str(ctx["expected"]))


def diagnostics_from(
    exc: ValidationError,
    model: type[BaseModel],
    tree: Any,
    file: str,
    base: Pos,
    path_prefix: str = "",
    top: str = "the document",
) -> list[Diagnostic]:
    """One Diagnostic per distinct location (type errors of union members are merged)."""
    grouped: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith(("constrained-", "function-"))))
        # merge the per-member type errors of a union into one
        if err["type"] in _TYPE_NAMES and loc and isinstance(loc[-1], str) and loc[-1] in _UNION_TAGS:
            loc = loc[:-1]
        grouped.setdefault(loc, []).append(err)

    out: list[Diagnostic] = []
    for loc, errs in grouped.items():
        pos, key_pos, path, found = locate(tree, loc, base)
        shown = (path_prefix + path) if path else (path_prefix.rstrip(".") or "document")
        err = errs[0]
        etype = err["type"]
        value = err.get("input")
        hint = ""
        where = pos
        if all(e["type"] in _TYPE_NAMES for e in errs) and len(errs) > 1:
            kinds = [_TYPE_NAMES[e["type"]] for e in errs]
            kinds = ["a boolean" if k == "true or false" else k for k in kinds]
            if "a number" in kinds:
                kinds = [k for k in kinds if k != "an integer"]
            uniq = list(dict.fromkeys(kinds))
            expected = ", ".join(uniq[:-1]) + " or " + uniq[-1]
            msg = f"{shown} must be {expected}, got {_describe(value)}"
        elif etype == "extra_forbidden":
            field = str(loc[-1]) if loc else "?"
            parent = shown.rsplit(".", 1)[0] if "." in shown else top
            known = fields_at(model, loc[:-1])
            msg = f"unknown field {field!r} in {parent}"
            hint = did_you_mean(field, known)
            if known:
                hint = (hint + " " if hint else "") + "allowed fields: " + ", ".join(known)
            where = key_pos or pos
        elif etype == "missing":
            field = str(loc[-1]) if loc else "?"
            parent = shown.rsplit(".", 1)[0] if "." in shown else top
            msg = f"missing required field {field!r} in {parent}"
            hint = f"add '{field}:'"
        elif etype == "literal_error":
            options = _expected_literals(err.get("ctx"))
            msg = f"{shown} must be one of {', '.join(options)}; got {_describe(value)}"
            if isinstance(value, str):
                hint = did_you_mean(value, options)
        elif etype in ("union_tag_invalid", "union_tag_not_found"):
            ctx = err.get("ctx") or {}
            options = re.findall(r"'([^']*)'", str(ctx.get("expected_tags", "")))
            if etype == "union_tag_not_found":
                msg = f"{shown} needs a 'type' ({', '.join(options) or 'see the schema'})"
            else:
                tag = ctx.get("tag")
                msg = f"{shown}.type must be one of {', '.join(options)}; got {tag!r}"
                hint = did_you_mean(str(tag), options)
        elif etype in _TYPE_NAMES:
            msg = f"{shown} must be {_TYPE_NAMES[etype]}, got {_describe(value)}"
            if etype == "string_type" and isinstance(value, int | float | bool):
                hint = f'quote the value to make it a string: "{value}"'
        elif etype in ("string_too_long", "string_too_short", "too_long", "too_short"):
            ctx = err.get("ctx") or {}
            is_key = bool(err["loc"]) and err["loc"][-1] == "[key]"
            what = shown
            if is_key:
                parent = shown.rsplit(".", 1)[0] if "." in shown else shown
                key = str(value)
                what = f"key {key[:20] + '...' if len(key) > 20 else key!r} in {parent}"
            if etype.startswith("string"):
                n = len(value) if isinstance(value, str) else "?"
                if etype == "string_too_short":
                    msg = f"{what} must not be empty"
                else:
                    msg = f"{what} is {n} characters long; at most {ctx.get('max_length')} are allowed"
            else:
                n = ctx.get("actual_length") or (len(value) if hasattr(value, "__len__") else "?")
                unit = "keys" if isinstance(value, dict) else "items"
                if etype == "too_short":
                    least = ctx.get("min_length")
                    msg = f"{shown} needs at least {least} {unit[:-1] if least == 1 else unit}"
                else:
                    msg = f"{shown} has {n} {unit}; at most {ctx.get('max_length')} are allowed"
            if is_key:
                where = key_pos or pos
        elif etype in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
            ctx = err.get("ctx") or {}
            words = {
                "greater_than_equal": ("at least", "ge"),
                "less_than_equal": ("at most", "le"),
                "greater_than": ("more than", "gt"),
                "less_than": ("less than", "lt"),
            }[etype]
            msg = f"{shown} must be {words[0]} {ctx.get(words[1])}, got {_describe(value)}"
        elif etype == "string_pattern_mismatch":
            problem, hint = PATTERN_HINTS.get(str((err.get("ctx") or {}).get("pattern")), DEFAULT_PATTERN_HINT)
            msg = f"{shown} {_describe(value)} {problem}"
        elif etype == "value_error":
            text = str(err.get("msg", "")).removeprefix("Value error, ")
            msg = f"{shown}: {text}"
        else:
            text = str(err.get("msg", ""))
            msg = f"{shown}: {text[:1].lower()}{text[1:]}"
        if not found and etype != "missing":
            where = pos
        out.append(Diagnostic(file, where[0], where[1], msg, hint))
    return out
