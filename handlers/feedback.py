"""/feedback: "Công an lắng nghe ý kiến Nhân dân" — an anonymous opinion to the police of an area."""

from __future__ import annotations

import html
import logging

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, ReplyKeyboardRemove
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import _, current_locale
from bot.unit import UpdateUnit
from handlers.area_picker import AreaPicker
from handlers.keyboards import all_menu_labels, inline, main_menu
from handlers.outreach_common import PLAIN_TEXT, NotForAnotherFlow, area_text, bad_input_hint, send_step
from handlers.report_steps import drop_keyboard
from handlers.report_summary import number
from handlers.states import FeedbackFlow
from storage.feedback import FEEDBACK_MAX_CHARS, create_feedback

logger = logging.getLogger(__name__)
router = Router(name="feedback")
fallback = Router(name="feedback_fallback")


def _province_question() -> str:
    return _("📍 To the police of which province or city? Choose it, or type its name.")


async def _area_done(bot: Bot, chat_id: int, state: FSMContext, session: AsyncSession) -> None:
    await ask_body(bot, chat_id, state)


picker = AreaPicker(
    prefix="fb",
    province_state=FeedbackFlow.province,
    ward_state=FeedbackFlow.ward,
    province_question=_province_question,
    done=_area_done,
)


def fit_keyboard() -> InlineKeyboardMarkup:
    """Use the part of an over-long text that fits."""
    label = _("✂️ Use the first {limit} characters").format(limit=number(FEEDBACK_MAX_CHARS))
    return inline([[(label, "fb:fit")]])


def confirm_keyboard() -> InlineKeyboardMarkup:
    """Send, rewrite, or cancel."""
    return inline([[(_("✅ Send"), "fb:send")], [(_("✏️ Rewrite"), "fb:rewrite"), (_("❌ Cancel"), "fb:cancel")]])


async def ask_body(bot: Bot, chat_id: int, state: FSMContext, *, hint: str | None = None) -> None:
    """The opinion itself, in one message."""
    await state.set_state(FeedbackFlow.body)
    text = _(
        "💬 Write your suggestion or opinion in one message (up to {limit} characters). "
        "To report a crime, use /report instead."
    ).format(limit=number(FEEDBACK_MAX_CHARS))
    await send_step(bot, chat_id, text, None, hint=hint)


async def ask_confirm(
    bot: Bot, chat_id: int, state: FSMContext, session: AsyncSession, *, hint: str | None = None
) -> None:
    """Show what will be sent, and to whom."""
    await state.set_state(FeedbackFlow.confirm)
    draft = await state.get_data()
    text = "\n".join(
        [
            _("Please check your opinion:"),
            _("To: the police of {area}").format(
                area=await area_text(session, draft.get("province"), draft.get("ward"))
            ),
            "",
            f"<i>{html.escape(str(draft.get('body', '')))}</i>",
            "",
            _("It is sent without your name or account. Send it?"),
        ]
    )
    await send_step(bot, chat_id, text, confirm_keyboard(), hint=hint)


@router.message(Command("feedback"))
@router.message(F.text.in_(all_menu_labels("feedback")))
async def start_feedback(message: Message, state: FSMContext, session: AsyncSession, bot: Bot) -> None:
    """Explain in two lines and ask for the area."""
    await state.clear()
    intro = "\n\n".join(
        [
            _("💬 <b>Công an lắng nghe ý kiến Nhân dân</b> — the police listen to the people."),
            _(
                "Send a suggestion or opinion to the police of your area. It is anonymous: "
                "we do not keep who sent it, so the police cannot answer you. Press /cancel to stop."
            ),
        ]
    )
    await message.answer(intro, reply_markup=ReplyKeyboardRemove())
    await picker.ask_province(bot, message.chat.id, state, session)


@router.message(StateFilter(FeedbackFlow.body), PLAIN_TEXT)
async def type_body(message: Message, state: FSMContext, session: AsyncSession, bot: Bot) -> None:
    """Keep the text within the limit; a longer one is kept aside and can be cut to fit."""
    text = (message.text or "").strip()
    if len(text) > FEEDBACK_MAX_CHARS:
        await state.update_data(long_body=text)
        refuse = _(
            "That is {count} characters; the limit is {limit}. Please send a shorter text. Your other answers are kept."
        ).format(count=number(len(text)), limit=number(FEEDBACK_MAX_CHARS))
        await message.answer(refuse, reply_markup=fit_keyboard())
        return
    await state.update_data(body=text, long_body=None)
    await ask_confirm(bot, message.chat.id, state, session)


@router.callback_query(StateFilter(FeedbackFlow.body), F.data == "fb:fit")
async def use_fitting_part(callback: CallbackQuery, state: FSMContext, session: AsyncSession, bot: Bot) -> None:
    """Cut the over-long text kept aside to the limit."""
    long_body = str((await state.get_data()).get("long_body") or "")
    if not long_body:
        await callback.answer(_("This button has expired."))
        return
    await callback.answer()
    await state.update_data(body=long_body[:FEEDBACK_MAX_CHARS].strip(), long_body=None)
    await drop_keyboard(callback)
    await ask_confirm(bot, callback.from_user.id, state, session)


@router.callback_query(StateFilter(FeedbackFlow.confirm), F.data == "fb:rewrite")
async def rewrite(callback: CallbackQuery, state: FSMContext, bot: Bot) -> None:
    """Write the text again; the area is kept."""
    await callback.answer()
    await drop_keyboard(callback)
    await ask_body(bot, callback.from_user.id, state)


@router.callback_query(StateFilter(FeedbackFlow.confirm), F.data == "fb:cancel")
async def cancel(callback: CallbackQuery, state: FSMContext, bot: Bot) -> None:
    """Leave without sending."""
    await callback.answer()
    await drop_keyboard(callback)
    await state.clear()
    await bot.send_message(callback.from_user.id, _("Cancelled. Nothing was sent."), reply_markup=main_menu())


@router.callback_query(StateFilter(FeedbackFlow.confirm), F.data == "fb:send")
async def send(callback: CallbackQuery, state: FSMContext, session: AsyncSession, unit: UpdateUnit, bot: Bot) -> None:
    """Store the opinion with no link to the sender, commit, then thank them."""
    await callback.answer()
    draft = await state.get_data()
    row = await create_feedback(
        session,
        province_code=int(draft["province"]),
        ward_code=draft.get("ward"),
        body=str(draft.get("body", "")),
        locale=current_locale(),
    )
    await unit.commit()
    await state.clear()
    await drop_keyboard(callback)
    logger.info("feedback %d received", row.id)
    text = _("🙏 Thank you! Your opinion was sent to the police of {area}.").format(
        area=await area_text(session, row.province_code, row.ward_code)
    )
    await bot.send_message(callback.from_user.id, text, reply_markup=main_menu())


_STATES = {
    FeedbackFlow.province.state: "province",
    FeedbackFlow.ward.state: "ward",
    FeedbackFlow.body.state: "body",
    FeedbackFlow.confirm.state: "confirm",
}


@fallback.message(StateFilter(*FeedbackFlow.__states__), NotForAnotherFlow())
async def bad_input(message: Message, state: FSMContext, session: AsyncSession, bot: Bot, raw_state: str) -> None:
    """Anything a step cannot use: say why and ask again; the area and text are kept."""
    hint = bad_input_hint(message)
    step = _STATES.get(raw_state)
    chat_id = message.chat.id
    if step == "province":
        await picker.ask_province(bot, chat_id, state, session, hint=hint)
    elif step == "ward":
        await picker.ask_ward(bot, chat_id, state, session, hint=hint)
    elif step == "body":
        await ask_body(bot, chat_id, state, hint=hint)
    else:
        await ask_confirm(bot, chat_id, state, session, hint=hint)


router.include_routers(picker.router(), fallback)
