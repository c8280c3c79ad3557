"""A --debug style run with a known API key: the key appears nowhere in stdout, stderr or log file.

The run happens in a subprocess with the debug log printed to stdout, every logger (httpx,
httpcore included) at DEBUG to stderr and to a log file, and errors printed with tracebacks.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from .conftest import API_KEY

ROOT = Path(__file__).resolve().parents[2]
WRONG_KEY = "sk-wrong-KNOWN-9876543210fedcba"

SCRIPT = r'''
import asyncio, logging, sys, traceback
from pathlib import Path
from ocigen_iac.api import ClientOptions, GenAIClient, ApiError
from ocigen_iac.settings import Settings

inf, mgmt, log_file, src = sys.argv[1:5]
logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
logging.getLogger().addHandler(logging.FileHandler(log_file))
settings = Settings(root=Path("."), env="dbg", project="ocid1.generativeaiproject.oc1..p",
                    compartment="ocid1.compartment.oc1..c", inference_base=inf, vector_store_base=mgmt)

async def main():
    opts = ClientOptions(debug_log=print, backoff_base_s=0.01)
    async with GenAIClient(settings, opts) as c:          # key from $OCI_GENAI_API_KEY
        print(repr(c))
        f = await c.create_file(Path(src), purpose="assistants", filename="a.txt")
        print([x.id async for x in c.iter_files()])
        vs = await c.create_vector_store({"name": "dbg"})
        await c.attach_file(vs.id, f.id)
        try:
            await c.get_file("file-does-not-exist")
        except ApiError as e:
            traceback.print_exc(); print(repr(e), e.__dict__)
        print(c.stats)
    async with GenAIClient(settings, opts, api_key=sys.argv[5]) as bad:
        try:
            await bad.get_file(f.id)
        except ApiError as e:
            traceback.print_exc(); print(str(e), repr(e), e.__dict__)

asyncio.run(main())
'''


def test_known_key_never_appears_in_output(start_emulator: Any, tmp_path: Path) -> None:
    # readiness waits are not what this test is about (it checks what the debug log shows)
    server = start_emulator(store_ready_delay_s=0, file_process_delay_s=0)
    src = tmp_path / "a.txt"
    src.write_text("hello")
    log_file = tmp_path / "debug.log"
    env = dict(os.environ, OCI_GENAI_API_KEY=API_KEY, PYTHONPATH=str(ROOT))
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, server.inference_base, server.management_base, str(log_file),
         str(src), WRONG_KEY],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    everything = out.stdout + out.stderr + log_file.read_text()
    # the run did log what it should
    assert "POST " + server.inference_base + "/files -> 200 in" in out.stdout
    assert "(attempt 1/6)" in out.stdout and "-> 404" in out.stdout and "-> 401" in out.stdout
    assert "authentication failed using api_key from the api_key argument" in out.stdout
    assert "HTTP Request: POST" in out.stderr  # httpx's own logging was on
    for secret in (API_KEY, WRONG_KEY):
        assert secret not in everything
        assert secret[3:20] not in everything
