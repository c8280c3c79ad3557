"""The CI version of `python -m benchmarks.run`: small sizes, deterministic figures only.

Request counts per live object, bytes read by a second plan, file-batch and per-file attach
calls of an apply, and `oci` staying unimported by `--version` / `validate`. Wall times are not
checked here (CI machines are shared); the full benchmark in benchmarks/run.py checks them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import scenarios
from benchmarks.common import Results


def _check(results: Results) -> None:
    checked = [f for f in results.figures if f.deterministic]
    assert checked, "no deterministic figure was measured"
    failed = [f"{f.name}: measured {f.measured}, target {f.target}" for f in checked if not f.ok]
    assert not failed, "\n".join(failed)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_noop_plan_requests_and_hash_cache(tmp_path: Path) -> None:
    results = Results()
    out = scenarios.noop_plan(results, tmp_path, scenarios.NoopSizes(files=500, stores=2, containers=2, repeats=1),
                              wall_targets=False, min_live_per_request=60)
    _check(results)
    names = " ".join(f.name for f in results.figures)
    assert "second plan" in names and "live objects per request" in names
    assert out["requests"] <= 3 + 2 + 2 * (5 + 2)


def test_apply_uses_file_batches(tmp_path: Path) -> None:
    results = Results()
    scenarios.apply_new_files(results, tmp_path, files=120, wall_targets=False)
    _check(results)


def test_startup_does_not_import_oci(tmp_path: Path) -> None:
    results = Results()
    scenarios.startup(results, tmp_path, repeats=1, wall_targets=False)
    _check(results)
