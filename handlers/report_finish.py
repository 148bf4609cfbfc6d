"""Tip form steps 7–8: privacy level, identity, the summary, sending, the receipt, and wiping the chat."""

from __future__ import annotations

import logging
from contextlib import suppress
from functools import partial

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, ReplyKeyboardRemove
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import _
from bot.unit import UpdateUnit
from handlers import report_keyboards as kb
from handlers.keyboards import main_menu
from handlers.report_draft import build_tip
from handlers.report_steps import EDIT_START, PLAIN_TEXT, advance, ask, drop_keyboard, update
from handlers.report_summary import number, receipt_text
from handlers.states import ReportForm
from storage.domain import NAME_MAX_CHARS, Anonymity
from storage.errors import ValidationFailed
from storage.privacy import PrivacyKeys, new_receipt_code
from storage.reporters import ReporterRef
from storage.tips import add_tip, check_tip

logger = logging.getLogger(__name__)
router = Router(name="report_finish")
DELETE_CHUNK = 100


@router.callback_query(StateFilter(ReportForm.anonymity), F.data.startswith("rp:anon:"))
async def choose_anonymity(callback: CallbackQuery, state: FSMContext, session: AsyncSession, bot: Bot) -> None:
    """Keep the level; identity details are dropped unless the tip is identified."""
    await callback.answer()
    value = (callback.data or "").removeprefix("rp:anon:")
    if value not in Anonymity._value2member_map_:
        return
    if value != Anonymity.IDENTIFIED.value:
        await update(state, anonymity=value, id_phone=None, id_name=None, id_contact_name=None)
    else:
        await update(state, anonymity=value)
    await drop_keyboard(callback)
    await bot.send_message(callback.from_user.id, _(kb.ANONYMITY_LABELS[Anonymity(value)]))
    await advance("anonymity", bot, callback.from_user.id, state, session)


@router.message(StateFilter(ReportForm.identity), F.contact)
async def got_contact(message: Message, state: FSMContext, session: AsyncSession, bot: Bot) -> None:
    """Accept only the citizen's own phone; then ask which name to show."""
    contact = message.contact
    assert contact is not None
    if message.from_user is None or contact.user_id != message.from_user.id:
        await message.answer(
            _("Please share your own phone number with the button below. Other people's contacts are not accepted."),
            reply_markup=kb.contact_keyboard(),
        )
        return
    name = " ".join(p for p in (contact.first_name, contact.last_name) if p)[:NAME_MAX_CHARS]
    await update(state, id_phone=contact.phone_number, id_contact_name=name or None, id_name=None)
    await message.answer(_("📱 Phone number received."), reply_markup=ReplyKeyboardRemove())
    await ask("identity", bot, message.chat.id, state, session)


@router.message(StateFilter(ReportForm.identity), F.text.in_(kb.in_all_locales("↩️ Choose another option")))
async def identity_back(message: Message, state: FSMContext, session: AsyncSession, bot: Bot) -> None:
    """Back to the privacy choice."""
    await update(state, anonymity=None, id_phone=None, id_name=None, id_contact_name=None)
    await message.answer(_("OK."), reply_markup=ReplyKeyboardRemove())
    await ask("anonymity", bot, message.chat.id, state, session)


@router.message(StateFilter(ReportForm.identity), PLAIN_TEXT)
async def type_name(message: Message, state: FSMContext, session: AsyncSession, bot: Bot) -> None:
    """The name officers will see (only after the phone)."""
    draft = await state.get_data()
    if not draft.get("id_phone"):
        await ask("identity", bot, message.chat.id, state, session, hint=_("Please use the button below."))
        return
    name = " ".join((message.text or "").split())
    if len(name) > NAME_MAX_CHARS:
        await message.answer(
            _("That name is too long: the limit is {limit} characters.").format(limit=number(NAME_MAX_CHARS))
        )
        return
    await update(state, id_name=name)
    await advance("identity", bot, message.chat.id, state, session)


@router.callback_query(StateFilter(ReportForm.identity), F.data == "rp:idname:contact")
async def use_contact_name(callback: CallbackQuery, state: FSMContext, session: AsyncSession, bot: Bot) -> None:
    """Use the name from the shared contact."""
    draft = await state.get_data()
    await callback.answer()
    if not draft.get("id_contact_name"):
        return
    await update(state, id_name=draft["id_contact_name"])
    await drop_keyboard(callback)
    await advance("identity", bot, callback.from_user.id, state, session)


@router.callback_query(StateFilter(ReportForm.summary), F.data.startswith("rp:edit:"))
async def edit_step(callback: CallbackQuery, state: FSMContext, session: AsyncSession, bot: Bot) -> None:
    """Go to one step; when it is answered the summary comes back."""
    await callback.answer()
    step = (callback.data or "").removeprefix("rp:edit:")
    step = EDIT_START.get(step, step)
    if step not in {"category", "danger", "province", "when", "description", "evidence", "anonymity"}:
        return
    if step == "category":
        await update(state, editing=True, group=None)
    else:
        await update(state, editing=True)
    await drop_keyboard(callback)
    await ask(step, bot, callback.from_user.id, state, session)


@router.callback_query(StateFilter(ReportForm.summary), F.data == "rp:cancel")
async def cancel_from_summary(callback: CallbackQuery, state: FSMContext, bot: Bot) -> None:
    """Throw the draft away."""
    await callback.answer()
    await drop_keyboard(callback)
    await state.clear()
    await bot.send_message(callback.from_user.id, _("Cancelled. Nothing was sent."), reply_markup=main_menu())


@router.callback_query(StateFilter(ReportForm.summary), F.data == "rp:send")
async def send_tip(
    callback: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    unit: UpdateUnit,
    reporter: ReporterRef,
    keys: PrivacyKeys,
    bot: Bot,
) -> None:
    """Create the tip, commit, and only then show the receipt code."""
    draft = await state.get_data()
    chat_id = callback.from_user.id
    try:
        tip = build_tip(draft, reporter.locale)
    except (KeyError, ValueError):
        await callback.answer(_("Some answers are missing. Please check the summary."), show_alert=True)
        return
    code = new_receipt_code()
    try:
        await check_tip(session, tip)
    except ValidationFailed:
        await callback.answer(_("Some answers are missing. Please check the summary."), show_alert=True)
        return
    trail_start = draft.get("trail_start")
    await state.set_state(ReportForm.submitted)
    await state.set_data({"trail_start": trail_start})
    chat_enc = keys.encrypt_text(str(chat_id), purpose="chat") if tip.anonymity is not Anonymity.ANONYMOUS else None
    # The tip, the sealed chat, the cleared draft and the update record become durable together.
    write = partial(
        add_tip, tip=tip, reporter_id=reporter.id, receipt_hash=keys.receipt_hash(code), keys=keys, chat_enc=chat_enc
    )
    row = await unit.commit_with(write)
    logger.info("tip %d created", row.id)
    await callback.answer()
    await drop_keyboard(callback)
    receipt = await bot.send_message(
        chat_id, receipt_text(code, tip.anonymity, tip.urgent), reply_markup=kb.receipt_keyboard()
    )
    await state.set_data({"trail_start": trail_start, "trail_end": receipt.message_id})
    await bot.send_message(chat_id, _("You can use the menu below."), reply_markup=main_menu())


@router.callback_query(StateFilter(ReportForm.submitted), F.data == "rp:wipe")
async def ask_wipe(callback: CallbackQuery, bot: Bot) -> None:
    """Deleting cannot be undone: make sure the code is saved."""
    await callback.answer()
    await bot.send_message(
        callback.from_user.id,
        _("Have you saved your receipt code? Without it you cannot follow up your tip."),
        reply_markup=kb.wipe_confirm_keyboard(),
    )


@router.callback_query(StateFilter(ReportForm.submitted), F.data == "rp:wipe:no")
async def keep_chat(callback: CallbackQuery) -> None:
    """Keep the conversation."""
    await callback.answer(_("Nothing was deleted."))
    await drop_keyboard(callback)


@router.callback_query(StateFilter(ReportForm.submitted), F.data == "rp:wipe:yes")
async def wipe_chat(callback: CallbackQuery, state: FSMContext, bot: Bot) -> None:
    """Delete every message from the /report command to this confirmation, in chunks of 100."""
    await callback.answer()
    draft = await state.get_data()
    if not isinstance(callback.message, Message) or draft.get("trail_start") is None:
        return
    chat_id = callback.message.chat.id
    ids = list(range(int(draft["trail_start"]), callback.message.message_id + 1))
    for start in range(0, len(ids), DELETE_CHUNK):
        # Some messages may be too old or already gone; the rest are still deleted.
        with suppress(TelegramBadRequest):
            await bot.delete_messages(chat_id, ids[start : start + DELETE_CHUNK])
    await state.clear()
    await bot.send_message(chat_id, _("Deleted. Send /start for the menu."), reply_markup=main_menu())
