"""Officers link their Telegram account for content-free urgent alerts (being built)."""

from __future__ import annotations

from aiogram import Router

router = Router(name="officer_link")
