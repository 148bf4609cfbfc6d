"""The FastAPI application: health check, Telegram webhook, and (later) the officer API."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import text

from admin_api.routes.telegram import webhook_router
from bot.context import AppContext


def create_app(context: AppContext) -> FastAPI:
    """One ASGI app serving /healthz and the webhook route."""
    app = FastAPI(title="TinBáo", version="0.1.0", docs_url="/docs", redoc_url=None)
    app.include_router(webhook_router(context))

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        """Liveness plus a database round trip."""
        async with context.sessions() as session:
            await session.execute(text("SELECT 1"))
        return {"status": "ok"}

    return app
