"""Vector store search: lexical BM25 over the real chunks, plus attribute filters.

This is not semantic search. Each chunk is indexed at ingestion into a postings table (term -> chunk,
term frequency; terms are lower-cased `\\w+` runs). A query is tokenised the same way and scored with
Okapi BM25 (k1 = 1.2, b = 0.75) using the statistics of that one vector store. The reported `score`
is bm25 / (bm25 + 1), so it lies in (0, 1) and preserves the ranking. Chunks whose file attributes
fail `filters` are skipped; the best `max_num_results` chunks are returned.

Filters: comparison `{type: eq|ne|gt|gte|lt|lte|in|nin, key, value}` and compound
`{type: and|or, filters: [...]}` (nested freely). A missing attribute matches only `ne` and `nin`.
"""

from __future__ import annotations

import json
import math
import re
from typing import TYPE_CHECKING, Any

from .errors import bad_request

if TYPE_CHECKING:
    from .core import Emulator

_TERM = re.compile(r"\w+")
COMPARISONS = {"eq", "ne", "gt", "gte", "lt", "lte", "in", "nin"}
K1, B = 1.2, 0.75
MAX_FILTER_DEPTH = 16


def index_terms(text: str) -> list[str]:
    return _TERM.findall(text.lower())


def validate_filter(f: Any, depth: int = 0) -> None:
    if depth > MAX_FILTER_DEPTH:
        raise bad_request("filters are nested too deeply", param="filters")
    if not isinstance(f, dict) or "type" not in f:
        raise bad_request("each filter must be an object with a 'type'", param="filters")
    t = f["type"]
    if t in ("and", "or"):
        subs = f.get("filters")
        if not isinstance(subs, list) or not subs:
            raise bad_request(f"a '{t}' filter needs a non-empty 'filters' list", param="filters")
        for s in subs:
            validate_filter(s, depth + 1)
        return
    if t not in COMPARISONS:
        raise bad_request(
            f"unknown filter type '{t}'; use one of {sorted(COMPARISONS | {'and', 'or'})}", param="filters"
        )
    if not isinstance(f.get("key"), str) or "value" not in f:
        raise bad_request(f"a '{t}' filter needs 'key' (string) and 'value'", param="filters")
    v = f["value"]
    if t in ("in", "nin"):
        if not isinstance(v, list):
            raise bad_request(f"the value of an '{t}' filter must be a list", param="filters")
    elif not isinstance(v, str | int | float | bool):
        raise bad_request("a comparison value must be a string, number or boolean", param="filters")


def _num(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def matches(f: dict[str, Any], attrs: dict[str, Any]) -> bool:
    t = f["type"]
    if t == "and":
        return all(matches(s, attrs) for s in f["filters"])
    if t == "or":
        return any(matches(s, attrs) for s in f["filters"])
    key, v = f["key"], f["value"]
    if key not in attrs:
        return t in ("ne", "nin")
    a = attrs[key]
    if t == "eq":
        return a == v and isinstance(a, bool) == isinstance(v, bool)
    if t == "ne":
        return not (a == v and isinstance(a, bool) == isinstance(v, bool))
    if t == "in":
        return a in v
    if t == "nin":
        return a not in v
    if not ((_num(a) and _num(v)) or (isinstance(a, str) and isinstance(v, str))):
        return False
    return {"gt": a > v, "gte": a >= v, "lt": a < v, "lte": a <= v}[t]


def search(
    emu: Emulator, vs_id: str, query: str, max_results: int, filters: dict[str, Any] | None
) -> list[dict[str, Any]]:
    terms = sorted(set(index_terms(query)))[:64]
    if not terms:
        return []
    db = emu.db
    stats = db.one("SELECT COUNT(*) n, AVG(ntokens) avgdl FROM chunks WHERE vs_id = ?", [vs_id])
    n_chunks = stats["n"] if stats else 0
    if not n_chunks:
        return []
    avgdl = float(stats["avgdl"] or 1.0) or 1.0
    q = ",".join("?" * len(terms))
    df = {
        r["term"]: r["n"]
        for r in db.all(
            f"SELECT term, COUNT(*) n FROM postings WHERE vs_id = ? AND term IN ({q}) GROUP BY term",
            [vs_id, *terms],
        )
    }
    idf = {t: math.log(1 + (n_chunks - d + 0.5) / (d + 0.5)) for t, d in df.items()}
    if not idf:
        return []
    case = " ".join("WHEN ? THEN ?" for _ in idf)
    case_args: list[Any] = [x for t, v in idf.items() for x in (t, v)]
    # BM25 summed in SQL (C speed); ranked pages are pulled until enough chunks pass the filters.
    sql = (
        f"SELECT p.chunk_id, c.file_id, SUM((CASE p.term {case} END) * p.tf * {K1 + 1}"
        f" / (p.tf + {K1} * (1 - {B} + {B} * c.ntokens / ?))) AS score"
        " FROM postings p JOIN chunks c ON c.id = p.chunk_id"
        f" WHERE p.vs_id = ? AND p.term IN ({','.join('?' * len(idf))})"
        " GROUP BY p.chunk_id ORDER BY score DESC, p.chunk_id LIMIT ? OFFSET ?"
    )
    file_attrs: dict[str, tuple[dict[str, Any], str] | None] = {}
    picked: list[tuple[int, float, str]] = []
    offset, page = 0, max(50, max_results * 4)
    while len(picked) < max_results:
        rows = db.all(sql, [*case_args, avgdl, vs_id, *idf, page, offset])
        for r in rows:
            fid = r["file_id"]
            if fid not in file_attrs:
                row = db.one(
                    "SELECT v.attributes, f.filename FROM vs_files v JOIN files f ON f.id = v.file_id"
                    " WHERE v.vs_id = ? AND v.file_id = ? AND v.status = 'completed'",
                    [vs_id, fid],
                )
                file_attrs[fid] = (json.loads(row["attributes"] or "{}"), row["filename"]) if row else None
            entry = file_attrs[fid]
            if entry is None or (filters is not None and not matches(filters, entry[0])):
                continue
            picked.append((r["chunk_id"], r["score"], fid))
            if len(picked) >= max_results:
                break
        if len(rows) < page:
            break
        offset += page
        page = min(page * 4, 20000)
    out = []
    for chunk_id, score, fid in picked:
        text = db.one("SELECT text FROM chunks WHERE id = ?", [chunk_id])
        attrs, name = file_attrs[fid] or ({}, "")
        out.append(
            {
                "file_id": fid,
                "filename": name,
                "score": round(score / (score + 1.0), 6),
                "attributes": attrs,
                "content": [{"type": "text", "text": text["text"] if text else ""}],
            }
        )
    return out
