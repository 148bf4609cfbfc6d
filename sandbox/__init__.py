"""TinBáo sandbox: our own Telegram Bot API emulator with a control API for tests and demos."""

from sandbox.app import create_sandbox_app
from sandbox.runner import RunningSandbox, start_sandbox

__all__ = ["RunningSandbox", "create_sandbox_app", "start_sandbox"]
