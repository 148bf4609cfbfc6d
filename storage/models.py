"""SQLAlchemy 2 typed models; no column ever holds a Telegram identity in plaintext."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    column,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.domain import (
    Anonymity,
    AttachmentKind,
    CampaignState,
    Category,
    CategoryGroup,
    DeliveryState,
    DeliveryStatus,
    MessageAuthor,
    MessageKind,
    OfficerRole,
    Outcome,
    Priority,
    ScheduleKind,
    SignerKind,
    SubscriberState,
    TipStatus,
    Topic,
    WhenKind,
)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current time, timezone-aware."""
    return datetime.now(UTC)


def _enum(enum_cls: type[Any], name: str) -> Enum:
    """Store a StrEnum by value as a plain string (portable between SQLite and PostgreSQL)."""
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=False,
        length=32,
        values_callable=lambda e: [m.value for m in e],
    )


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite would hand back naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    """Declarative base with the project's constraint naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


class Province(Base):
    """A province or centrally-run city (34 since 1 July 2025)."""

    __tablename__ = "provinces"

    code: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(100))
    name_folded: Mapped[str] = mapped_column(String(100))
    division_type: Mapped[str] = mapped_column(String(40))
    codename: Mapped[str] = mapped_column(String(100))


class Ward(Base):
    """A commune, ward or special zone (3,321 since 1 July 2025)."""

    __tablename__ = "wards"
    __table_args__ = (Index("ix_wards_province_folded", "province_code", "name_folded"),)

    code: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    province_code: Mapped[int] = mapped_column(ForeignKey("provinces.code"))
    name: Mapped[str] = mapped_column(String(100))
    name_folded: Mapped[str] = mapped_column(String(100))
    division_type: Mapped[str] = mapped_column(String(40))
    codename: Mapped[str] = mapped_column(String(100))


class Reporter(Base):
    """A pseudonymous citizen: found by HMAC of the Telegram user id, shown to officers by alias."""

    __tablename__ = "reporters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    alias: Mapped[str] = mapped_column(String(32), unique=True)
    locale: Mapped[str] = mapped_column(String(8), default="vi")
    # Only set once the citizen chose "anonymous with follow-up" or "identified"; AES-GCM sealed.
    chat_enc: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Tip(Base):
    """A citizen's report of a crime or violation."""

    __tablename__ = "tips"
    __table_args__ = (
        Index("ix_tips_status_created", "status", "created_at"),
        Index("ix_tips_province_created", "province_code", "created_at"),
        # Migration 0003 (see there for why each exists): list orders per commune and category, new tips
        # per province, index-only scans for a province's statistics, trigram search (PostgreSQL only).
        Index("ix_tips_ward_created", "ward_code", "created_at"),
        Index("ix_tips_category_created", "category", "created_at"),
        Index("ix_tips_group_created", "category_group", "created_at"),
        Index(
            "ix_tips_new_province_created",
            "province_code",
            "created_at",
            postgresql_where=text("status = 'new'"),
            sqlite_where=text("status = 'new'"),
        ),
        Index(
            "ix_tips_stats_cover",
            "province_code",
            "category",
            "status",
            "outcome",
            "ward_code",
            "created_at",
            "first_response_at",
        ),
        Index(
            "ix_tips_first_response",
            func.date_part("epoch", column("first_response_at") - column("created_at")).label("response_seconds"),
            postgresql_include=[
                "created_at",
                "first_response_at",
                "province_code",
                "ward_code",
                "category",
                "category_group",
                "status",
                "outcome",
            ],
            postgresql_where=text("first_response_at IS NOT NULL"),
        ).ddl_if(dialect="postgresql"),
        Index(
            "ix_tips_description_trgm",
            func.lower(column("description")).label("description_lower"),
            postgresql_using="gin",
            postgresql_ops={"description_lower": "gin_trgm_ops"},
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref: Mapped[str] = mapped_column(String(16), unique=True)
    receipt_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    # NULL for fully anonymous tips: nothing links them to an account.
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("reporters.id", ondelete="SET NULL"))
    anonymity: Mapped[Anonymity] = mapped_column(_enum(Anonymity, "anonymity"))
    locale: Mapped[str] = mapped_column(String(8), default="vi")
    category: Mapped[Category] = mapped_column(_enum(Category, "category"), index=True)
    category_group: Mapped[CategoryGroup] = mapped_column(_enum(CategoryGroup, "category_group"), index=True)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    priority: Mapped[Priority] = mapped_column(_enum(Priority, "priority"), default=Priority.NORMAL)
    status: Mapped[TipStatus] = mapped_column(_enum(TipStatus, "tip_status"), default=TipStatus.NEW)
    outcome: Mapped[Outcome | None] = mapped_column(_enum(Outcome, "outcome"), default=None)
    province_code: Mapped[int] = mapped_column(ForeignKey("provinces.code"))
    ward_code: Mapped[int | None] = mapped_column(ForeignKey("wards.code"), index=True)
    place_detail: Mapped[str | None] = mapped_column(Text, default=None)
    latitude: Mapped[float | None] = mapped_column(Float, default=None)
    longitude: Mapped[float | None] = mapped_column(Float, default=None)
    when_kind: Mapped[WhenKind] = mapped_column(_enum(WhenKind, "when_kind"))
    occurred_on: Mapped[date | None] = mapped_column(Date, default=None)
    description: Mapped[str] = mapped_column(Text)
    # Identified tipsters only: what they chose to share, sealed; officers' views are audited.
    identity_name_enc: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    identity_phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    first_response_at: Mapped[datetime | None] = mapped_column(default=None)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id", ondelete="SET NULL"), index=True)
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("tips.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    last_alert_at: Mapped[datetime | None] = mapped_column(default=None)

    reporter: Mapped[Reporter | None] = relationship(lazy="raise")
    messages: Mapped[list[TipMessage]] = relationship(
        back_populates="tip", lazy="raise", order_by="TipMessage.id", cascade="all, delete-orphan"
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="tip", lazy="raise", order_by="Attachment.id", cascade="all, delete-orphan"
    )


class _PeriodCountKey:
    """The key every count table starts with; the rest of the key follows it (kept by database triggers)."""

    __table_args__ = {"sqlite_with_rowid": False}  # SQLite: the key is the table, one B-tree per upsert

    # "year" or "month"; period_start is the first local (Vietnam) day of that period. sort_order keeps these
    # first in the primary key, as the migration created it.
    grain: Mapped[str] = mapped_column(String(8), primary_key=True, sort_order=-1)
    province_code: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False, sort_order=-1)
    period_start: Mapped[date] = mapped_column(Date, primary_key=True, sort_order=-1)


class TipCount(_PeriodCountKey, Base):
    """Tips per local year or month × province × category × status × outcome (kept by database triggers)."""

    __tablename__ = "tip_counts"

    category: Mapped[str] = mapped_column(String(32), primary_key=True)
    category_group: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(32), primary_key=True)
    # "" for tips without an outcome: NULL would make every such row distinct to ON CONFLICT.
    outcome: Mapped[str] = mapped_column(String(32), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)
    responded: Mapped[int] = mapped_column(Integer)


class TipCommuneCount(_PeriodCountKey, Base):
    """Tips per local year or month × commune × restricted category or not (kept by database triggers)."""

    __tablename__ = "tip_commune_counts"

    # 0 for tips without a commune (no commune has code 0).
    ward_code: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    restricted: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class TipPeriodCount(_PeriodCountKey, Base):
    """Tips per local year or month × province × category (kept by database triggers): the time series."""

    __tablename__ = "tip_period_counts"

    category: Mapped[str] = mapped_column(String(32), primary_key=True)
    category_group: Mapped[str] = mapped_column(String(32), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class TipMessage(Base):
    """One message in a tip's thread: tipster additions, officer replies, internal notes."""

    __tablename__ = "tip_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tip_id: Mapped[int] = mapped_column(ForeignKey("tips.id", ondelete="CASCADE"), index=True)
    author: Mapped[MessageAuthor] = mapped_column(_enum(MessageAuthor, "message_author"))
    kind: Mapped[MessageKind] = mapped_column(_enum(MessageKind, "message_kind"), default=MessageKind.MESSAGE)
    body: Mapped[str] = mapped_column(Text, default="")
    read_by_officer: Mapped[bool] = mapped_column(Boolean, default=False)
    # Officer replies and notes: who wrote it (never shown to the tipster) and how delivery went.
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id", ondelete="SET NULL"))
    delivery_state: Mapped[DeliveryState | None] = mapped_column(_enum(DeliveryState, "delivery_state"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    tip: Mapped[Tip] = relationship(back_populates="messages", lazy="raise")


class Attachment(Base):
    """Evidence a tipster sent: the Telegram file reference, never the bytes (yet)."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tip_id: Mapped[int] = mapped_column(ForeignKey("tips.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("tip_messages.id", ondelete="SET NULL"))
    kind: Mapped[AttachmentKind] = mapped_column(_enum(AttachmentKind, "attachment_kind"))
    file_id: Mapped[str] = mapped_column(String(255))
    file_unique_id: Mapped[str] = mapped_column(String(64))
    size: Mapped[int | None] = mapped_column(BigInteger, default=None)
    mime_type: Mapped[str | None] = mapped_column(String(100), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    tip: Mapped[Tip] = relationship(back_populates="attachments", lazy="raise")


class ProcessedUpdate(Base):
    """Telegram update ids already handled, so a redelivered update is handled once."""

    __tablename__ = "processed_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class FsmRecord(Base):
    """A conversation's state and sealed draft data, keyed by a keyed hash (never a raw id)."""

    __tablename__ = "fsm_records"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str | None] = mapped_column(String(100), default=None)
    data_enc: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)


class ThrottleHit(Base):
    """One attempt counted against a limit (e.g. receipt-code guesses), keyed by a keyed hash."""

    __tablename__ = "throttle_hits"
    __table_args__ = (Index("ix_throttle_hits_bucket_key_at", "bucket", "key_hash", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bucket: Mapped[str] = mapped_column(String(32))
    key_hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Officer(Base):
    """A police officer who uses the officer API inside a jurisdiction."""

    __tablename__ = "officers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[OfficerRole] = mapped_column(_enum(OfficerRole, "officer_role"), default=OfficerRole.OFFICER)
    nationwide: Mapped[bool] = mapped_column(Boolean, default=False)
    can_view_restricted: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    on_duty: Mapped[bool] = mapped_column(Boolean, default=True)
    totp_secret_enc: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    totp_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # Sealed Telegram chat for content-free urgent alerts, linked with a one-time code.
    telegram_chat_enc: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    provinces: Mapped[list[OfficerProvince]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="OfficerProvince.province_code"
    )
    wards: Mapped[list[OfficerWard]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="OfficerWard.ward_code"
    )


class OfficerProvince(Base):
    """A province inside an officer's jurisdiction."""

    __tablename__ = "officer_provinces"

    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id", ondelete="CASCADE"), primary_key=True)
    province_code: Mapped[int] = mapped_column(ForeignKey("provinces.code"), primary_key=True)


class OfficerWard(Base):
    """A commune inside an officer's jurisdiction."""

    __tablename__ = "officer_wards"

    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id", ondelete="CASCADE"), primary_key=True)
    ward_code: Mapped[int] = mapped_column(ForeignKey("wards.code"), primary_key=True)


class AuthToken(Base):
    """A bearer token, stored only as a hash; revoked on logout, password change and deactivation."""

    __tablename__ = "auth_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class OneTimeCode(Base):
    """A short-lived code, hashed: linking an officer's Telegram account for alerts."""

    __tablename__ = "one_time_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(32))
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class AuditEvent(Base):
    """Who read, changed, replied, exported or logged in, and when."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_tip_at", "tip_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(String(48), index=True)
    tip_id: Mapped[int | None] = mapped_column(ForeignKey("tips.id", ondelete="SET NULL"))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Subscriber(Base):
    """A citizen who opted in to campaign notices for an area and topics."""

    __tablename__ = "subscribers"
    __table_args__ = (Index("ix_subscribers_state_province", "state", "province_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("reporters.id", ondelete="CASCADE"), unique=True)
    chat_enc: Mapped[bytes] = mapped_column(LargeBinary)  # sealed chat id, purpose "subscriber_chat"
    locale: Mapped[str] = mapped_column(String(8), default="vi")
    # NULL province = the whole country; NULL ward = the whole province.
    province_code: Mapped[int | None] = mapped_column(ForeignKey("provinces.code"), default=None)
    ward_code: Mapped[int | None] = mapped_column(ForeignKey("wards.code"), default=None, index=True)
    topics_mask: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[SubscriberState] = mapped_column(
        _enum(SubscriberState, "subscriber_state"), default=SubscriberState.ACTIVE
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Campaign(Base):
    """A notice officers plan once: message, target, schedule."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)  # seeded national days
    title: Mapped[str] = mapped_column(String(200))
    body_html: Mapped[str] = mapped_column(Text, default="")
    photo: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    photo_file_id: Mapped[str | None] = mapped_column(String(255), default=None)  # cached after the first send
    topic: Mapped[Topic | None] = mapped_column(_enum(Topic, "topic"), default=None)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)  # urgent notices ignore quiet hours
    target_nationwide: Mapped[bool] = mapped_column(Boolean, default=True)
    target_province_codes: Mapped[list[int]] = mapped_column(JSON, default=list)
    target_ward_codes: Mapped[list[int]] = mapped_column(JSON, default=list)
    schedule_kind: Mapped[ScheduleKind] = mapped_column(_enum(ScheduleKind, "schedule_kind"), default=ScheduleKind.ONCE)
    send_at: Mapped[datetime | None] = mapped_column(default=None)  # once
    yearly_month: Mapped[int | None] = mapped_column(Integer, default=None)
    yearly_day: Mapped[int | None] = mapped_column(Integer, default=None)
    yearly_end_month: Mapped[int | None] = mapped_column(Integer, default=None)  # date range: running until
    yearly_end_day: Mapped[int | None] = mapped_column(Integer, default=None)
    send_hour: Mapped[int] = mapped_column(Integer, default=8)  # Asia/Ho_Chi_Minh
    state: Mapped[CampaignState] = mapped_column(_enum(CampaignState, "campaign_state"), default=CampaignState.DRAFT)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id", ondelete="SET NULL"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CampaignRun(Base):
    """One firing of a campaign (the once-run, or one year's run); deliveries hang off it."""

    __tablename__ = "campaign_runs"
    __table_args__ = (UniqueConstraint("campaign_id", "run_key", name="uq_campaign_runs_campaign_run_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    run_key: Mapped[str] = mapped_column(String(32))  # "once" or the year
    state: Mapped[CampaignState] = mapped_column(_enum(CampaignState, "campaign_state"), default=CampaignState.SENDING)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)


class Delivery(Base):
    """One subscriber's copy of one run: idempotent on (run, subscriber)."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("run_id", "subscriber_id", name="uq_deliveries_run_subscriber"),
        Index("ix_deliveries_run_status", "run_id", "status"),
        Index("ix_deliveries_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("campaign_runs.id", ondelete="CASCADE"))
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    status: Mapped[DeliveryStatus] = mapped_column(
        _enum(DeliveryStatus, "delivery_status"), default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=None)
    claimed_at: Mapped[datetime | None] = mapped_column(default=None)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    error: Mapped[str | None] = mapped_column(String(200), default=None)


class PledgeText(Base):
    """A versioned pledge text; the newest active one for the commune (or province, or country) is in force."""

    __tablename__ = "pledge_texts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    signer_kind: Mapped[SignerKind] = mapped_column(_enum(SignerKind, "signer_kind"))
    province_code: Mapped[int | None] = mapped_column(ForeignKey("provinces.code"), default=None)
    ward_code: Mapped[int | None] = mapped_column(ForeignKey("wards.code"), default=None)
    body: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Pledge(Base):
    """A signed safety pledge: one active pledge per signer, kind and year."""

    __tablename__ = "pledges"
    __table_args__ = (
        UniqueConstraint("reporter_id", "signer_kind", "year", name="uq_pledges_reporter_kind_year"),
        Index("ix_pledges_ward_year", "ward_code", "year"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("reporters.id", ondelete="CASCADE"))
    signer_kind: Mapped[SignerKind] = mapped_column(_enum(SignerKind, "signer_kind"))
    province_code: Mapped[int] = mapped_column(ForeignKey("provinces.code"))
    ward_code: Mapped[int | None] = mapped_column(ForeignKey("wards.code"), default=None)
    representative_enc: Mapped[bytes] = mapped_column(LargeBinary)  # sealed, purpose "pledge_name"
    text_id: Mapped[int] = mapped_column(ForeignKey("pledge_texts.id"))
    year: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Feedback(Base):
    """ "Công an lắng nghe ý kiến Nhân dân": an anonymous suggestion, kept apart from tips."""

    __tablename__ = "feedback"
    __table_args__ = (Index("ix_feedback_province_created", "province_code", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    province_code: Mapped[int] = mapped_column(ForeignKey("provinces.code"))
    ward_code: Mapped[int | None] = mapped_column(ForeignKey("wards.code"), default=None)
    body: Mapped[str] = mapped_column(Text)
    locale: Mapped[str] = mapped_column(String(8), default="vi")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    handled_at: Mapped[datetime | None] = mapped_column(default=None)
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id", ondelete="SET NULL"), default=None)


class Lease(Base):
    """A named lock with an expiry: only the holder runs the scheduler and the campaign sender."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column()
