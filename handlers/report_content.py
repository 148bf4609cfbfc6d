"""Tip form steps 4–6: when it happened, the story (in several messages), and evidence files."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import _
from handlers import report_keyboards as kb
from handlers.report_draft import (
    DateError,
    Draft,
    add_file,
    add_overflow_head,
    add_part,
    attachment_of,
    description,
    first_of_album,
    occurred_for,
    parse_date,
    room_left,
)
from handlers.report_steps import PLAIN_TEXT, advance, drop_keyboard
from handlers.report_summary import number, show_date
from handlers.states import ReportForm
from storage.domain import DESCRIPTION_MAX_CHARS, MAX_ATTACHMENTS, AttachmentKind, WhenKind

router = Router(name="report_content")
MEDIA = F.photo | F.video | F.document | F.voice | F.audio | F.video_note


@router.callback_query(StateFilter(ReportForm.when), F.data.startswith("rp:when:"))
async def choose_when(callback: CallbackQuery, state: FSMContext, session: AsyncSession, bot: Bot) -> None:
    """A relative time; today and yesterday also fix the date."""
    await callback.answer()
    value = (callback.data or "").removeprefix("rp:when:")
    if value not in WhenKind._value2member_map_ or value == WhenKind.DATE.value:
        return
    occurred = occurred_for(WhenKind(value))
    await state.update_data(when=value, occurred_on=occurred.isoformat() if occurred else None)
    await drop_keyboard(callback)
    await advance("when", bot, callback.from_user.id, state, session)


@router.message(StateFilter(ReportForm.when), PLAIN_TEXT)
async def type_date(message: Message, state: FSMContext, session: AsyncSession, bot: Bot) -> None:
    """A typed date; refuse future dates and anything unreadable with an example."""
    try:
        value = parse_date(message.text or "")
    except DateError as exc:
        hint = (
            _("That date is in the future. Please type a past date like 25/12/2025, or press a button.")
            if exc.future
            else _("I could not read that date. Please type it like 25/12/2025, or press a button.")
        )
        await message.answer(hint, reply_markup=kb.when_keyboard())
        return
    await state.update_data(when=WhenKind.DATE.value, occurred_on=value.isoformat())
    await message.answer("🗓 " + show_date(value))
    await advance("when", bot, message.chat.id, state, session)


def received_text(draft: Draft) -> str:
    """How much of the story the bot holds."""
    return _("Received ({count}/{limit} characters). Send more, or press Continue.").format(
        count=number(len(description(draft))), limit=number(DESCRIPTION_MAX_CHARS)
    )


def overflow_text(draft: Draft, length: int) -> str:
    """Why a message was not added, and what still fits."""
    return _(
        "This message is too long to add: it has {count} characters, but only {left} more fit "
        "(the limit is {limit}). Nothing you wrote before is lost. Send a shorter message, "
        "or add the first part of this one."
    ).format(count=number(length), left=number(room_left(draft)), limit=number(DESCRIPTION_MAX_CHARS))


async def append_text(message: Message, state: FSMContext, flooding: bool, *, in_evidence: bool) -> None:
    """Add a text message to the story, or keep it aside when it would go over the limit."""
    draft = await state.get_data()
    text = message.text or ""
    added = add_part(draft, message.message_id, text)
    await state.set_data(draft)
    if not added:
        # Over the limit is always answered: the citizen must learn that this text was not added.
        await message.answer(overflow_text(draft, len(text)), reply_markup=kb.overflow_keyboard(room_left(draft)))
        return
    if flooding:
        return
    if in_evidence:
        note = _("✍️ Added to the description ({count}/{limit} characters).").format(
            count=number(len(description(draft))), limit=number(DESCRIPTION_MAX_CHARS)
        )
        await message.answer(note, reply_markup=kb.evidence_keyboard(bool(draft.get("files")), False))
        return
    await message.answer(received_text(draft), reply_markup=kb.description_keyboard())


@router.message(StateFilter(ReportForm.description), PLAIN_TEXT)
async def story_text(message: Message, state: FSMContext, flooding: bool = False) -> None:
    """Each message is appended; a flood is stored silently."""
    await append_text(message, state, flooding, in_evidence=False)


@router.message(StateFilter(ReportForm.description), MEDIA)
async def story_file(message: Message, state: FSMContext, flooding: bool = False) -> None:
    """A file during the story is kept as evidence; a caption counts as text."""
    draft = await state.get_data()
    ref = attachment_of(message)
    kept = ref is not None and add_file(draft, ref)
    if message.caption:
        add_part(draft, message.message_id, message.caption)
    first = first_of_album(draft, message.media_group_id)
    await state.set_data(draft)
    if flooding or not first:
        return
    note = (
        _("📎 Kept as evidence. Please also describe what happened in words.")
        if kept
        else _("⚠️ Limit reached: a tip can carry {max} files. This file was not added.").format(max=MAX_ATTACHMENTS)
    )
    await message.answer(note, reply_markup=kb.description_keyboard())


@router.callback_query(StateFilter(ReportForm.description), F.data == "rp:desc:fit")
async def add_fitting_part(callback: CallbackQuery, state: FSMContext, bot: Bot) -> None:
    """Add the head of the refused message that fits."""
    draft = await state.get_data()
    if not add_overflow_head(draft):
        await callback.answer(_("There is nothing more to add."), show_alert=True)
        return
    await state.set_data(draft)
    await callback.answer()
    await drop_keyboard(callback)
    await bot.send_message(callback.from_user.id, received_text(draft), reply_markup=kb.description_keyboard())


@router.callback_query(StateFilter(ReportForm.description), F.data == "rp:desc:clear")
async def clear_story(callback: CallbackQuery, state: FSMContext, bot: Bot) -> None:
    """Start the story over (offered only when editing from the summary)."""
    await state.update_data(parts=[], overflow=None)
    await callback.answer()
    await drop_keyboard(callback)
    await bot.send_message(callback.from_user.id, _("The text was cleared. Please describe what happened."))


@router.callback_query(StateFilter(ReportForm.description), F.data == "rp:desc:done")
async def story_done(callback: CallbackQuery, state: FSMContext, session: AsyncSession, bot: Bot) -> None:
    """Move on only with a story."""
    draft = await state.get_data()
    if not description(draft).strip():
        await callback.answer(_("Please first describe what happened, in a few words."), show_alert=True)
        return
    await callback.answer()
    await state.update_data(overflow=None, overflow_id=None)
    await drop_keyboard(callback)
    await advance("description", bot, callback.from_user.id, state, session)


@router.message(StateFilter(ReportForm.evidence), MEDIA)
async def evidence_file(message: Message, state: FSMContext, flooding: bool = False) -> None:
    """Keep a file; answer once per album, never during a flood (the limit notice excepted)."""
    draft = await state.get_data()
    ref = attachment_of(message)
    kept = ref is not None and add_file(draft, ref)
    if message.caption:
        add_part(draft, message.message_id, message.caption)
    first = first_of_album(draft, message.media_group_id)
    lines: list[str] = []
    if not kept and not draft.get("limit_warned"):
        draft["limit_warned"] = True
        lines.append(
            _("⚠️ Limit reached: a tip can carry {max} files. This file was not added.").format(max=MAX_ATTACHMENTS)
        )
    elif first and not flooding and kept:
        lines.append(ack_text(draft, album=message.media_group_id is not None))
    if kept and ref is not None and ref["kind"] == AttachmentKind.DOCUMENT.value and not draft.get("doc_warned"):
        draft["doc_warned"] = True
        if not flooding:
            lines.append(
                _(
                    "⚠️ Files sent as documents can keep hidden data, such as the place and the phone model. "
                    "Sending pictures as photos is safer."
                )
            )
    await state.set_data(draft)
    if lines:
        await message.answer("\n\n".join(lines), reply_markup=kb.evidence_keyboard(True, bool(draft.get("editing"))))


def ack_text(draft: Draft, *, album: bool) -> str:
    """The answer to a file or to the first file of an album."""
    if album:
        return _("📎 Album received. Send more, or press Continue.")
    return _("📎 Received {count} of {max} files. Send more, or press Continue.").format(
        count=len(draft.get("files", [])), max=MAX_ATTACHMENTS
    )


@router.message(StateFilter(ReportForm.evidence), PLAIN_TEXT)
async def evidence_text(message: Message, state: FSMContext, flooding: bool = False) -> None:
    """Text at the evidence step is added to the story, and we say so."""
    await append_text(message, state, flooding, in_evidence=True)


@router.callback_query(StateFilter(ReportForm.evidence), F.data == "rp:ev:clear")
async def clear_files(callback: CallbackQuery, state: FSMContext) -> None:
    """Drop the files (offered only when editing from the summary)."""
    await state.update_data(files=[], limit_warned=False)
    await callback.answer(_("All files were removed."), show_alert=True)
    await drop_keyboard(callback)


@router.callback_query(StateFilter(ReportForm.evidence), F.data.in_({"rp:ev:done", "rp:ev:skip"}))
async def evidence_done(callback: CallbackQuery, state: FSMContext, session: AsyncSession, bot: Bot) -> None:
    """Go on to the privacy choice."""
    await callback.answer()
    await drop_keyboard(callback)
    await advance("evidence", bot, callback.from_user.id, state, session)
