"""The last router: hints for unknown input, expired buttons, and a polite answer to any failure."""

from __future__ import annotations

import logging
import traceback
from contextlib import suppress

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import CallbackQuery, ErrorEvent, Message

from bot.i18n import _
from handlers.keyboards import main_menu
from storage.errors import DomainError

logger = logging.getLogger(__name__)
router = Router(name="errors")


@router.message(F.sticker)
async def sticker(message: Message) -> None:
    """Stickers carry no information for a tip."""
    await message.answer(_("Stickers cannot be used here. Please use the buttons or type a message."))


@router.message(F.text.startswith("/"))
async def unknown_command(message: Message) -> None:
    """A command we do not have."""
    await message.answer(_("Unknown command. Send /help to see what you can do."), reply_markup=main_menu())


@router.message()
async def unknown_input(message: Message) -> None:
    """Anything else outside a flow gets a short hint, never silence."""
    await message.answer(
        _("I did not understand. Use the buttons below, or send /report to send a tip."), reply_markup=main_menu()
    )


@router.callback_query()
async def expired_button(callback: CallbackQuery) -> None:
    """A button from an old message, or from a flow that has ended."""
    await callback.answer(_("This button has expired. Send /start to begin again."), show_alert=True)


@router.errors(ExceptionTypeFilter(DomainError))
async def domain_error(event: ErrorEvent) -> None:
    """A domain rule said no; the flows normally catch these first."""
    logger.info("domain error reached the error router: %s", type(event.exception).__name__)
    await _apologise(event)


@router.errors()
async def unexpected_error(event: ErrorEvent) -> None:
    """Log the failure (type, update id and frames only) and apologise; the draft is kept in storage."""
    # The exception's message may quote what the citizen typed, so only its type and frames are logged.
    frames = "".join(traceback.format_tb(event.exception.__traceback__))
    logger.error("update %s failed: %s\n%s", event.update.update_id, type(event.exception).__name__, frames)
    await _apologise(event)


async def _apologise(event: ErrorEvent) -> None:
    text = _("Sorry, something went wrong on our side. What you entered is kept. Please try again.")
    # The apology must never fail itself: an old callback query can no longer be answered.
    with suppress(TelegramBadRequest):
        if event.update.message is not None:
            await event.update.message.answer(text)
        elif event.update.callback_query is not None:
            await event.update.callback_query.answer(text, show_alert=True)
