"""/pledge: a household, agency, enterprise or school signs the safety pledge in force for its area."""

from __future__ import annotations

import html
import logging
from datetime import date

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, ReplyKeyboardRemove
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import _
from bot.unit import UpdateUnit
from handlers.area_picker import AreaPicker, Draft
from handlers.keyboards import all_menu_labels, inline, main_menu
from handlers.outreach_common import (
    PLAIN_TEXT,
    SIGNER_LABELS,
    NotForAnotherFlow,
    area_text,
    bad_input_hint,
    send_step,
)
from handlers.report_steps import drop_keyboard
from handlers.report_summary import number, show_date
from handlers.states import PledgeFlow
from storage.domain import NAME_MAX_CHARS, SignerKind
from storage.errors import ValidationFailed
from storage.pledges import (
    AlreadySigned,
    TextChanged,
    clean_representative,
    local_date,
    pledge_year,
    sign_pledge,
    signed_this_year,
    text_in_force,
)
from storage.privacy import PrivacyKeys
from storage.reporters import ReporterRef

logger = logging.getLogger(__name__)
router = Router(name="pledge")
fallback = Router(name="pledge_fallback")


def not_anonymous_text() -> str:
    """Said before anyone signs: a pledge carries a name."""
    return _(
        "⚠️ A pledge is <b>not anonymous</b>. Officers see how many pledges each area has. "
        "The name you sign with is kept encrypted and shown only to authorised officers."
    )


def kind_keyboard() -> InlineKeyboardMarkup:
    """The four kinds of signer, two per row."""
    buttons = [(_(label), f"pl:kind:{kind.value}") for kind, label in SIGNER_LABELS.items()]
    return inline([buttons[0:2], buttons[2:4]])


def confirm_keyboard() -> InlineKeyboardMarkup:
    """Sign, change the name, or cancel."""
    return inline(
        [[(_("✍️ I sign"), "pl:sign")], [(_("✏️ Change the name"), "pl:rename"), (_("❌ Cancel"), "pl:cancel")]]
    )


def _whole_province_ok(draft: Draft) -> bool:
    # A household lives in a commune; an agency, enterprise or school may act for a whole province.
    return draft.get("kind") != SignerKind.HOUSEHOLD.value


def _province_question() -> str:
    return _("📍 In which province or city? Choose it, or type its name.")


async def _area_done(bot: Bot, chat_id: int, state: FSMContext, session: AsyncSession) -> None:
    await ask_name(bot, chat_id, state)


picker = AreaPicker(
    prefix="pl",
    province_state=PledgeFlow.province,
    ward_state=PledgeFlow.ward,
    province_question=_province_question,
    done=_area_done,
    whole_province_ok=_whole_province_ok,
)


async def ask_kind(bot: Bot, chat_id: int, state: FSMContext, *, hint: str | None = None) -> None:
    """Step 1: who signs."""
    await state.set_state(PledgeFlow.kind)
    text = "\n\n".join([_("Who is signing?"), not_anonymous_text()])
    await send_step(bot, chat_id, text, kind_keyboard(), hint=hint)


async def ask_name(bot: Bot, chat_id: int, state: FSMContext, *, hint: str | None = None) -> None:
    """The representative's name as they wish to sign."""
    await state.set_state(PledgeFlow.name)
    text = _(
        "✍️ Type the name of the representative as you wish to sign (up to {limit} characters). "
        "Example: Nguyễn Văn An, or the name of the agency or company."
    ).format(limit=NAME_MAX_CHARS)
    await send_step(bot, chat_id, text, None, hint=hint)


async def ask_confirm(
    bot: Bot, chat_id: int, state: FSMContext, session: AsyncSession, *, hint: str | None = None
) -> None:
    """Show the pledge text in force, the signer and the area; ask to sign."""
    draft = await state.get_data()
    kind = SignerKind(draft["kind"])
    pledge_text = await text_in_force(
        session, signer_kind=kind, province_code=draft.get("province"), ward_code=draft.get("ward")
    )
    if pledge_text is None:
        await state.clear()
        await bot.send_message(
            chat_id, _("Sorry, there is no pledge text for this area yet. Please try later."), reply_markup=main_menu()
        )
        return
    await state.update_data(text_id=pledge_text.id)
    await state.set_state(PledgeFlow.confirm)
    lines = [
        _("📜 <b>Pledge</b> (version {version})").format(version=pledge_text.version),
        html.escape(pledge_text.body),
        "",
        _("Signer: {kind}").format(kind=_(SIGNER_LABELS[kind])),
        _("Area: {area}").format(area=await area_text(session, draft.get("province"), draft.get("ward"))),
        _("Name: {name}").format(name=html.escape(str(draft.get("name", "")))),
        "",
        not_anonymous_text(),
    ]
    await send_step(bot, chat_id, "\n".join(lines), confirm_keyboard(), hint=hint)


def already_text(kind: SignerKind, signed_on: date) -> str:
    """The refusal of a second pledge of one kind in a year, with the date of the first."""
    return _(
        "You already signed the pledge as “{kind}” this year, on {date}. "
        "You can sign it again from 1/1/{next_year}. You can still sign as another kind."
    ).format(kind=_(SIGNER_LABELS[kind]), date=show_date(signed_on), next_year=signed_on.year + 1)


@router.message(Command("pledge"))
@router.message(F.text.in_(all_menu_labels("pledge")))
async def start_pledge(message: Message, state: FSMContext, bot: Bot) -> None:
    """Start a fresh pledge."""
    await state.clear()
    intro = _(
        "✍️ <b>Sign a safety pledge</b>\n"
        "Households, agencies, enterprises and schools pledge to obey the law and keep order. "
        "Press /cancel to stop at any time."
    )
    await message.answer(intro, reply_markup=ReplyKeyboardRemove())
    await ask_kind(bot, message.chat.id, state)


@router.callback_query(StateFilter(PledgeFlow.kind), F.data.startswith("pl:kind:"))
async def choose_kind(
    callback: CallbackQuery, state: FSMContext, session: AsyncSession, reporter: ReporterRef, bot: Bot
) -> None:
    """Keep the kind unless this signer already signed it this year."""
    value = (callback.data or "").removeprefix("pl:kind:")
    if value not in SignerKind._value2member_map_:
        await callback.answer(_("This button has expired."))
        return
    await callback.answer()
    kind = SignerKind(value)
    chat_id = callback.from_user.id
    existing = await signed_this_year(session, reporter_id=reporter.id, signer_kind=kind)
    if existing is not None:
        await ask_kind(bot, chat_id, state, hint=already_text(kind, local_date(existing.created_at)))
        return
    draft = await state.get_data()
    if draft.get("kind") != kind.value:
        await state.update_data(kind=kind.value)
    await drop_keyboard(callback)
    await picker.ask_province(bot, chat_id, state, session)


@router.message(StateFilter(PledgeFlow.name), PLAIN_TEXT)
async def type_name(message: Message, state: FSMContext, session: AsyncSession, bot: Bot) -> None:
    """The name as it will be signed: not empty, not only digits, within the limit."""
    raw = message.text or ""
    try:
        name = clean_representative(raw)
    except ValidationFailed:
        if len(" ".join(raw.split())) > NAME_MAX_CHARS:
            hint = _("That is {count} characters; the limit is {limit}. Please send a shorter name.").format(
                count=number(len(raw.strip())), limit=number(NAME_MAX_CHARS)
            )
        else:
            hint = _("Please type a name with letters, for example Nguyễn Văn An.")
        await ask_name(bot, message.chat.id, state, hint=hint)
        return
    await state.update_data(name=name)
    await ask_confirm(bot, message.chat.id, state, session)


@router.callback_query(StateFilter(PledgeFlow.confirm), F.data == "pl:rename")
async def rename(callback: CallbackQuery, state: FSMContext, bot: Bot) -> None:
    """Type the name again; the kind and area are kept."""
    await callback.answer()
    await drop_keyboard(callback)
    await ask_name(bot, callback.from_user.id, state)


@router.callback_query(StateFilter(PledgeFlow.confirm), F.data == "pl:cancel")
async def cancel(callback: CallbackQuery, state: FSMContext, bot: Bot) -> None:
    """Leave without signing."""
    await callback.answer()
    await drop_keyboard(callback)
    await state.clear()
    await bot.send_message(callback.from_user.id, _("Cancelled. Nothing was signed."), reply_markup=main_menu())


@router.callback_query(StateFilter(PledgeFlow.confirm), F.data == "pl:sign")
async def sign(
    callback: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    unit: UpdateUnit,
    reporter: ReporterRef,
    keys: PrivacyKeys,
    bot: Bot,
) -> None:
    """Store the pledge (name sealed), commit, then thank the signer."""
    await callback.answer()
    chat_id = callback.from_user.id
    draft = await state.get_data()
    kind = SignerKind(draft["kind"])
    try:
        pledge = await sign_pledge(
            session,
            keys=keys,
            reporter_id=reporter.id,
            signer_kind=kind,
            province_code=int(draft["province"]),
            ward_code=draft.get("ward"),
            representative=str(draft.get("name", "")),
            text_id=int(draft.get("text_id", 0)),
        )
    except AlreadySigned as signed:
        await drop_keyboard(callback)
        await state.clear()
        await bot.send_message(chat_id, already_text(kind, signed.signed_on), reply_markup=main_menu())
        return
    except TextChanged:
        await drop_keyboard(callback)
        await ask_confirm(
            bot, chat_id, state, session, hint=_("The pledge text was just updated. Please read it again.")
        )
        return
    await unit.commit()
    await state.clear()
    await drop_keyboard(callback)
    logger.info("pledge %d signed", pledge.id)
    text = _("🙏 Thank you! Your pledge was recorded on {date} for the year {year}.").format(
        date=show_date(local_date(pledge.created_at)), year=pledge_year(pledge.created_at)
    )
    await bot.send_message(chat_id, text, reply_markup=main_menu())


_STATES = {
    PledgeFlow.kind.state: "kind",
    PledgeFlow.province.state: "province",
    PledgeFlow.ward.state: "ward",
    PledgeFlow.name.state: "name",
    PledgeFlow.confirm.state: "confirm",
}


@fallback.message(StateFilter(*PledgeFlow.__states__), NotForAnotherFlow())
async def bad_input(message: Message, state: FSMContext, session: AsyncSession, bot: Bot, raw_state: str) -> None:
    """Anything a step cannot use: say why, ask the step again; nothing entered is lost."""
    hint = bad_input_hint(message)
    step = _STATES.get(raw_state)
    chat_id = message.chat.id
    if step == "kind":
        await ask_kind(bot, chat_id, state, hint=hint)
    elif step == "province":
        await picker.ask_province(bot, chat_id, state, session, hint=hint)
    elif step == "ward":
        await picker.ask_ward(bot, chat_id, state, session, hint=hint)
    elif step == "name":
        await ask_name(bot, chat_id, state, hint=hint)
    else:
        await ask_confirm(bot, chat_id, state, session, hint=hint)


router.include_routers(picker.router(), fallback)
