"""`python -m sandbox --host 127.0.0.1 --port 8081`: run the Telegram Bot API emulator."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging

from sandbox.eventloop import run
from sandbox.runner import start_sandbox


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m sandbox", description="TinBáo Telegram Bot API sandbox")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", action="append", default=[], help="pre-create a bot world for this token")
    parser.add_argument("--verbose", action="store_true", help="log each Bot API method and status")
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    """Run until cancelled."""
    sandbox = await start_sandbox(args.host, args.port, tokens=args.token)
    print(f"TinBáo sandbox listening on {sandbox.base_url}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await sandbox.stop()


def main(argv: list[str] | None = None) -> None:
    """Entry point."""
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(name)s %(message)s"
    )
    with contextlib.suppress(KeyboardInterrupt):
        run(serve(args))


if __name__ == "__main__":
    main()
