"""`tinbao run`: database, sandbox (without a token), bot and HTTP API in one process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

import uvicorn

from admin_api.app import create_app
from bot.alerts import AlertLoop
from bot.commands import register_commands
from bot.config import BotMode, Settings
from bot.factory import build_context
from bot.outbox import Outbox
from storage.migrate import upgrade_async

logger = logging.getLogger(__name__)


async def run(settings: Settings) -> None:
    """Start everything and run until SIGINT/SIGTERM."""
    await upgrade_async(settings.effective_database_url)
    sandbox = None
    api_base = settings.telegram_api_base
    if settings.uses_sandbox:
        from sandbox.runner import start_sandbox

        sandbox = await start_sandbox(host=settings.sandbox_host, port=settings.sandbox_port)
        api_base = sandbox.base_url
        logger.info("no TELEGRAM_BOT_TOKEN: Telegram sandbox at %s (chat with `make chat`)", sandbox.base_url)
    context = build_context(settings, api_base=api_base)
    app = create_app(context)
    app.state.outbox = outbox = Outbox(context)  # routes wake it when they queue a message
    alerts = AlertLoop(context)
    server = uvicorn.Server(
        uvicorn.Config(app, host=settings.api_host, port=settings.api_port, log_config=None, access_log=False)
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await register_commands(context.bot)
        outbox.start()
        alerts.start()
        server_task: asyncio.Task[None] = asyncio.create_task(server.serve())
        if settings.bot_mode is BotMode.WEBHOOK:
            secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
            await context.bot.set_webhook(
                f"{settings.webhook_url}", secret_token=secret, allowed_updates=["message", "callback_query"]
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
        logger.info("TinBáo is running; API on http://%s:%d", settings.api_host, settings.api_port)
        stop_task = asyncio.create_task(stop.wait())
        done, _pending = await asyncio.wait({server_task, bot_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task is not stop_task and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
    finally:
        logger.info("shutting down")
        await alerts.stop()
        if settings.bot_mode is BotMode.POLLING:
            with contextlib.suppress(RuntimeError):
                await context.dispatcher.stop_polling()
        server.should_exit = True
        await outbox.stop()
        await asyncio.sleep(0.2)
        await context.close()
        if sandbox is not None:
            await sandbox.stop()
