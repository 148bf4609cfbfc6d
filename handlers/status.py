"""/status: open a tip with its receipt code, read officers' answers, add information."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.i18n import _
from handlers import status_view as view
from handlers.keyboards import all_menu_labels, main_menu
from handlers.states import StatusFlow
from handlers.status_media import attachment_of, may_carry_metadata
from storage.domain import MAX_FOLLOWUP_CHARS, TipStatus
from storage.errors import NotFound, TooManyAttempts
from storage.followup import (
    FOLLOWUP_MAX_FILES,
    ThrottlePolicy,
    TipClosed,
    TooManyFiles,
    WrongReceipt,
    add_followup,
    files_per_message,
    get_open_tip,
    open_tip_by_receipt,
)
from storage.models import utcnow
from storage.privacy import PrivacyKeys, looks_like_receipt
from storage.reporters import ReporterRef
from storage.tips import NewAttachment, tipster_thread

logger = logging.getLogger(__name__)
router = Router(name="status")

# Viewing links this account to the tip in FSM storage; keep that link short-lived.
VIEW_TTL = timedelta(minutes=30)
RECENT_ALBUMS = 5
OPEN_STATES = (StatusFlow.viewing.state, StatusFlow.adding.state)
NOT_COMMAND = ~F.text.startswith("/")


@dataclass(frozen=True, slots=True)
class OpenView:
    """The tip the citizen is looking at, as kept in FSM data."""

    tip_id: int
    token: str
    expired: bool


async def _current_view(state: FSMContext) -> OpenView | None:
    """The open view, or None outside viewing/adding."""
    if await state.get_state() not in OPEN_STATES:
        return None
    data = await state.get_data()
    try:
        tip_id = int(data["tip_id"])
        opened_at = datetime.fromisoformat(str(data["opened_at"]))
        token = str(data["view"])
    except (KeyError, TypeError, ValueError):
        return None
    return OpenView(tip_id=tip_id, token=token, expired=utcnow() - opened_at > VIEW_TTL)


def _minutes(seconds: int) -> int:
    return max(1, math.ceil(seconds / 60))


def _blocked_text(retry_after: int) -> str:
    return _("Too many tries. Please try again in about {minutes} minutes.").format(minutes=_minutes(retry_after))


def _policy(reporter: ReporterRef, keys: PrivacyKeys, settings: Settings) -> ThrottlePolicy:
    return ThrottlePolicy(
        key_hash=keys.state_hash("receipt", reporter.key_hash.hex()),
        limit=settings.status_max_attempts,
        window=timedelta(seconds=settings.status_window_seconds),
    )


async def _ask_code(bot: Bot, chat_id: int, state: FSMContext, *, expired: bool = False) -> None:
    """Forget any open view and ask for the code."""
    await state.clear()
    await state.set_state(StatusFlow.code)
    text = view.ask_code_text()
    if expired:
        minutes = int(VIEW_TTL.total_seconds() // 60)
        text = _("For your safety, a tip view closes after {minutes} minutes.").format(minutes=minutes) + "\n" + text
    await bot.send_message(chat_id, text)


async def _send_view(bot: Bot, chat_id: int, session: AsyncSession, tip_id: int, token: str) -> None:
    """Send the status summary and the thread, buttons on the last message."""
    tip = await get_open_tip(session, tip_id=tip_id)
    thread = await tipster_thread(session, tip_id=tip_id)
    texts = view.view_texts(tip, thread, await files_per_message(session, tip_id=tip_id))
    for index, text in enumerate(texts):
        markup = view.view_keyboard(token) if index == len(texts) - 1 else None
        await bot.send_message(chat_id, text, reply_markup=markup)


async def _try_code(
    message: Message,
    code: str,
    *,
    session: AsyncSession,
    state: FSMContext,
    reporter: ReporterRef,
    keys: PrivacyKeys,
    settings: Settings,
    bot: Bot,
) -> None:
    """Check a typed code: shape first (free), then the throttle, then the lookup."""
    if not looks_like_receipt(code):
        await state.set_state(StatusFlow.code)
        await message.answer(view.code_shape_text())
        return
    policy = _policy(reporter, keys, settings)
    try:
        tip = await open_tip_by_receipt(session, keys=keys, code=code, policy=policy)
    except TooManyAttempts as blocked:
        await state.set_state(StatusFlow.code)
        await message.answer(_blocked_text(blocked.retry_after))
        return
    except WrongReceipt as wrong:
        await state.set_state(StatusFlow.code)
        # The same words for every wrong code: nothing here may hint that a similar code exists.
        text = _("No tip could be opened with this code. Check it and try again.")
        if wrong.tries_left:
            text += "\n" + _("Tries left in the next {minutes} minutes: {count}.").format(
                minutes=_minutes(settings.status_window_seconds), count=wrong.tries_left
            )
        else:
            text += "\n" + _blocked_text(settings.status_window_seconds)
        await message.answer(text)
        return
    token = view.new_view_token()
    await state.set_state(StatusFlow.viewing)
    await state.set_data({"tip_id": tip.id, "opened_at": utcnow().isoformat(), "view": token})
    logger.info("status view opened for tip %d", tip.id)
    await _send_view(bot, message.chat.id, session, tip.id, token)


@router.message(Command("status"))
@router.message(F.text.in_(all_menu_labels("status")))
async def start_status(
    message: Message,
    session: AsyncSession,
    state: FSMContext,
    reporter: ReporterRef,
    keys: PrivacyKeys,
    settings: Settings,
    bot: Bot,
    command: CommandObject | None = None,
) -> None:
    """Ask for the receipt code, or check it at once when it came with the command."""
    await state.clear()
    if command is not None and command.args:
        await _try_code(
            message,
            command.args,
            session=session,
            state=state,
            reporter=reporter,
            keys=keys,
            settings=settings,
            bot=bot,
        )
        return
    await _ask_code(bot, message.chat.id, state)


@router.message(StatusFlow.code, F.text, NOT_COMMAND)
@router.message(StatusFlow.viewing, F.text, NOT_COMMAND, F.text.func(looks_like_receipt))
async def got_code(
    message: Message,
    session: AsyncSession,
    state: FSMContext,
    reporter: ReporterRef,
    keys: PrivacyKeys,
    settings: Settings,
    bot: Bot,
) -> None:
    """A typed receipt code (also while viewing: the citizen may open another tip)."""
    await state.clear()
    await _try_code(
        message,
        message.text or "",
        session=session,
        state=state,
        reporter=reporter,
        keys=keys,
        settings=settings,
        bot=bot,
    )


@router.message(StatusFlow.code, ~F.text)
async def code_not_text(message: Message) -> None:
    """A photo, sticker or anything else where the code is expected."""
    await message.answer(view.code_shape_text())


@router.message(StatusFlow.viewing, ~(F.text.startswith("/")))
async def viewing_other(message: Message, state: FSMContext, bot: Bot) -> None:
    """Input while the view is open: point at the buttons."""
    current = await _current_view(state)
    if current is None or current.expired:
        await _ask_code(bot, message.chat.id, state, expired=current is not None)
        return
    await message.answer(
        _('To add information, press "➕ Add information" under your tip. To leave, press "✖ Close" or /cancel.')
    )


@router.callback_query(F.data.startswith(f"{view.CALLBACK_PREFIX}:"))
async def status_button(callback: CallbackQuery, session: AsyncSession, state: FSMContext, bot: Bot) -> None:
    """Buttons of a view; a button from another or an older view does nothing."""
    parts = (callback.data or "").split(":")
    current = await _current_view(state)
    chat = callback.message.chat if callback.message is not None else None
    if len(parts) != 3 or current is None or parts[2] != current.token or chat is None:
        await callback.answer(_("This button has expired. Send /status to open your tip again."), show_alert=True)
        return
    await callback.answer()
    await _drop_buttons(callback)
    if current.expired:
        await _ask_code(bot, chat.id, state, expired=True)
        return
    action = parts[1]
    if action == "close":
        await state.clear()
        await bot.send_message(
            chat.id, _("Tip view closed. To see it again, send /status and your code."), reply_markup=main_menu()
        )
    elif action == "add":
        await _start_adding(bot, chat.id, session, state, current)
    elif action in ("refresh", "done"):
        await state.set_state(StatusFlow.viewing)
        await _send_view(bot, chat.id, session, current.tip_id, current.token)


async def _drop_buttons(callback: CallbackQuery) -> None:
    """Take the buttons off the pressed message, so the chat shows only live ones."""
    if isinstance(callback.message, Message):
        try:
            await callback.message.edit_reply_markup(reply_markup=None)
        except TelegramBadRequest:
            logger.debug("could not remove buttons from a status message")


async def _start_adding(bot: Bot, chat_id: int, session: AsyncSession, state: FSMContext, current: OpenView) -> None:
    """Enter adding mode, unless the tip is closed."""
    tip = await get_open_tip(session, tip_id=current.tip_id)
    if tip.status is TipStatus.CLOSED:
        await bot.send_message(chat_id, _closed_text(), reply_markup=view.view_keyboard(current.token))
        return
    await state.set_state(StatusFlow.adding)
    await bot.send_message(
        chat_id,
        _(
            "Send text, photos, videos, files or voice messages. Each one is added to your tip at once.\n"
            "Press Done when you have finished."
        ),
        reply_markup=view.done_keyboard(current.token),
    )


def _closed_text() -> str:
    return _(
        "This tip is closed, so no more information can be added to it. "
        "If you know something new, please send a new tip with /report."
    )


@router.message(StatusFlow.adding, F.text, NOT_COMMAND)
async def add_text(
    message: Message, session: AsyncSession, state: FSMContext, bot: Bot, flooding: bool = False
) -> None:
    """Store one text right away."""
    text = message.text or ""
    if len(text) > MAX_FOLLOWUP_CHARS:
        await message.answer(
            _(
                "This message is too long ({length} characters). The limit is {limit} characters. "
                "Please send it in shorter parts. What you added before is kept."
            ).format(length=len(text), limit=MAX_FOLLOWUP_CHARS)
        )
        return
    if not text.strip():
        await message.answer(_("This message is empty. Please type your information."))
        return
    await _store(message, session, state, bot, body=text, attachment=None, flooding=flooding)


@router.message(StatusFlow.adding, F.sticker)
async def add_sticker(message: Message) -> None:
    """Stickers are not information."""
    await message.answer(
        _(
            "Stickers cannot be added to a tip. "
            "Please send text, photos, videos, files or voice messages, or press Done."
        )
    )


@router.message(StatusFlow.adding, ~(F.text.startswith("/")))
async def add_file(
    message: Message, session: AsyncSession, state: FSMContext, bot: Bot, flooding: bool = False
) -> None:
    """Store one file (with its caption), or explain what can be added."""
    attachment = attachment_of(message)
    if attachment is None:
        await message.answer(
            _("This kind of message cannot be added. Please send text, photos, videos, files or voice messages.")
        )
        return
    await _store(message, session, state, bot, body=message.caption or "", attachment=attachment, flooding=flooding)


async def _store(
    message: Message,
    session: AsyncSession,
    state: FSMContext,
    bot: Bot,
    *,
    body: str,
    attachment: NewAttachment | None,
    flooding: bool,
) -> None:
    """Add one item to the open tip and acknowledge it (once per album, never while flooding)."""
    current = await _current_view(state)
    if current is None or current.expired:
        await _ask_code(bot, message.chat.id, state, expired=current is not None)
        await message.answer(_("Then send this again: it was not added."))
        return
    try:
        stored = await add_followup(
            session, tip_id=current.tip_id, body=body, attachments=(attachment,) if attachment else ()
        )
    except TipClosed:
        await state.set_state(StatusFlow.viewing)
        await message.answer(_closed_text(), reply_markup=view.view_keyboard(current.token))
        return
    except TooManyFiles:
        await message.answer(
            _("This tip already has {limit} files, the most it can take. You can still send text.").format(
                limit=FOLLOWUP_MAX_FILES
            )
        )
        return
    except NotFound:
        await _ask_code(bot, message.chat.id, state)
        return
    logger.info("follow-up message %d added to tip %d", stored.id, current.tip_id)
    if flooding or not await _first_of_album(message, state):
        return
    text = _("Added to your tip. Send more, or press Done.")
    if may_carry_metadata(message):
        text += "\n\n" + _(
            "⚠️ Photos and videos sent as files may contain the place where they were taken and the phone model. "
            "If that could put you at risk, send them as photos or videos instead."
        )
    await message.answer(text, reply_markup=view.done_keyboard(current.token))


async def _first_of_album(message: Message, state: FSMContext) -> bool:
    """True unless this file belongs to an album already acknowledged."""
    group = message.media_group_id
    if group is None:
        return True
    data = await state.get_data()
    seen = [str(g) for g in data.get("albums", [])]
    if group in seen:
        return False
    await state.update_data(albums=[*seen[-(RECENT_ALBUMS - 1) :], group])
    return True
