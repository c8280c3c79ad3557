"""Connection options shared by the stand-alone comparison scripts (`sdk_sync.py`,
`bare_listing.py`). Those run as `python benchmarks/<script>.py`, beside this file, so they import
it as a sibling module; like them, it depends on nothing from ocigen-iac."""

from __future__ import annotations

import argparse


def add_connection_args(ap: argparse.ArgumentParser) -> None:
    """Where the service is and how to reach it (vector store create/list/get live on the
    management base, everything else on the inference base)."""
    ap.add_argument("--inference-base", required=True)
    ap.add_argument("--management-base", required=True)
    ap.add_argument("--project", required=True)
    ap.add_argument("--compartment", required=True)
    ap.add_argument("--api-key-env", default="OPENAI_API_KEY")
    ap.add_argument("--concurrency", type=int, default=8)
