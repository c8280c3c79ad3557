"""Retrieval checks: does searching a vector store bring back the documents it should?

Manifest: `kind: RetrievalCheck` names a store and lists queries, each with the documents (File
references: `handbook`, a glob member `faq["billing.md"]`, or a whole glob File `faq` meaning
any of its members) that must come back within its top k, optionally above a minimum score and
with the search API's `filters`, `ranking_options` and `rewrite_query`; suite thresholds
`min_recall_at_k` and `min_mrr`. Scoring is in retrieval_eval.py.

A check produces no live object. It runs through `DocumentKind.run_checks`: after an apply that
changed its store (once ingestion completed), and on demand (`ocigen-iac check`). Ids come from
state. Before searching it waits, bounded, until the store has no file `in_progress`: a
half-ingested store would make a good suite fail, or a bad one pass.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from ocigen_iac.addresses import Address, AddressError
from ocigen_iac.manifest.desired import DesiredResource
from ocigen_iac.manifest.models import NonEmptyStr, _Model
from ocigen_iac.resources.base import CheckCase, CheckResult, DocumentKind, Instance
from ocigen_iac.resources.files import FileDocument, FileType
from ocigen_iac.resources.registry import register
from ocigen_iac.resources.retrieval_eval import (
    Expectation,
    Known,
    Query,
    QueryOutcome,
    evaluate,
    failure_message,
    query_dict,
    query_lines,
    suite_metrics,
)
from ocigen_iac.resources.vector_store_files import FileBatchSpec
from ocigen_iac.resources.vector_stores import VectorStoreDocument, VectorStoreSpec

if TYPE_CHECKING:
    from ocigen_iac.engine.context import ExpandContext, RunContext
    from ocigen_iac.manifest.parse import ParsedDoc
    from ocigen_iac.manifest.resolve import Resolver

DEFAULT_TOP_K = 5
DEFAULT_INGESTION_TIMEOUT = "10m"
DATA_PLANE_WAIT_S = 60.0  # a store the management side has may answer 404 on search for a while
EPSILON = 1e-9  # thresholds compare floats


# ------------------------------------------------------------------------------------ manifest
Scalar = str | int | float | bool


class ComparisonFilter(_Model):
    """Compare one file attribute: {type: eq, key: section, value: faq}."""

    type: Literal["eq", "ne", "gt", "gte", "lt", "lte", "in", "nin"]
    key: NonEmptyStr
    value: Scalar | list[str | int | float]

    @model_validator(mode="after")
    def _list_only_for_in(self) -> ComparisonFilter:
        if self.type in ("in", "nin") and not isinstance(self.value, list):
            raise ValueError(f"the value of an '{self.type}' filter must be a list")
        if self.type not in ("in", "nin") and isinstance(self.value, list):
            raise ValueError(f"the value of an '{self.type}' filter must be a string, number or boolean "
                             "(lists go with 'in' and 'nin')")
        return self


class CompoundFilter(_Model):
    """Combine filters: {type: and, filters: [...]}."""

    type: Literal["and", "or"]
    filters: Annotated[list[Filter], Field(min_length=1)]


Filter = Annotated[ComparisonFilter | CompoundFilter, Field(discriminator="type")]
CompoundFilter.model_rebuild()


class RankingOptions(_Model):
    ranker: Literal["auto", "default-2024-11-15", "none"] | None = None
    score_threshold: float | None = Field(None, ge=0, le=1)


class QueryModel(_Model):
    query: NonEmptyStr = Field(description="what a user would ask")
    expect: Annotated[list[NonEmptyStr], Field(min_length=1)] = Field(
        description='Files that must come back: a File name (handbook), a glob member (faq["billing.md"]) or a '
                    "whole glob File (faq: any of its members)")
    top_k: int | None = Field(None, ge=1, le=50, description="results asked for (max_num_results); default: spec.top_k")
    min_score: float | None = Field(None, ge=0, le=1, description="an expected document must score at least this")
    filters: Filter | None = Field(None, description="attribute filters, as the search API takes them")
    ranking_options: RankingOptions | None = None
    rewrite_query: bool | None = None


class RetrievalCheckSpecModel(_Model):
    vector_store: NonEmptyStr = Field(description="metadata.name of the VectorStore searched")
    top_k: int = Field(DEFAULT_TOP_K, ge=1, le=50, description="k of recall@k, and each query's default")
    min_recall_at_k: float | None = Field(None, ge=0, le=1, description="the suite's recall@k must reach this")
    min_mrr: float | None = Field(None, ge=0, le=1, description="the suite's mean reciprocal rank must reach this")
    all_queries_must_pass: bool = Field(
        True, description="false: only the thresholds decide (failed queries are still reported)")
    ingestion_timeout: str | int = Field(
        DEFAULT_INGESTION_TIMEOUT, description="how long to wait for the store's ingestion before searching (10m)")
    queries: Annotated[list[QueryModel], Field(min_length=1)]

    @field_validator("ingestion_timeout")
    @classmethod
    def _a_duration(cls, value: str | int) -> str | int:
        from ocigen_iac.config import parse_duration

        parse_duration(value)  # its ValueError says how to write one
        return value


@dataclass(frozen=True)
class RetrievalCheckSpec:
    vector_store: Address
    queries: tuple[Query, ...]
    top_k: int = DEFAULT_TOP_K
    min_recall_at_k: float | None = None
    min_mrr: float | None = None
    all_queries_must_pass: bool = True
    ingestion_timeout_s: float = 600.0


def attached_files(r: Resolver, store: Address) -> set[Address] | None:
    """Files the manifests attach to `store` (its `files:` and file batches), or None when the
    store's own document did not resolve (its errors are reported already)."""
    res = r.resources.get(store)
    if res is None or not isinstance(res.spec, VectorStoreSpec):
        return None
    held = {a.file for a in res.spec.files}
    for other in r.resources.values():
        if isinstance(other.spec, FileBatchSpec) and other.spec.vector_store == store:
            held |= {a.file for a in other.spec.files}
    return held


class RetrievalCheckDocument(DocumentKind):
    kind: ClassVar[str] = "RetrievalCheck"
    prefix: ClassVar[str] = "retrieval_check"
    spec_model = RetrievalCheckSpecModel
    produces: ClassVar[tuple[str, ...]] = ()  # no live object: it only searches
    rank: ClassVar[int] = 40
    references: ClassVar[tuple[str, ...]] = ("File", "VectorStore", "VectorStoreFileBatch")

    def resolve(self, doc: ParsedDoc, r: Resolver) -> None:
        from ocigen_iac.config import parse_duration

        spec = doc.model.spec
        store = r.lookup(doc, doc.pos("spec", "vector_store"), spec.vector_store, VectorStoreDocument.kind,
                         "spec.vector_store")
        timeout_s = parse_duration(spec.ingestion_timeout)  # checked by the model
        if store is None:
            return
        held = attached_files(r, store)
        queries = []
        for i, q in enumerate(spec.queries):
            expect = [self._expectation(doc, r, store, held, i, j, ref) for j, ref in enumerate(q.expect)]
            queries.append(Query(
                text=q.query, expect=tuple(e for e in expect if e is not None), top_k=q.top_k or spec.top_k,
                min_score=q.min_score,
                filters=q.filters.model_dump(mode="json", exclude_none=True) if q.filters is not None else None,
                ranking_options=(q.ranking_options.model_dump(mode="json", exclude_none=True)
                                 if q.ranking_options is not None else None),
                rewrite_query=q.rewrite_query))
        r.add(doc, Address(self.prefix, doc.name), RetrievalCheckSpec(
            vector_store=store, queries=tuple(queries), top_k=spec.top_k, min_recall_at_k=spec.min_recall_at_k,
            min_mrr=spec.min_mrr, all_queries_must_pass=spec.all_queries_must_pass,
            ingestion_timeout_s=timeout_s), depends_on=[store])

    @staticmethod
    def _expectation(doc: ParsedDoc, r: Resolver, store: Address, held: set[Address] | None, i: int, j: int,
                     ref: str) -> Expectation | None:
        from ocigen_iac.manifest.interpolate import did_you_mean

        pos = doc.pos("spec", "queries", i, "expect", j)
        field = f"spec.queries[{i}].expect[{j}]"
        prefix = FileDocument.prefix
        text = ref.strip()
        how = 'write a File name (handbook), a glob member (faq["billing.md"]) or a glob File (faq: any member)'
        try:
            address = Address.parse(text if text.startswith(prefix + ".") else f"{prefix}.{text}")
        except AddressError:
            r.error(doc, pos, f"{field}: {ref!r} is not a File reference", how)
            return None
        if address.prefix != prefix or address.is_child:
            r.error(doc, pos, f"{field}: {ref!r} is not a File reference", how)
            return None
        if r.lookup(doc, pos, address.name, FileDocument.kind, field) is None:
            return None
        members = r.expansion(FileDocument.kind, address.name)
        if address.key is not None:
            if address not in members:
                keys = [m.key for m in members if m.key is not None]
                hint = did_you_mean(address.key, keys)
                r.error(doc, pos, f"{field}: File {address.name!r} has no member {address.key!r}",
                        (hint + " " if hint else "") + (f"members: {', '.join(keys[:10])}" if keys else
                                                         f"{address.name!r} is not a glob File: write {address.name}"))
                return None
            members = [address]
        if held is None:
            return Expectation(ref, tuple(members))
        attached = tuple(m for m in members if m in held)
        if not attached:
            r.error(doc, pos, f"{field}: {address} is not attached to vector store {store.name!r}, so no search of it "
                              "can return it", "attach it (the store's files:, or a VectorStoreFileBatch), or expect "
                                               "a document the store holds")
            return None
        return Expectation(ref, attached)

    def expand(self, res: DesiredResource, x: ExpandContext) -> list[Instance]:
        return []

    def summarize(self, resources: list[DesiredResource]) -> str:
        n = sum(len(r.spec.queries) for r in resources)
        return f"{len(resources)} {self.kind} ({n} quer{'ies' if n != 1 else 'y'})"

    # --- running ------------------------------------------------------------------------------
    async def run_checks(self, ctx: RunContext, resources: list[DesiredResource],
                         touched: set[Address] | None) -> list[CheckResult]:
        out = []
        for res in resources:
            if touched is None or res.spec.vector_store in touched:
                out.append(await self.run_one(ctx, res))
        return out

    async def run_one(self, ctx: RunContext, res: DesiredResource) -> CheckResult:
        from ocigen_iac.api import ApiError

        spec: RetrievalCheckSpec = res.spec
        store_rs = ctx.state.state.resources.get(str(spec.vector_store))
        if store_rs is None:
            return self._not_run(res, f"{spec.vector_store} has no live object in state; run apply first")
        try:
            problem = await wait_ingested(ctx, spec.vector_store, store_rs.id, spec.ingestion_timeout_s)
        except ApiError as exc:
            problem = f"could not read {spec.vector_store} ({store_rs.id}): {exc}"
        if problem:
            return self._not_run(res, problem)
        known = known_files(ctx)
        outcomes = list(await asyncio.gather(*(run_query(ctx, store_rs.id, q, known) for q in spec.queries)))
        return self._result(res, store_rs.id, outcomes)

    def _not_run(self, res: DesiredResource, problem: str) -> CheckResult:
        spec: RetrievalCheckSpec = res.spec
        return CheckResult(str(res.address), False, f"not run: {problem}",
                           {"kind": self.kind, "vector_store": str(spec.vector_store), "error": problem,
                            "queries": []},
                           [CheckCase("vector store ready for search", False, problem)])

    def _result(self, res: DesiredResource, store_id: str, outcomes: list[QueryOutcome]) -> CheckResult:
        spec: RetrievalCheckSpec = res.spec
        recall, mrr = suite_metrics(outcomes)
        k = spec.top_k
        cases = [CheckCase(o.query.text, o.passed, "" if o.passed else failure_message(o), query_lines(o), o.seconds)
                 for o in outcomes]
        failed_queries = [o for o in outcomes if not o.passed]
        thresholds = []
        for label, value, minimum in ((f"recall@{k}", recall, spec.min_recall_at_k), ("MRR", mrr, spec.min_mrr)):
            if minimum is not None:
                ok = value + EPSILON >= minimum
                thresholds.append(ok)
                cases.append(CheckCase(f"{label} >= {minimum:g}", ok,
                                       "" if ok else f"{label} {value:.2f} < min {minimum:g}",
                                       [f"{label} = {value:.2f}"]))
        passed = all(thresholds) and (not spec.all_queries_must_pass or not failed_queries)
        figures = (f"recall@{k} {recall:.2f}" + (f" (min {spec.min_recall_at_k:g})" if spec.min_recall_at_k is not None
                                                  else "")
                   + f", MRR {mrr:.2f}" + (f" (min {spec.min_mrr:g})" if spec.min_mrr is not None else ""))
        summary = f"{len(outcomes) - len(failed_queries)} of {len(outcomes)} queries passed; {figures}"
        reasons = [c.message for c in cases[len(outcomes):] if not c.passed]
        if failed_queries and (spec.all_queries_must_pass or not passed):
            reasons.insert(0, failure_message(failed_queries[0]))
        if not passed and reasons:
            summary += " -- " + "; ".join(reasons)
        details = {"kind": self.kind, "vector_store": str(spec.vector_store), "vector_store_id": store_id,
                   "top_k": k, "recall_at_k": round(recall, 4), "mrr": round(mrr, 4),
                   "min_recall_at_k": spec.min_recall_at_k, "min_mrr": spec.min_mrr,
                   "all_queries_must_pass": spec.all_queries_must_pass,
                   "queries": [query_dict(o) for o in outcomes]}
        return CheckResult(str(res.address), passed, summary, details, cases)


def known_files(ctx: RunContext) -> Known:
    ids, names = {}, {}
    for address, rs in ctx.state.state.resources.items():
        if rs.kind == FileType.type:
            ids[address] = rs.id
            names[address] = str(rs.attrs.get("filename") or address)
    return Known(ids, names)


async def wait_ingested(ctx: RunContext, store: Address, store_id: str, timeout_s: float) -> str | None:
    """Wait (bounded, shown) until the store has no file in progress. None when it is ready, else
    why the checks do not run."""
    from ocigen_iac.api import NotFound
    from ocigen_iac.clock import Backoff

    backoff = Backoff(ctx.clock, first=0.2, cap=2.0, timeout_s=timeout_s)
    shown: int | None = None
    while True:
        try:
            live = (await ctx.api().get_vector_store(store_id)).model_dump()
        except NotFound:
            return f"{store} ({store_id}) does not exist on the service; run apply"
        status = live.get("status")
        counts = live.get("file_counts") or {}
        busy, total = int(counts.get("in_progress") or 0), int(counts.get("total") or 0)
        if status == "expired":
            return f"{store} ({store_id}) has expired; run apply to re-create it"
        if not busy and status != "in_progress":
            return None
        if busy != shown:
            ctx.reporter.line(f"{store}: waiting for ingestion before searching: {busy} of {total} file(s) in progress")
            shown = busy
        ctx.reporter.ingestion(str(store), total - busy, total)
        if backoff.expired:
            return (f"{store}: ingestion still in progress after {timeout_s:g}s ({busy} of {total} file(s)); not "
                    "searched, since a half-ingested store gives misleading results. Run `ocigen-iac check` later, "
                    "or raise spec.ingestion_timeout")
        await backoff.wait()


async def run_query(ctx: RunContext, store_id: str, q: Query, known: Known) -> QueryOutcome:
    from ocigen_iac.api import ApiError, NotFound
    from ocigen_iac.clock import Backoff

    started = ctx.clock.monotonic()
    backoff = Backoff(ctx.clock, first=0.2, cap=3.0, timeout_s=DATA_PLANE_WAIT_S)
    while True:
        try:
            page: dict[str, Any] = await ctx.api().search(store_id, q.text, **q.search_args())
            data = page.get("data")
            outcome = evaluate(q, data if isinstance(data, list) else [], known)
            break
        except NotFound as exc:
            if backoff.expired:
                outcome = QueryOutcome(q, error=str(exc))
                break
            await backoff.wait()
        except ApiError as exc:
            outcome = QueryOutcome(q, error=str(exc))
            break
    outcome.seconds = ctx.clock.monotonic() - started
    return outcome


register(RetrievalCheckDocument())
