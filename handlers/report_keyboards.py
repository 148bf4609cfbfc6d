"""Labels and keyboards of the tip form; callback data all start with "rp:"."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.types import InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup
from babel.numbers import format_decimal

from bot.i18n import N_, SUPPORTED_LOCALES, _, current_locale, use_locale
from handlers.keyboards import inline
from storage.areas import AreaRef
from storage.domain import (
    CATEGORIES_BY_GROUP,
    Anonymity,
    AttachmentKind,
    Category,
    CategoryGroup,
    WhenKind,
)

PROVINCES_PER_PAGE = 12

GROUP_LABELS: dict[CategoryGroup, str] = {
    CategoryGroup.POLITICAL_SECURITY: N_("Political security"),
    CategoryGroup.CRIMINAL: N_("Crime"),
    CategoryGroup.SOCIAL_EVILS: N_("Social evils (drugs, gambling, prostitution)"),
    CategoryGroup.OTHER: N_("Other (traffic, fire, environment...)"),
}
CATEGORY_LABELS: dict[Category, str] = {
    Category.POLITICAL_SECURITY: N_("Political security"),
    Category.THEFT_ROBBERY: N_("Theft, robbery"),
    Category.ASSAULT_MURDER: N_("Assault, murder"),
    Category.FRAUD: N_("Fraud (also online)"),
    Category.CYBERCRIME: N_("Cybercrime"),
    Category.HUMAN_TRAFFICKING: N_("Human trafficking"),
    Category.SMUGGLING_COUNTERFEIT: N_("Smuggling, fake goods"),
    Category.WEAPONS_EXPLOSIVES: N_("Weapons, explosives"),
    Category.DRUGS: N_("Drugs"),
    Category.GAMBLING: N_("Gambling"),
    Category.PROSTITUTION: N_("Prostitution"),
    Category.TRAFFIC: N_("Traffic order and safety"),
    Category.FIRE: N_("Fire prevention and fighting"),
    Category.ENVIRONMENT: N_("Environment"),
    Category.OTHER: N_("Other"),
}
WHEN_LABELS: dict[WhenKind, str] = {
    WhenKind.TODAY: N_("Today"),
    WhenKind.YESTERDAY: N_("Yesterday"),
    WhenKind.THIS_WEEK: N_("This week"),
    WhenKind.EARLIER: N_("Earlier"),
    WhenKind.UNKNOWN: N_("I don't know"),
}
ANONYMITY_LABELS: dict[Anonymity, str] = {
    Anonymity.ANONYMOUS: N_("🙈 Anonymous"),
    Anonymity.FOLLOW_UP: N_("💬 Anonymous with follow-up (recommended)"),
    Anonymity.IDENTIFIED: N_("🪪 Identified"),
}
KIND_LABELS: dict[AttachmentKind, str] = {
    AttachmentKind.PHOTO: N_("photos"),
    AttachmentKind.VIDEO: N_("videos"),
    AttachmentKind.DOCUMENT: N_("files"),
    AttachmentKind.VOICE: N_("voice notes"),
    AttachmentKind.AUDIO: N_("audio"),
    AttachmentKind.VIDEO_NOTE: N_("video notes"),
}
EDIT_STEPS: tuple[tuple[str, str], ...] = (
    ("category", N_("✏️ Category")),
    ("danger", N_("✏️ Danger")),
    ("where", N_("✏️ Place")),
    ("when", N_("✏️ Time")),
    ("description", N_("✏️ What happened")),
    ("evidence", N_("✏️ Files")),
    ("anonymity", N_("✏️ Privacy")),
)


def group_keyboard() -> InlineKeyboardMarkup:
    """The four category groups, one per row."""
    return inline([[(_(label), f"rp:grp:{group.value}")] for group, label in GROUP_LABELS.items()])


def category_keyboard(group: CategoryGroup) -> InlineKeyboardMarkup:
    """The categories of one group, two per row, and Back."""
    buttons = [(_(CATEGORY_LABELS[cat]), f"rp:cat:{cat.value}") for cat in CATEGORIES_BY_GROUP[group]]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([(_("◀ Back"), "rp:grp:back")])
    return inline(rows)


def yes_no_keyboard(prefix: str) -> InlineKeyboardMarkup:
    """Yes / No buttons."""
    return inline([[(_("Yes"), f"{prefix}:yes"), (_("No"), f"{prefix}:no")]])


def page_count(total: int) -> int:
    """How many pages the province list has."""
    return max(1, -(-total // PROVINCES_PER_PAGE))


def province_keyboard(provinces: Sequence[AreaRef], page: int) -> InlineKeyboardMarkup:
    """One page of provinces, two per row, with ◀ ▶ to turn pages."""
    pages = page_count(len(provinces))
    page = min(max(page, 0), pages - 1)
    chunk = provinces[page * PROVINCES_PER_PAGE : (page + 1) * PROVINCES_PER_PAGE]
    buttons = [(p.name, f"rp:prov:{p.code}") for p in chunk]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    nav: list[tuple[str, str]] = []
    if page > 0:
        nav.append(("◀", f"rp:provpage:{page - 1}"))
    nav.append((f"{page + 1}/{pages}", f"rp:provpage:{page}"))
    if page < pages - 1:
        nav.append(("▶", f"rp:provpage:{page + 1}"))
    rows.append(nav)
    return inline(rows)


def province_matches_keyboard(provinces: Sequence[AreaRef]) -> InlineKeyboardMarkup:
    """Provinces matching a typed name, plus a way back to the full list."""
    rows = [[(p.name, f"rp:prov:{p.code}")] for p in provinces]
    rows.append([(_("📋 Show all provinces"), "rp:provpage:0")])
    return inline(rows)


def ward_prompt_keyboard() -> InlineKeyboardMarkup:
    """Before a search: the commune may be unknown."""
    return inline([[(_("I don't know / don't remember"), "rp:ward:unknown")]])


def ward_results_keyboard(wards: Sequence[AreaRef]) -> InlineKeyboardMarkup:
    """Search results, then "unknown" and "search again"."""
    rows = [[(w.name, f"rp:ward:{w.code}")] for w in wards]
    rows.append([(_("I don't know / don't remember"), "rp:ward:unknown")])
    rows.append([(_("🔍 Search again"), "rp:ward:again")])
    return inline(rows)


def skip_keyboard(data: str) -> InlineKeyboardMarkup:
    """A single Skip button."""
    return inline([[(_("⏭ Skip"), data)]])


def location_keyboard() -> ReplyKeyboardMarkup:
    """Send a pin, or skip."""
    return ReplyKeyboardMarkup(
        keyboard=[
            [KeyboardButton(text=_("📍 Send a map pin"), request_location=True)],
            [KeyboardButton(text=reply_skip_label())],
        ],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


def reply_skip_label() -> str:
    """The Skip button of reply keyboards."""
    return _("⏭ Skip")


def contact_keyboard() -> ReplyKeyboardMarkup:
    """Share one's own phone, or go back to the privacy choice."""
    return ReplyKeyboardMarkup(
        keyboard=[
            [KeyboardButton(text=_("📱 Share my phone number"), request_contact=True)],
            [KeyboardButton(text=reply_back_label())],
        ],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


def reply_back_label() -> str:
    """The Back button of the contact keyboard."""
    return _("↩️ Choose another option")


def in_all_locales(label: str) -> set[str]:
    """A translated label in every language (a button pressed before a language switch still works)."""
    found = set()
    for locale in SUPPORTED_LOCALES:
        with use_locale(locale):
            found.add(_(label))
    return found


def when_keyboard() -> InlineKeyboardMarkup:
    """Today / Yesterday / This week / Earlier / Don't know."""
    b = [(_(label), f"rp:when:{kind.value}") for kind, label in WHEN_LABELS.items()]
    return inline([b[0:2], b[2:4], b[4:5]])


def description_keyboard() -> InlineKeyboardMarkup:
    """Continue after the story."""
    return inline([[(_("➡️ Continue"), "rp:desc:done")]])


def description_edit_keyboard() -> InlineKeyboardMarkup:
    """When editing the story: continue, or start it over."""
    return inline([[(_("➡️ Continue"), "rp:desc:done")], [(_("🗑 Clear the text and start over"), "rp:desc:clear")]])


def overflow_keyboard(fits: int) -> InlineKeyboardMarkup:
    """Add the part of an over-long message that fits, or go on."""
    rows = []
    if fits > 0:
        rows.append(
            [
                (
                    _("✂️ Add the first {n} characters").format(n=format_decimal(fits, locale=current_locale())),
                    "rp:desc:fit",
                )
            ]
        )
    rows.append([(_("➡️ Continue"), "rp:desc:done")])
    return inline(rows)


def evidence_keyboard(has_files: bool, editing: bool) -> InlineKeyboardMarkup:
    """Continue / Skip, and when editing a way to drop the files already sent."""
    rows = [[(_("➡️ Continue"), "rp:ev:done"), (_("⏭ Skip"), "rp:ev:skip")]]
    if editing and has_files:
        rows.append([(_("🗑 Remove all files"), "rp:ev:clear")])
    return inline(rows)


def anonymity_keyboard() -> InlineKeyboardMarkup:
    """The three privacy levels, one per row."""
    return inline([[(_(label), f"rp:anon:{level.value}")] for level, label in ANONYMITY_LABELS.items()])


def contact_name_keyboard(name: str) -> InlineKeyboardMarkup:
    """Use the name from the shared contact."""
    return inline([[(_("Use “{name}”").format(name=name[:40]), "rp:idname:contact")]])


def summary_keyboard() -> InlineKeyboardMarkup:
    """An edit button for each step, then Send and Cancel."""
    edits = [(_(label), f"rp:edit:{step}") for step, label in EDIT_STEPS]
    rows = [edits[i : i + 2] for i in range(0, len(edits), 2)]
    rows.append([(_("✅ Send"), "rp:send")])
    rows.append([(_("❌ Cancel"), "rp:cancel")])
    return inline(rows)


def receipt_keyboard() -> InlineKeyboardMarkup:
    """Delete the conversation from this phone."""
    return inline([[(_("🧹 Delete this conversation"), "rp:wipe")]])


def wipe_confirm_keyboard() -> InlineKeyboardMarkup:
    """Confirm the deletion."""
    return inline([[(_("Yes, delete"), "rp:wipe:yes"), (_("No"), "rp:wipe:no")]])
