"""The CI version of `python -m benchmarks.vs_sdk`: a tiny store, no injected latency, and only the
figures that do not depend on the machine: request counts, and that ocigen-iac and the SDK script
agree on what an edit changes and on what the store holds afterwards. No timing is checked.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from benchmarks.vs_sdk import OcigenSide, SdkSide, SideRun, VsSdkSizes, edited_indices, run_side

SIZES = VsSdkSizes(docs=30, doc_bytes=2000, edits=5, latencies_ms=(0.0,), repeats=1)
UPLOAD = "POST /openai/v1/files"
DELETE_FILE = "DELETE /openai/v1/files/{id}"
DETACH = "DELETE /openai/v1/vector_stores/{id}/files/{file_id}"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, SideRun]:
    work: Path = tmp_path_factory.mktemp("vs-sdk")
    return {"ocigen-iac": run_side(OcigenSide, work, SIZES, 0.0), "sdk": run_side(SdkSide, work, SIZES, 0.0)}


def test_both_sides_see_the_same_edit_and_end_with_the_same_store(runs: dict[str, SideRun]) -> None:
    edited = {f"f{i:05d}.md" for i in edited_indices(SIZES)}
    assert runs["ocigen-iac"].changed == runs["sdk"].changed == edited
    assert runs["ocigen-iac"].final == runs["sdk"].final
    assert len(runs["sdk"].final) == SIZES.docs


def test_noop_check_requests(runs: dict[str, SideRun]) -> None:
    store_pages = math.ceil(SIZES.docs / 100)
    # the SDK script: one page of files (10,000 per page) and the store's files, 100 per page
    assert runs["sdk"].samples["C"].requests == 1 + store_pages
    # ocigen-iac: at most one page each of files, stores and containers, plus the store's files
    assert runs["ocigen-iac"].samples["C"].requests <= 3 + store_pages
    for side in runs.values():
        assert not any(k.startswith(("POST", "DELETE")) for k in side.samples["C"].routes), side.samples["C"].routes


@pytest.mark.parametrize("side", ["ocigen-iac", "sdk"])
def test_resync_uploads_and_deletes_only_the_edited_documents(runs: dict[str, SideRun], side: str) -> None:
    routes = runs[side].samples["B"].routes
    assert routes.get(UPLOAD) == SIZES.edits
    assert routes.get(DELETE_FILE) == SIZES.edits
    assert routes.get(DETACH, 0) <= SIZES.edits


def test_resync_waits_for_processing_by_reading_only_the_new_files(runs: dict[str, SideRun]) -> None:
    routes = runs["ocigen-iac"].samples["B"].routes
    assert routes.get("GET /openai/v1/files") == 1, routes  # the refresh's one listing, no re-listing per poll
    assert routes.get("GET /openai/v1/files/{id}", 0) >= SIZES.edits, routes


def test_new_store_uploads_every_document_once(runs: dict[str, SideRun]) -> None:
    for side in runs.values():
        assert side.samples["A"].routes.get(UPLOAD) == SIZES.docs


def test_the_lenient_comparison_uses_the_sdks_own_upload_and_poll(tmp_path: Path) -> None:
    lenient = VsSdkSizes(docs=12, doc_bytes=500, edits=2, latencies_ms=(0.0,), repeats=1, lenient=True)
    sdk = run_side(SdkSide, tmp_path, lenient, 0.0)
    assert len(sdk.final) == lenient.docs and sdk.changed == {f"f{i:05d}.md" for i in edited_indices(lenient)}
    # upload_and_poll polls the batch, never the files; the strict path waits on each file
    assert not any(k.startswith("GET /openai/v1/files/{id}") for k in sdk.samples["A"].routes), sdk.samples["A"].routes
