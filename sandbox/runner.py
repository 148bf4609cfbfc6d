"""Run the sandbox in-process (tests, benchmarks, `tinbao run`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from aiohttp import web

from sandbox.app import create_sandbox_app, create_state
from sandbox.state import SandboxState

SHUTDOWN_TIMEOUT = 1.0


@dataclass
class RunningSandbox:
    """A sandbox server listening in the current event loop."""

    base_url: str
    state: SandboxState
    runner: web.AppRunner

    @property
    def port(self) -> int:
        """The TCP port actually bound."""
        return int(self.base_url.rsplit(":", 1)[1])

    async def stop(self) -> None:
        """Wake long-polls, stop webhook delivery and close the server."""
        await self.state.close()
        await self.runner.cleanup()

    async def __aenter__(self) -> RunningSandbox:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


async def start_sandbox(host: str = "127.0.0.1", port: int = 0, tokens: Iterable[str] = ()) -> RunningSandbox:
    """Start the sandbox on host:port (0 = any free port) and report the real address."""
    state = create_state(tokens)
    app = create_sandbox_app(state)
    # access_log=None: the default access log would print tokens and chat ids from URLs.
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    # With port=0 the OS picks the port; the runner's socket addresses tell which.
    bound_port = int(runner.addresses[0][1]) if runner.addresses else port
    return RunningSandbox(base_url=f"http://{host}:{bound_port}", state=state, runner=runner)
