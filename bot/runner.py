"""`tinbao run`: database, sandbox (without a token), bot and HTTP API, by role (all, web or worker)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal

from bot.commands import register_commands
from bot.config import BotMode, Settings
from bot.context import AppContext
from bot.factory import build_context
from bot.outbox import Outbox
from bot.roles import LeaderWorker, Role
from storage.migrate import upgrade_async

logger = logging.getLogger(__name__)
YOUNG_COLLECTION_THRESHOLD = 10_000  # allocations between young collections (CPython's default: 700)


def settle_heap() -> None:
    """Move everything start-up built (modules, models, the area directory) out of the garbage collector's way.

    Without this each full collection walks those long-lived objects again: measured at about 250 ms per
    collection in the intake benchmark, a pause of the whole event loop that set the p99 reply latency.
    Young collections are made rarer too: an update allocates thousands of short-lived objects that reference
    counting frees anyway, and at the default threshold (700) collections took ~4 % of the bot's CPU.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, 20, 20)


async def run(settings: Settings, role: Role = Role.ALL) -> None:
    """Start what the role runs and keep running until SIGINT/SIGTERM."""
    await upgrade_async(settings.effective_database_url)
    sandbox = None
    api_base = settings.telegram_api_base
    if settings.uses_sandbox and role.serves_web:
        from sandbox.runner import start_sandbox

        sandbox = await start_sandbox(host=settings.sandbox_host, port=settings.sandbox_port)
        api_base = sandbox.base_url
        logger.info("no TELEGRAM_BOT_TOKEN: Telegram sandbox at %s (chat with `make chat`)", sandbox.base_url)
    elif settings.uses_sandbox and api_base is None:
        # A worker without a token talks to the sandbox a web process started.
        api_base = f"http://{settings.sandbox_host}:{settings.sandbox_port}"
    context = build_context(settings, api_base=api_base)
    worker = LeaderWorker(context) if role.runs_worker else None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        if worker is not None:
            worker.start()
        if role.serves_web:
            await _serve_web(settings, context, stop, worker)
        else:
            logger.info("TinBáo worker is running (scheduler, campaign sender and alerts while it holds the lease)")
            await stop.wait()
    finally:
        logger.info("shutting down")
        if worker is not None:
            await worker.stop()
        await context.close()
        if sandbox is not None:
            await sandbox.stop()


async def _serve_web(settings: Settings, context: AppContext, stop: asyncio.Event, worker: LeaderWorker | None) -> None:
    """Intake (polling or webhook), the officer API and the outbox, until `stop` is set."""
    import uvicorn  # imported here so a worker process starts without the web stack

    from admin_api.app import create_app

    app = create_app(context)
    app.state.outbox = outbox = Outbox(context)  # routes wake it when they queue a message
    app.state.worker = worker  # in one process, campaign routes can poke the scheduler (else it re-syncs)
    server = uvicorn.Server(
        uvicorn.Config(app, host=settings.api_host, port=settings.api_port, log_config=None, access_log=False)
    )
    try:
        await register_commands(context.bot)
        outbox.start()
        server_task: asyncio.Task[None] = asyncio.create_task(server.serve())
        if settings.bot_mode is BotMode.WEBHOOK:
            secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
            await context.bot.set_webhook(
                f"{settings.webhook_url}",
                secret_token=secret,
                allowed_updates=["message", "callback_query"],
                max_connections=settings.webhook_max_connections,
            )
            logger.info("webhook mode: Telegram posts to the configured WEBHOOK_URL")
            bot_task: asyncio.Task[object] = asyncio.create_task(stop.wait())
        else:
            await context.bot.delete_webhook(drop_pending_updates=False)
            bot_task = asyncio.create_task(
                context.dispatcher.start_polling(
                    context.bot, handle_signals=False, allowed_updates=["message", "callback_query"]
                )
            )
        settle_heap()
        logger.info("TinBáo is running; API on http://%s:%d", settings.api_host, settings.api_port)
        stop_task = asyncio.create_task(stop.wait())
        done, _pending = await asyncio.wait({server_task, bot_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task is not stop_task and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
    finally:
        if settings.bot_mode is BotMode.POLLING:
            with contextlib.suppress(RuntimeError):
                await context.dispatcher.stop_polling()
        server.should_exit = True
        await outbox.stop()
        await asyncio.sleep(0.2)
