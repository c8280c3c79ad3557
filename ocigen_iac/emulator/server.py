"""EmulatorServer (uvicorn in a background thread, for tests and `--local`) and `serve` (blocking,
for `ocigen-iac emulator`; it prints where it listens once the socket accepts connections)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from typing import Any

import uvicorn

from .app import EmulatorApp
from .config import EmulatorConfig, Faults
from .core import Emulator
from .faults import DATA_PREFIX, MANAGEMENT_PREFIX


def _listen(host: str, port: int) -> socket.socket:
    """A listening, non-blocking socket (port 0 = any free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on accepted sockets whose proto is TCP
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def base_url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def banner(url: str) -> str:
    """The line `serve` prints: where the emulator listens and its two API bases."""
    return f"Emulator listening on {url}  data plane: {url}{DATA_PREFIX}  management: {url}{MANAGEMENT_PREFIX}"


def _uvicorn_config(app: EmulatorApp, host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http="h11",
        lifespan="off",
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=3,
        timeout_keep_alive=30,
    )


class _PromptServer(uvicorn.Server):
    """uvicorn's server, stopped as soon as `stop` asks.

    uvicorn notices `should_exit` on a 0.1 s tick, then sleeps another fixed 0.1 s after asking
    its connections to close. An embedded emulator is started and stopped by every `--local`
    command and by most tests, so those ticks were ~0.13 s of every stop. Here the main loop
    waits on an event `stop` sets, and shutdown polls the connections closing every 5 ms. It is
    as graceful as uvicorn's: a response in flight is finished, for up to
    `timeout_graceful_shutdown`; only the waiting is shorter.
    """

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None

    def request_exit(self) -> None:
        """From any thread: stop serving now."""
        self.should_exit = True  # before reading _loop: main_loop sets _loop, then checks should_exit
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already closed
                loop.call_soon_threadsafe(wake.set)

    async def main_loop(self) -> None:
        self._wake = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        while not await self.on_tick(0):  # counter 0: the Date header is renewed on every tick
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), 1.0)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()  # an idle keep-alive connection closes now, a busy one after its response
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.config.timeout_graceful_shutdown
        state = self.server_state
        while (state.connections or state.tasks) and loop.time() < deadline:
            await asyncio.sleep(0.005)
        for task in state.tasks:
            task.cancel(msg="the emulator is stopping")
        for server in self.servers:
            await server.wait_closed()
        await self.lifespan.shutdown()


class EmulatorServer:
    """A running emulator. `start()` returns once it accepts connections; `stop()` shuts it down
    (uvicorn, the ingest worker, the database). Usable as a context manager."""

    def __init__(self, config: EmulatorConfig, host: str = "127.0.0.1", port: int = 0) -> None:
        self.config = config
        self.host = host
        self.port = port
        self.emulator: Emulator | None = None
        self._server: _PromptServer | None = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> EmulatorServer:
        if self._thread is not None:
            return self
        self.emulator = Emulator(self.config)
        self.emulator.start()
        sock = _listen(self.host, self.port)
        self._sock = sock
        self.port = sock.getsockname()[1]
        self._server = _PromptServer(_uvicorn_config(EmulatorApp(self.emulator), self.host, self.port))
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="emulator-uvicorn", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the emulator did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.request_exit()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        if self.emulator is not None:
            self.emulator.stop()
            self.emulator = None
        self._server = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- addresses -----------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return base_url(self.host, self.port)

    @property
    def inference_base(self) -> str:
        """The data plane: files, vector-store files, batches, search, containers."""
        return self.url + DATA_PREFIX

    @property
    def management_base(self) -> str:
        """Vector-store create/list/retrieve/update/delete."""
        return self.url + MANAGEMENT_PREFIX

    # -- control -------------------------------------------------------------------------------
    def _emu(self) -> Emulator:
        if self.emulator is None:
            raise RuntimeError("the emulator is not running")
        return self.emulator

    def set_faults(self, faults: Faults) -> None:
        self._emu().set_faults(faults)

    def counters(self) -> dict[str, Any]:
        return self._emu().counters.snapshot()

    def reset_counters(self) -> None:
        self._emu().counters.reset()


def serve(config: EmulatorConfig, host: str = "127.0.0.1", port: int = 8080) -> None:
    """Run the emulator in the foreground until interrupted (Ctrl-C / SIGTERM). Prints `banner()`
    (with the real port when port is 0) once the socket listens, before serving."""
    sock = _listen(host, port)
    emu = Emulator(config)
    emu.start()
    try:
        print(banner(base_url(host, sock.getsockname()[1])), flush=True)
        uvicorn.Server(_uvicorn_config(EmulatorApp(emu), host, sock.getsockname()[1])).run(sockets=[sock])
    finally:
        emu.stop()
        sock.close()
