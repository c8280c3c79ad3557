"""What the kinds on the native OCI APIs share (Project, VectorStoreConnector, ObjectStorageObjects):
the SDK clients of the run, validation of the credentials and the compartment before any call,
ownership freeform tags, lifecycle waits and camelCase request bodies.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ocigen_iac.errors import PlanError

if TYPE_CHECKING:
    from ocigen_iac.api.oci_sdk import SdkClients
    from ocigen_iac.engine.context import RunContext
    from ocigen_iac.manifest.parse import ParsedDoc
    from ocigen_iac.manifest.resolve import Resolver

MAX_TAG_VALUE = 256  # OCI freeform tag values
LIFECYCLE_WAIT_S = 900.0  # a project or connector leaving CREATING/UPDATING/DELETING
GONE_STATES = ("DELETING", "DELETED")


def sdk(ctx: RunContext) -> SdkClients:
    """The run's SDK clients (built on first use; `oci` is imported then)."""
    clients = ctx.extras.get("oci_sdk")
    if clients is None:
        from ocigen_iac.api.oci_sdk import SdkClients

        local_key = None
        if ctx.settings.local:
            from ocigen_iac.engine.runner import LOCAL_API_KEY

            local_key = LOCAL_API_KEY
        clients = ctx.extras["oci_sdk"] = SdkClients(ctx.settings, local_key)
    return clients


def check_credentials(doc: ParsedDoc, r: Resolver) -> None:
    """Once per validation: these kinds sign with IAM; say before any call if that cannot work."""
    if r.settings is None or r.settings.local or r.scratch.get("oci_credentials_checked"):
        return
    r.scratch["oci_credentials_checked"] = True
    from ocigen_iac.api.oci_sdk import profile_problem

    problem = profile_problem(r.settings)
    if problem:
        r.error(doc, doc.start, f"{doc.kind} {doc.name!r} calls IAM-signed OCI APIs, but {problem}",
                "set auth.profile / auth.config_file in ocigen.yaml to an OCI API-key profile (or use an IAM "
                "auth.type), or use --local to run against the embedded emulator")


def compartment(doc: ParsedDoc, r: Resolver, declared: str | None) -> str | None:
    """The compartment of a control-plane object: its own, else ocigen.yaml's (the emulator's
    under --local); None (with a diagnostic) when there is none."""
    if declared:
        return declared
    settings = r.settings
    if settings is not None and settings.compartment:
        return settings.compartment
    if settings is not None and settings.local:
        from ocigen_iac.engine.runner import LOCAL_COMPARTMENT

        return LOCAL_COMPARTMENT
    r.error(doc, doc.pos("spec"), f"{doc.kind} {doc.name!r} needs a compartment",
            "set spec.compartment, or compartment: in ocigen.yaml (or OCIGEN_COMPARTMENT)")
    return None


def tag_value(owner_tag: str) -> str:
    """An ownership tag that fits an OCI freeform tag value (long ones keep a digest of the rest)."""
    if len(owner_tag) <= MAX_TAG_VALUE:
        return owner_tag
    digest = hashlib.sha256(owner_tag.encode()).hexdigest()[:16]
    return owner_tag[: MAX_TAG_VALUE - 17] + "~" + digest


def merged_tags(declared: dict[str, str], previous: dict[str, str], live: dict[str, str] | None,
                own_key: str, own_value: str) -> dict[str, str]:
    """The whole freeform tag map to send (the API replaces it): tags nobody here manages are kept
    as they are, declared ones win, the ownership tag is always set."""
    managed = set(declared) | set(previous) | {own_key}
    keep = {k: v for k, v in (live or {}).items() if k not in managed}
    return {**keep, **declared, own_key: own_value}


_CAMEL = re.compile(r"_([a-z0-9])")


def camel_key(key: str) -> str:
    return _CAMEL.sub(lambda m: m.group(1).upper(), key)


def camel(value: Any) -> Any:
    """snake_case keys (the manifests, as the SDK and Terraform spell them) -> the API's camelCase."""
    if isinstance(value, dict):
        return {camel_key(k): camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [camel(v) for v in value]
    return value


def strip_nones(value: Any) -> Any:
    """Drop None members, recursively (what the SDK's to_dict leaves for unset fields)."""
    if isinstance(value, dict):
        return {k: strip_nones(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [strip_nones(v) for v in value]
    return value


async def wait_lifecycle(ctx: RunContext, what: str, get: Callable[[], Awaitable[dict[str, Any] | None]],
                         done: tuple[str, ...], *, first: dict[str, Any] | None = None,
                         timeout_s: float = LIFECYCLE_WAIT_S) -> dict[str, Any] | None:
    """Poll `get()` until its lifecycle_state is in `done` (bounded). None when it is gone (404)."""
    from ocigen_iac.clock import Backoff

    backoff = Backoff(ctx.clock, first=0.1, cap=5.0, timeout_s=min(ctx.poll_timeout_s, timeout_s))
    live = first if first is not None else await get()
    while live is not None and live.get("lifecycle_state") not in done:
        if live.get("lifecycle_state") == "FAILED" and "FAILED" not in done:
            raise PlanError(f"{what} is FAILED: {live.get('lifecycle_details') or 'no details given'}")
        if backoff.expired:
            raise PlanError(f"{what} is still {live.get('lifecycle_state')} after "
                            f"{min(ctx.poll_timeout_s, timeout_s):.0f} s; run apply again later")
        await backoff.wait()
        live = await get()
    return live


async def delete_and_wait(ctx: RunContext, wait: Callable[..., Awaitable[dict[str, Any] | None]], object_id: str,
                          operation: str) -> str | None:
    """Delete a control-plane object once it has settled (not mid-create or mid-update), then wait
    until it is DELETED; one already gone or deleting is only waited for. `wait(ctx, id, done,
    first=...)` is the kind's `wait_lifecycle`. A 404 on the way: a note, not a failure."""
    from ocigen_iac.api import NotFound

    try:
        live = await wait(ctx, object_id, ("ACTIVE", "FAILED", *GONE_STATES))
        if live is not None and live.get("lifecycle_state") not in GONE_STATES:
            await sdk(ctx).call("genai", operation, object_id)
            live = None  # read it again: the delete has only started
        await wait(ctx, object_id, ("DELETED",), first=live)
    except NotFound as exc:
        return f"already gone or not permitted ({exc.code or 404})"
    return None


def data(obj: Any) -> dict[str, Any]:
    """An SDK model (or list of them) as plain snake_case data."""
    from ocigen_iac.api.oci_sdk import to_data

    return to_data(obj)


def items(collection: Any) -> list[dict[str, Any]]:
    """The items of an SDK list response (a collection with `items`, or a plain list)."""
    converted = data(collection)
    return list(converted.get("items") or []) if isinstance(converted, dict) else list(converted or [])


async def create_with_retry_token(ctx: RunContext, rtype: Any, change: Any, operation: str, body: dict[str, Any],
                                  slim: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
    """A control-plane create sent with an `opc-retry-token` made for it: a create whose response
    is lost is sent again with the same token and answered with the object already made. The token
    is in `ctx.extras` before the intent is recorded, so the intent's fingerprint carries it."""
    import uuid

    token = uuid.uuid4().hex
    ctx.extras[("retry_token", str(change.address))] = token
    clients = sdk(ctx)

    async def send() -> dict[str, Any]:
        resp = await clients.call("genai", operation, body, opc_retry_token=token, create=True)
        return slim(data(resp.data))

    async def relist() -> dict[str, dict[str, Any]]:
        return await rtype.list_live(ctx, None)

    return await ctx.create_once(rtype, change, send, relist)


async def list_owned(ctx: RunContext, kind: str, operation: str, slim: Callable[[dict[str, Any]], dict[str, Any]],
                     *, page_size: int = 1000, max_pages: int = 100
                     ) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """Every live object of a control-plane kind in the compartments this run knows (ocigen.yaml's,
    and those of the objects and pending creates state holds), bounded in pages; and those of them
    worth a closer look: tracked by state, or carrying an ownership tag (adoption candidates)."""
    compartments = {ctx.settings.compartment} if ctx.settings.compartment else set()
    for rs in ctx.state.state.resources.values():
        if rs.kind == kind and rs.attrs.get("compartment_id"):
            compartments.add(rs.attrs["compartment_id"])
    for intent in ctx.state.state.intents.values():
        if intent.kind == kind and (intent.fingerprint.get("attrs") or {}).get("compartment_id"):
            compartments.add(intent.fingerprint["attrs"]["compartment_id"])
    clients = sdk(ctx)
    out: dict[str, dict[str, Any]] = {}
    for comp in sorted(compartments):
        page = None
        for _ in range(max_pages):
            resp = await clients.call("genai", operation, comp, limit=page_size, page=page)
            for item in items(resp.data):
                if item.get("lifecycle_state") != "DELETED":
                    out[item["id"]] = slim(item)
            page = resp.headers.get("opc-next-page")
            if not page:
                break
    tracked = {rs.id for rs in ctx.state.state.resources.values() if rs.kind == kind}
    key = ctx.settings.owner_tag_key
    return out, [o for o in out.values() if o["id"] in tracked or key in o["freeform_tags"]]
