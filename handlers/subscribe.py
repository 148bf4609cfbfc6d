"""/subscribe and /unsubscribe: campaign notices for an area and some topics."""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, ReplyKeyboardRemove
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import _
from bot.unit import UpdateUnit
from handlers.area_picker import AreaPicker
from handlers.keyboards import all_menu_labels, inline, main_menu
from handlers.outreach_common import TOPIC_LABELS, NotForAnotherFlow, area_text, bad_input_hint, send_step
from handlers.report_steps import drop_keyboard
from handlers.states import SubscribeFlow
from storage.domain import ALL_TOPICS_MASK, TOPIC_BITS, SubscriberState, Topic
from storage.privacy import PrivacyKeys
from storage.reporters import ReporterRef
from storage.subscribers import get_subscription, save_subscription, topics_of, unsubscribe

logger = logging.getLogger(__name__)
router = Router(name="subscribe")
# Bad input is answered last, after the area picker had its chance at typed names.
fallback = Router(name="subscribe_fallback")
CHAT_PURPOSE = "subscriber_chat"


def _province_question() -> str:
    return _("📍 Notices for which area? Choose the whole country or a province or city, or type its name.")


def topics_text(mask: int) -> str:
    """The chosen topics in words."""
    if mask & ALL_TOPICS_MASK == ALL_TOPICS_MASK:
        return _("all topics")
    return ", ".join(_(TOPIC_LABELS[t]) for t in topics_of(mask)) or "—"


def topics_keyboard(mask: int) -> InlineKeyboardMarkup:
    """A toggle per topic (✅ on, ⬜ off), "All" on top, Save at the bottom."""
    everything = mask & ALL_TOPICS_MASK == ALL_TOPICS_MASK
    rows = [[(("✅ " if everything else "⬜ ") + _("All topics"), "sb:topic:all")]]
    buttons = [
        (("✅ " if mask & bit else "⬜ ") + _(TOPIC_LABELS[topic]), f"sb:topic:{topic.value}")
        for topic, bit in TOPIC_BITS.items()
    ]
    rows += [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([(_("💾 Save"), "sb:save")])
    return inline(rows)


def _topics_question() -> str:
    return _("🏷 Which topics? Press a topic to turn it on ✅ or off ⬜, then press Save.")


async def ask_topics(bot: Bot, chat_id: int, state: FSMContext, *, hint: str | None = None) -> None:
    """Enter the topics step with the current toggles."""
    await state.set_state(SubscribeFlow.topics)
    mask = int((await state.get_data()).get("topics", ALL_TOPICS_MASK))
    await send_step(bot, chat_id, _topics_question(), topics_keyboard(mask), hint=hint)


async def _area_done(bot: Bot, chat_id: int, state: FSMContext, session: AsyncSession) -> None:
    draft = await state.get_data()
    await bot.send_message(chat_id, "📍 " + await area_text(session, draft.get("province"), draft.get("ward")))
    await ask_topics(bot, chat_id, state)


picker = AreaPicker(
    prefix="sb",
    province_state=SubscribeFlow.province,
    ward_state=SubscribeFlow.ward,
    province_question=_province_question,
    done=_area_done,
    allow_country=True,
)


def current_keyboard() -> InlineKeyboardMarkup:
    """What an active subscriber can do."""
    return inline(
        [
            [(_("📍 Change area"), "sb:edit:area"), (_("🏷 Change topics"), "sb:edit:topics")],
            [(_("🔕 Unsubscribe"), "sb:unsub")],
        ]
    )


@router.message(Command("subscribe"))
@router.message(F.text.in_(all_menu_labels("subscribe")))
async def start_subscribe(
    message: Message, state: FSMContext, session: AsyncSession, reporter: ReporterRef, bot: Bot
) -> None:
    """Show the current choice to a subscriber; otherwise explain and ask for the area."""
    await state.clear()
    found = await get_subscription(session, reporter_id=reporter.id)
    if found is not None and found.state == SubscriberState.ACTIVE:
        await state.set_state(SubscribeFlow.current)
        await state.set_data({"province": found.province_code, "ward": found.ward_code, "topics": found.topics_mask})
        area = await area_text(session, found.province_code, found.ward_code)
        text = "\n".join(
            [
                _("📢 <b>You receive campaign notices.</b>"),
                _("Area: {area}").format(area=area),
                _("Topics: {topics}").format(topics=topics_text(found.topics_mask)),
                "",
                _("What would you like to change?"),
            ]
        )
        await message.answer(text, reply_markup=current_keyboard())
        return
    # A returning citizen starts from the topics they chose before.
    topics = found.topics_mask if found is not None and found.topics_mask else ALL_TOPICS_MASK
    await state.set_data({"topics": topics})
    intro = "\n\n".join(
        [
            _("📢 <b>Campaign notices</b>\nGet police notices and campaign news for your area."),
            _(
                "To send you notices, the bot keeps an encrypted way to message you; "
                "you can stop at any time with /unsubscribe."
            ),
        ]
    )
    await message.answer(intro, reply_markup=ReplyKeyboardRemove())
    await picker.ask_province(bot, message.chat.id, state, session)


@router.callback_query(StateFilter(SubscribeFlow.current), F.data.startswith("sb:edit:"))
async def edit_choice(callback: CallbackQuery, state: FSMContext, session: AsyncSession, bot: Bot) -> None:
    """Change the area (then confirm the topics) or only the topics."""
    await callback.answer()
    await drop_keyboard(callback)
    if callback.data == "sb:edit:area":
        await picker.ask_province(bot, callback.from_user.id, state, session)
    else:
        await ask_topics(bot, callback.from_user.id, state)


@router.callback_query(StateFilter(SubscribeFlow.current), F.data == "sb:unsub")
async def unsubscribe_button(
    callback: CallbackQuery, state: FSMContext, session: AsyncSession, reporter: ReporterRef, bot: Bot
) -> None:
    """The Unsubscribe button does what /unsubscribe does."""
    await callback.answer()
    await drop_keyboard(callback)
    await _leave(bot, callback.from_user.id, state, session, reporter)


@router.message(Command("unsubscribe"))
async def unsubscribe_command(
    message: Message, state: FSMContext, session: AsyncSession, reporter: ReporterRef, bot: Bot
) -> None:
    """Leave every notice in one step."""
    await _leave(bot, message.chat.id, state, session, reporter)


async def _leave(bot: Bot, chat_id: int, state: FSMContext, session: AsyncSession, reporter: ReporterRef) -> None:
    # Leaving is one step and must not throw away a tip draft or a pledge in progress.
    if (await state.get_state() or "").startswith(f"{SubscribeFlow.__full_group_name__}:"):
        await state.clear()
    if await unsubscribe(session, reporter_id=reporter.id):
        logger.info("subscriber left")
        text = _(
            "🔕 Done. You will get no more campaign notices, and the encrypted way to message you was deleted. "
            "To come back, send /subscribe."
        )
    else:
        text = _("You are not subscribed to campaign notices. To subscribe, send /subscribe.")
    await bot.send_message(chat_id, text, reply_markup=main_menu())


@router.callback_query(StateFilter(SubscribeFlow.topics), F.data.startswith("sb:topic:"))
async def toggle_topic(callback: CallbackQuery, state: FSMContext) -> None:
    """Turn one topic on or off; "All" turns everything on, or off when all were on."""
    value = (callback.data or "").removeprefix("sb:topic:")
    mask = int((await state.get_data()).get("topics", ALL_TOPICS_MASK))
    if value == "all":
        mask = 0 if mask & ALL_TOPICS_MASK == ALL_TOPICS_MASK else ALL_TOPICS_MASK
    elif value in Topic._value2member_map_:
        mask ^= TOPIC_BITS[Topic(value)]
    else:
        await callback.answer(_("This button has expired."))
        return
    await callback.answer()
    await state.update_data(topics=mask)
    if isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(reply_markup=topics_keyboard(mask))


@router.callback_query(StateFilter(SubscribeFlow.topics), F.data == "sb:save")
async def save(
    callback: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    unit: UpdateUnit,
    reporter: ReporterRef,
    keys: PrivacyKeys,
    bot: Bot,
) -> None:
    """Store the subscription (chat id sealed) and say what the citizen will receive."""
    draft = await state.get_data()
    mask = int(draft.get("topics", 0))
    if not mask & ALL_TOPICS_MASK:
        await callback.answer(_("Please turn on at least one topic."), show_alert=True)
        return
    await callback.answer()
    chat_id = callback.from_user.id
    province, ward = draft.get("province"), draft.get("ward")
    await save_subscription(
        session,
        reporter_id=reporter.id,
        chat_enc=keys.encrypt_text(str(chat_id), purpose=CHAT_PURPOSE),
        locale=reporter.locale,
        province_code=province,
        ward_code=ward,
        topics_mask=mask,
    )
    await unit.commit()
    await state.clear()
    await drop_keyboard(callback)
    logger.info("subscription saved")
    text = "\n".join(
        [
            _("✅ <b>Saved.</b> You will receive campaign notices."),
            _("Area: {area}").format(area=await area_text(session, province, ward)),
            _("Topics: {topics}").format(topics=topics_text(mask)),
            "",
            _("To change: /subscribe. To stop: /unsubscribe."),
        ]
    )
    await bot.send_message(chat_id, text, reply_markup=main_menu())


_STEP_ASK = {
    SubscribeFlow.province.state: "province",
    SubscribeFlow.ward.state: "ward",
    SubscribeFlow.topics.state: "topics",
    SubscribeFlow.current.state: "current",
}


@fallback.message(StateFilter(*SubscribeFlow.__states__), NotForAnotherFlow())
async def bad_input(message: Message, state: FSMContext, session: AsyncSession, bot: Bot, raw_state: str) -> None:
    """Stickers, files, unknown commands or text where a button is needed: say why, ask again."""
    hint = bad_input_hint(message)
    step = _STEP_ASK.get(raw_state)
    chat_id = message.chat.id
    if step == "province":
        await picker.ask_province(bot, chat_id, state, session, hint=hint)
    elif step == "ward":
        await picker.ask_ward(bot, chat_id, state, session, hint=hint)
    elif step == "topics":
        await ask_topics(bot, chat_id, state, hint=hint)
    else:
        await send_step(bot, chat_id, _("What would you like to change?"), current_keyboard(), hint=hint)


router.include_routers(picker.router(), fallback)
