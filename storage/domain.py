"""The tip-line vocabulary: categories, groups, statuses, anonymity levels and limits."""

from __future__ import annotations

from enum import StrEnum

DESCRIPTION_MAX_CHARS = 4000
PLACE_DETAIL_MAX_CHARS = 500
MAX_ATTACHMENTS = 10
MAX_FOLLOWUP_CHARS = 4000
NAME_MAX_CHARS = 120


class CategoryGroup(StrEnum):
    """How the movement groups tips in its statistics."""

    POLITICAL_SECURITY = "political_security"
    CRIMINAL = "criminal"
    SOCIAL_EVILS = "social_evils"
    OTHER = "other"


class Category(StrEnum):
    """What a tip is about."""

    POLITICAL_SECURITY = "political_security"
    THEFT_ROBBERY = "theft_robbery"
    ASSAULT_MURDER = "assault_murder"
    FRAUD = "fraud"
    CYBERCRIME = "cybercrime"
    HUMAN_TRAFFICKING = "human_trafficking"
    SMUGGLING_COUNTERFEIT = "smuggling_counterfeit"
    WEAPONS_EXPLOSIVES = "weapons_explosives"
    DRUGS = "drugs"
    GAMBLING = "gambling"
    PROSTITUTION = "prostitution"
    TRAFFIC = "traffic"
    FIRE = "fire"
    ENVIRONMENT = "environment"
    OTHER = "other"

    @property
    def group(self) -> CategoryGroup:
        """The statistics group this category belongs to."""
        return CATEGORY_GROUPS[self]


CATEGORIES_BY_GROUP: dict[CategoryGroup, tuple[Category, ...]] = {
    CategoryGroup.POLITICAL_SECURITY: (Category.POLITICAL_SECURITY,),
    CategoryGroup.CRIMINAL: (
        Category.THEFT_ROBBERY,
        Category.ASSAULT_MURDER,
        Category.FRAUD,
        Category.CYBERCRIME,
        Category.HUMAN_TRAFFICKING,
        Category.SMUGGLING_COUNTERFEIT,
        Category.WEAPONS_EXPLOSIVES,
    ),
    CategoryGroup.SOCIAL_EVILS: (Category.DRUGS, Category.GAMBLING, Category.PROSTITUTION),
    CategoryGroup.OTHER: (Category.TRAFFIC, Category.FIRE, Category.ENVIRONMENT, Category.OTHER),
}
CATEGORY_GROUPS: dict[Category, CategoryGroup] = {
    cat: group for group, cats in CATEGORIES_BY_GROUP.items() for cat in cats
}
RESTRICTED_CATEGORIES = frozenset({Category.POLITICAL_SECURITY})


class Anonymity(StrEnum):
    """What the tipster chose to keep; see DOMAIN.md."""

    ANONYMOUS = "anonymous"
    FOLLOW_UP = "follow_up"
    IDENTIFIED = "identified"


class TipStatus(StrEnum):
    """Where a tip is in its life."""

    NEW = "new"
    IN_REVIEW = "in_review"
    NEEDS_INFO = "needs_info"
    FORWARDED = "forwarded"
    CLOSED = "closed"


class Outcome(StrEnum):
    """How a closed tip ended."""

    VALUABLE = "valuable"
    NOT_ACTIONABLE = "not_actionable"
    DUPLICATE = "duplicate"
    FALSE_REPORT = "false_report"
    SPAM = "spam"


class Priority(StrEnum):
    """How fast officers should look at a tip."""

    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


class WhenKind(StrEnum):
    """When the reported event happened, as precisely as the citizen knows."""

    TODAY = "today"
    YESTERDAY = "yesterday"
    THIS_WEEK = "this_week"
    EARLIER = "earlier"
    UNKNOWN = "unknown"
    DATE = "date"


class AttachmentKind(StrEnum):
    """The Telegram media types a tip may carry."""

    PHOTO = "photo"
    VIDEO = "video"
    DOCUMENT = "document"
    VOICE = "voice"
    AUDIO = "audio"
    VIDEO_NOTE = "video_note"


class MessageAuthor(StrEnum):
    """Who wrote a message in a tip's thread."""

    TIPSTER = "tipster"
    OFFICER = "officer"
    SYSTEM = "system"


class MessageKind(StrEnum):
    """Whether a thread message reaches the tipster."""

    MESSAGE = "message"
    NOTE = "note"


class OfficerRole(StrEnum):
    """What an officer may do; admins also manage officers and read the audit log."""

    OFFICER = "officer"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class DeliveryState(StrEnum):
    """How far an officer's message to a tipster got."""

    QUEUED = "queued"
    DELIVERED = "delivered"
    BLOCKED = "blocked"
    FAILED = "failed"
    STATUS_ONLY = "status_only"  # anonymous tipster: readable only with /status and the receipt code


# The tip life in DOMAIN.md: which status may follow which.
TIP_TRANSITIONS: dict[TipStatus, frozenset[TipStatus]] = {
    TipStatus.NEW: frozenset({TipStatus.IN_REVIEW, TipStatus.NEEDS_INFO, TipStatus.FORWARDED, TipStatus.CLOSED}),
    TipStatus.IN_REVIEW: frozenset({TipStatus.NEEDS_INFO, TipStatus.FORWARDED, TipStatus.CLOSED}),
    TipStatus.NEEDS_INFO: frozenset({TipStatus.IN_REVIEW, TipStatus.CLOSED}),
    TipStatus.FORWARDED: frozenset({TipStatus.CLOSED}),
    TipStatus.CLOSED: frozenset(),
}


class Topic(StrEnum):
    """What a subscriber wants to hear about; a campaign has at most one topic."""

    DRUGS = "drugs"
    TRAFFICKING = "trafficking"
    FIRE = "fire"
    TRAFFIC = "traffic"
    SCAMS = "scams"
    SECURITY_FESTIVAL = "security_festival"


# Topics are stored as a bit mask so a campaign's recipients are one indexed SQL condition.
TOPIC_BITS: dict[Topic, int] = {topic: 1 << i for i, topic in enumerate(Topic)}
ALL_TOPICS_MASK = sum(TOPIC_BITS.values())


class SubscriberState(StrEnum):
    """Whether a subscriber still receives campaigns."""

    ACTIVE = "active"
    UNSUBSCRIBED = "unsubscribed"
    GONE = "gone"  # blocked the bot (Telegram answered 403)


class CampaignState(StrEnum):
    """A campaign's life: draft → scheduled → sending → done, or cancelled."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    DONE = "done"
    CANCELLED = "cancelled"


class ScheduleKind(StrEnum):
    """Once at a moment, or every year on a date (or the first day of a date range)."""

    ONCE = "once"
    YEARLY = "yearly"


class DeliveryStatus(StrEnum):
    """One recipient's copy of one campaign run."""

    PENDING = "pending"
    SENDING = "sending"  # claimed by the sender; after a crash it is sent again (bounded duplicates)
    SENT = "sent"
    GONE = "gone"
    FAILED = "failed"
    CANCELLED = "cancelled"  # never sent: the campaign was cancelled, or the subscriber left before their turn


class SignerKind(StrEnum):
    """Who signs a safety pledge."""

    HOUSEHOLD = "household"
    AGENCY = "agency"
    ENTERPRISE = "enterprise"
    SCHOOL = "school"
