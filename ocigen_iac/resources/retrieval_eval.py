"""Scoring a retrieval check (pure): where the expected documents rank in what a search returned,
whether each query passes, recall@k and MRR for the suite, and the lines the report shows.

A search returns chunks, best first; several can come from one document. The *rank* of an
expected document is the position (1-based) of the first result that comes from it. It counts as
retrieved when it is within the query's top k (the search asks for exactly k results) and, if the
query sets `min_score`, that result scores at least that much.

Per query: recall = retrieved expected documents / expected documents; reciprocal rank = 1 / the
best rank among the retrieved ones (0 if none). The suite's recall@k and MRR are their means over
the queries (a query whose search failed counts 0 for both).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ocigen_iac.addresses import Address

SHOWN_RESULTS = 5  # results listed per query in the text report (JSON has them all)


@dataclass(frozen=True)
class Expectation:
    ref: str  # as the manifest wrote it: "handbook", 'faq["billing.md"]', "faq" (any member)
    files: tuple[Address, ...]  # any of these Files satisfies it (a glob File: its attached members)


@dataclass(frozen=True)
class Query:
    text: str
    expect: tuple[Expectation, ...]
    top_k: int
    min_score: float | None = None
    filters: dict[str, Any] | None = None
    ranking_options: dict[str, Any] | None = None
    rewrite_query: bool | None = None

    def search_args(self) -> dict[str, Any]:
        return {"max_num_results": self.top_k, "filters": self.filters, "ranking_options": self.ranking_options,
                "rewrite_query": self.rewrite_query}


@dataclass(frozen=True)
class Hit:
    rank: int
    file_id: str
    filename: str
    score: float
    file: str | None  # the File address state knows the id as, if any


@dataclass(frozen=True)
class Found:
    """Where one expected document came back."""

    ref: str
    label: str  # "billing.md (file.faq["billing.md"])"
    rank: int | None
    score: float | None
    retrieved: bool
    reason: str  # why it does not count as retrieved ("" when it does)


@dataclass
class QueryOutcome:
    query: Query
    hits: list[Hit] = field(default_factory=list)
    found: list[Found] = field(default_factory=list)
    error: str | None = None  # the search itself failed
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.error is None and all(f.retrieved for f in self.found)

    @property
    def recall(self) -> float:
        if self.error is not None or not self.found:
            return 0.0
        return sum(f.retrieved for f in self.found) / len(self.found)

    @property
    def reciprocal_rank(self) -> float:
        ranks = [f.rank for f in self.found if f.retrieved and f.rank]
        return 1.0 / min(ranks) if ranks and self.error is None else 0.0


@dataclass(frozen=True)
class Known:
    """What state says about Files: address -> live id and filename, and id -> address."""

    ids: dict[str, str]
    filenames: dict[str, str]

    @property
    def addresses(self) -> dict[str, str]:
        return {v: k for k, v in self.ids.items()}


def hits_of(results: list[dict[str, Any]], known: Known) -> list[Hit]:
    by_id = known.addresses
    out = []
    for i, r in enumerate(results, start=1):
        fid = str(r.get("file_id") or "")
        score = r.get("score")
        out.append(Hit(i, fid, str(r.get("filename") or fid), float(score) if isinstance(score, int | float) else 0.0,
                       by_id.get(fid)))
    return out


def label(e: Expectation, known: Known) -> str:
    if len(e.files) == 1:
        address = str(e.files[0])
        return f"{known.filenames.get(address, address)} ({address})"
    return f"{e.ref} (any of {len(e.files)} files)"


def evaluate(query: Query, results: list[dict[str, Any]], known: Known) -> QueryOutcome:
    hits = hits_of(results, known)
    outcome = QueryOutcome(query, hits)
    for e in query.expect:
        ids = {known.ids[str(a)] for a in e.files if str(a) in known.ids}
        text = label(e, known)
        if not ids:
            outcome.found.append(Found(e.ref, text, None, None, False,
                                       "no live object in state (has it been applied?)"))
            continue
        hit = next((h for h in hits if h.file_id in ids), None)
        if hit is None:
            outcome.found.append(Found(e.ref, text, None, None, False, f"not in the top {query.top_k}"))
        elif query.min_score is not None and hit.score < query.min_score:
            outcome.found.append(Found(e.ref, text, hit.rank, hit.score, False,
                                       f"rank {hit.rank}, but score {hit.score:.3f} < min_score {query.min_score}"))
        else:
            outcome.found.append(Found(e.ref, text, hit.rank, hit.score, True, ""))
    return outcome


def suite_metrics(outcomes: list[QueryOutcome]) -> tuple[float, float]:
    """(recall@k, MRR) over the queries."""
    if not outcomes:
        return 0.0, 0.0
    n = len(outcomes)
    return sum(o.recall for o in outcomes) / n, sum(o.reciprocal_rank for o in outcomes) / n


# --- the report --------------------------------------------------------------------------------
def returned_text(hits: list[Hit], limit: int = SHOWN_RESULTS) -> str:
    if not hits:
        return "nothing"
    # a result from a File state does not track (a leftover copy, an upload by hand) says so
    shown = ", ".join(f"{h.filename}{'' if h.file else ' [unmanaged ' + h.file_id + ']'} ({h.score:.3f})"
                      for h in hits[:limit])
    return shown + (f", ... ({len(hits) - limit} more)" if len(hits) > limit else "")


def failure_message(o: QueryOutcome) -> str:
    """One line naming the query, the expected document and what came back instead."""
    if o.error is not None:
        return f"{o.query.text!r}: search failed: {o.error}"
    missing = [f for f in o.found if not f.retrieved]
    first = missing[0]
    more = f" (and {len(missing) - 1} more expected)" if len(missing) > 1 else ""
    return (f"{o.query.text!r}: expected {first.label} within the top {o.query.top_k}: {first.reason}{more}; "
            f"got {returned_text(o.hits, 3)}")


def query_lines(o: QueryOutcome) -> list[str]:
    lines = []
    if o.error is not None:
        lines.append(f"search failed: {o.error}")
    for f in o.found:
        if f.retrieved:
            lines.append(f"expected {f.label}: rank {f.rank}, score {f.score:.3f}")
        else:
            lines.append(f"expected {f.label}: {f.reason}")
    if o.error is None:
        lines.append(f"returned: {returned_text(o.hits)}")
    return lines


def query_dict(o: QueryOutcome) -> dict[str, Any]:
    q = o.query
    return {
        "query": q.text, "passed": o.passed, "top_k": q.top_k, "min_score": q.min_score,
        "expected": [{"ref": f.ref, "document": f.label, "rank": f.rank, "score": f.score, "retrieved": f.retrieved,
                      "reason": f.reason or None} for f in o.found],
        "results": [{"rank": h.rank, "file_id": h.file_id, "filename": h.filename, "file": h.file, "score": h.score}
                    for h in o.hits],
        "error": o.error, "recall": round(o.recall, 4), "reciprocal_rank": round(o.reciprocal_rank, 4),
    }
