"""Welcome, help, privacy, language and cancel: the commands that work from anywhere."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import SUPPORTED_LOCALES, _, set_locale
from bot.recent import RecentCache
from handlers.keyboards import all_menu_labels, inline, main_menu
from handlers.states import ReportForm
from handlers.texts import emergency_text, help_text
from storage.reporters import ReporterRef, set_reporter_locale
from storage.subscribers import set_subscriber_locale

router = Router(name="start")


@router.message(CommandStart())
async def start(message: Message, state: FSMContext) -> None:
    """Greet the citizen, promise privacy in one line, show emergency numbers and the menu."""
    await state.clear()
    text = "\n\n".join(
        [
            _("Hello! This is <b>TinBáo</b>, a safe way to send tips about crime and violations to the police."),
            _("You can stay anonymous. We never keep your name, phone number or Telegram account. Details: /privacy"),
            emergency_text(),
            _("Choose an action below."),
        ]
    )
    await message.answer(text, reply_markup=main_menu())


@router.message(Command("help"))
@router.message(F.text.in_(all_menu_labels("help")))
async def show_help(message: Message) -> None:
    """List the commands."""
    await message.answer(help_text(), reply_markup=main_menu())


@router.message(Command("privacy"))
@router.message(F.text.in_(all_menu_labels("privacy")))
async def show_privacy(message: Message) -> None:
    """Explain plainly what is kept at each anonymity level, and what Telegram itself can see."""
    text = "\n\n".join(
        [
            _("<b>How we protect you</b>"),
            _(
                "• <b>Anonymous</b>: nothing links your tip to your Telegram account. "
                "Officers' answers can only be read with /status and your receipt code."
            ),
            _(
                "• <b>Anonymous with follow-up</b> (default): we keep your chat address encrypted so the bot can "
                "send you officers' questions. Officers see only a code name, never your account."
            ),
            _(
                "• <b>Identified</b>: the name and phone you choose to share are shown to authorised officers, "
                "and every view is recorded."
            ),
            _(
                "We never store your Telegram id, username, name or phone in readable form, "
                "and we never write your messages to logs."
            ),
            _(
                "Be aware: Telegram itself can see that your account talked to this bot. "
                "Photos sent as files may contain the place and the phone model; send them as photos."
            ),
            _("Your receipt code is the only key to your tip. Keep it secret."),
        ]
    )
    await message.answer(text)


@router.message(Command("language"))
@router.message(F.text.in_(all_menu_labels("language")))
async def choose_language(message: Message) -> None:
    """Offer the two languages."""
    await message.answer(
        _("Choose your language:"),
        reply_markup=inline([[("Tiếng Việt", "lang:vi"), ("English", "lang:en")]]),
    )


@router.callback_query(F.data.startswith("lang:"))
async def set_language(
    callback: CallbackQuery,
    session: AsyncSession,
    reporter: ReporterRef,
    known_reporters: RecentCache[bytes, ReporterRef] | None,
) -> None:
    """Switch the citizen's language and show the menu in it."""
    locale = (callback.data or "").split(":", 1)[1]
    if locale not in SUPPORTED_LOCALES:
        await callback.answer(_("This button has expired."))
        return
    await set_reporter_locale(session, reporter_id=reporter.id, locale=locale)
    await set_subscriber_locale(session, reporter_id=reporter.id, locale=locale)
    if known_reporters is not None:
        known_reporters.forget(reporter.key_hash)  # the next update reads the new language
    set_locale(locale)
    await callback.answer()
    if callback.message is not None:
        await callback.message.answer(_("Language set to English."), reply_markup=main_menu())


@router.message(Command("cancel"))
async def cancel(message: Message, state: FSMContext) -> None:
    """Leave any flow; say so plainly."""
    # After a tip was sent the conversation only keeps the range to delete; nothing is in progress.
    had_flow = await state.get_state() not in (None, ReportForm.submitted.state)
    await state.clear()
    text = _("Cancelled. Nothing was sent.") if had_flow else _("There is nothing to cancel.")
    await message.answer(text, reply_markup=main_menu())
