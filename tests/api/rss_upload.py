"""Run in a subprocess by test_rss.py: upload one file through GenAIClient and report peak RSS.

Usage: python -m tests.api.rss_upload URL_INFERENCE URL_MGMT FILE AUTH [CONFIG PROFILE]
The API key (api_key auth) comes from $RSS_TEST_KEY. Prints one JSON line:
{"baseline_kb": VmHWM after warm-up, "peak_kb": VmHWM after the upload, "file_id": ...}.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from ocigen_iac.api import ClientOptions, GenAIClient
from ocigen_iac.settings import AuthSettings, Settings


def vm_hwm_kb() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


async def main() -> None:
    inf, mgmt, path, auth = sys.argv[1:5]
    cfg, profile = (sys.argv[5], sys.argv[6]) if len(sys.argv) > 6 else ("~/.oci/config", "DEFAULT")
    settings = Settings(
        root=Path("."), env="rss", project="ocid1.generativeaiproject.oc1..rss",
        compartment="ocid1.compartment.oc1..rss", inference_base=inf, vector_store_base=mgmt,
        auth=AuthSettings(type=auth, profile=profile, config_file=cfg),  # type: ignore[arg-type]
    )
    key = os.environ.get("RSS_TEST_KEY") if auth == "api_key" else None
    async with GenAIClient(settings, ClientOptions(max_attempts=1), api_key=key) as c:
        # warm-up: load every code path (incl. signing and the upload machinery) with a small file
        small = Path(path).with_name("warmup.txt")
        small.write_bytes(b"warm-up\n" * 1000)
        await c.create_file(small, purpose="assistants", filename="warmup.txt")
        baseline = vm_hwm_kb()
        f = await c.create_file(Path(path), purpose="assistants", filename=Path(path).name)
        peak = vm_hwm_kb()
        print(json.dumps({"baseline_kb": baseline, "peak_kb": peak, "file_id": f.id, "bytes": f.bytes,
                          "uploaded": c.stats["bytes_uploaded"]}))


if __name__ == "__main__":
    asyncio.run(main())
