"""`ocigen-iac check`: run every declared check (retrieval checks, ...) against what state tracks.

State is opened read-only (as plan does); nothing is refreshed or changed: each document kind's
`run_checks` reads the ids it needs from state and calls the service itself.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from ocigen_iac.engine.refresh import apply_known_scope
from ocigen_iac.engine.report import Reporter
from ocigen_iac.resources import CheckResult

if TYPE_CHECKING:
    from ocigen_iac.engine.runner import RunOptions
    from ocigen_iac.manifest.desired import DesiredSet
    from ocigen_iac.settings import Settings


def run_check_suite(settings: Settings, desired: DesiredSet, opts: RunOptions,
                    reporter: Reporter | None = None) -> list[CheckResult]:
    from ocigen_iac.engine.runner import api_client, local_emulator, locked_state, make_context, run_declared_checks

    with local_emulator(settings) as settings, \
            locked_state(settings, "check", opts.lock_timeout_s, readonly=True) as sync:
        ctx = make_context(settings, sync, opts, reporter or Reporter(quiet=True))

        async def go() -> list[CheckResult]:
            async with api_client(settings, opts) as client:
                ctx.client = client
                ctx.set_scope(dict(ctx.scope))
                apply_known_scope(ctx)
                return await run_declared_checks(ctx, desired, None)

        return asyncio.run(go())
