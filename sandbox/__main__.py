"""`python -m sandbox --host 127.0.0.1 --port 8081`: run the Telegram Bot API emulator."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
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


def keep_collector_off_the_record() -> None:
    """Make Python's full garbage collections rare: the emulator keeps every chat's messages on purpose.

    The record of messages and requests grows for as long as the emulator runs, and each full collection
    walks all of it while every chat waits: measured in the intake benchmark at 18 ms growing to 165 ms by
    the end of one run, six times a run, pauses Telegram does not have and that were counted as the bot's
    reply latency. Young collections still free short-lived cycles; a full one now comes after some 500
    million allocations (minutes of heavy traffic) instead of at every quarter of growth.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 50, 1_000)


async def serve(args: argparse.Namespace) -> None:
    """Run until cancelled."""
    sandbox = await start_sandbox(args.host, args.port, tokens=args.token)
    keep_collector_off_the_record()
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
