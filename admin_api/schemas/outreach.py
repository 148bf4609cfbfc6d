"""Campaign, subscriber, pledge and feedback bodies: counts and pseudonymous rows, never a Telegram identity."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import ConfigDict, Field, JsonValue

from admin_api.schemas.base import BoundedDatetime, InputModel, OutputModel
from storage.campaign_admin import (
    CampaignFields,
    CampaignMessage,
    CampaignProgress,
    CampaignRow,
    RunProgress,
)
from storage.domain import CampaignState, DeliveryStatus, ScheduleKind, SignerKind, SubscriberState, Topic
from storage.models import PledgeText
from storage.outreach_admin import (
    AreaCount,
    FeedbackItem,
    FeedbackStats,
    PledgeCoverage,
    PledgeItem,
    SubscriberStats,
    TextCount,
)

AreaCode = Annotated[int, Field(ge=1, le=99_999)]
Month = Annotated[int, Field(ge=1, le=12)]
Day = Annotated[int, Field(ge=1, le=31)]
Hour = Annotated[int, Field(ge=0, le=23, description="hour of the day in Asia/Ho_Chi_Minh")]
BODY_MAX_SOURCE = 20_000  # markup included; the visible-text limit (4096/1024) is checked separately
_CAMPAIGN_EXAMPLE: dict[str, JsonValue] = {
    "title": "Cao điểm phòng, chống ma túy",
    "body_html": "<b>Công an xã</b> đề nghị bà con báo ngay nơi mua bán ma túy qua /report.",
    "topic": "drugs",
    "target_province_codes": [1],
}


def _fields(body: InputModel) -> CampaignFields:
    """The fields the client actually sent (so an explicit null can clear an optional value)."""
    given = frozenset(body.model_fields_set)
    return CampaignFields(given=given, **{name: getattr(body, name) for name in given})


class CampaignCreate(InputModel):
    """A new campaign (saved as a draft; switch it on with POST .../schedule)."""

    model_config = ConfigDict(json_schema_extra={"examples": [_CAMPAIGN_EXAMPLE]})

    title: str = Field(min_length=1, max_length=200)
    body_html: str = Field(
        default="",
        max_length=BODY_MAX_SOURCE,
        description="Telegram HTML: b, strong, i, em, u, ins, s, strike, del, "
        'span class="tg-spoiler", tg-spoiler, a href (http/https/tg), code, pre, blockquote; '
        "escape <, > and & in text; at most 4096 visible characters (1024 with a photo)",
    )
    topic: Topic | None = Field(default=None, description="null: every subscriber whatever their topics")
    urgent: bool = Field(default=False, description="urgent notices are sent during quiet hours too")
    target_nationwide: bool = Field(default=False, description="everyone (nationwide officers only)")
    target_province_codes: list[AreaCode] = Field(default_factory=list, max_length=34)
    target_ward_codes: list[AreaCode] = Field(default_factory=list, max_length=3321)
    schedule_kind: ScheduleKind = ScheduleKind.ONCE
    send_at: BoundedDatetime | None = Field(default=None, description="once: when to send")
    yearly_month: Month | None = None
    yearly_day: Day | None = None
    yearly_end_month: Month | None = Field(default=None, description="yearly range: running until this date")
    yearly_end_day: Day | None = None
    send_hour: Hour = 8

    def fields(self) -> CampaignFields:
        """Storage's view of the body."""
        return _fields(self)


class CampaignSchedule(InputModel):
    """Switch a campaign on, optionally setting its schedule in the same step (omitted: as stored)."""

    schedule_kind: ScheduleKind | None = None
    send_at: BoundedDatetime | None = None
    yearly_month: Month | None = None
    yearly_day: Day | None = None
    yearly_end_month: Month | None = None
    yearly_end_day: Day | None = None
    send_hour: Hour | None = None

    def fields(self) -> CampaignFields:
        """Storage's view of the body."""
        return _fields(self)


class CampaignUpdate(CampaignSchedule):
    """Changes to a campaign not yet sending; omitted fields stay, null clears an optional field."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"title": "Tháng hành động phòng, chống ma túy"}]})

    title: str | None = Field(default=None, min_length=1, max_length=200)
    body_html: str | None = Field(default=None, max_length=BODY_MAX_SOURCE)
    topic: Topic | None = None
    urgent: bool | None = None
    target_nationwide: bool | None = None
    target_province_codes: list[AreaCode] | None = Field(default=None, max_length=34)
    target_ward_codes: list[AreaCode] | None = Field(default=None, max_length=3321)


class CampaignRead(OutputModel):
    """A campaign as officers see it (the photo itself: GET .../photo)."""

    id: int
    slug: str | None
    title: str
    body_html: str
    has_photo: bool
    topic: Topic | None
    urgent: bool
    target_nationwide: bool
    target_province_codes: list[int]
    target_ward_codes: list[int]
    schedule_kind: ScheduleKind
    send_at: datetime | None
    yearly_month: int | None
    yearly_day: int | None
    yearly_end_month: int | None
    yearly_end_day: int | None
    send_hour: int
    state: CampaignState
    created_by_id: int | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: CampaignRow) -> CampaignRead:
        """Build from a storage row."""
        c = row.campaign
        values: dict[str, Any] = {name: getattr(c, name) for name in cls.model_fields if name != "has_photo"}
        return cls(**values, has_photo=row.has_photo)


class CampaignList(OutputModel):
    """A page of campaigns inside your jurisdiction."""

    items: list[CampaignRead]
    total: int
    limit: int
    offset: int


class PreviewMessage(OutputModel):
    """One Bot API request the sender makes for every recipient."""

    method: str = Field(description="sendMessage, or sendPhoto when a photo is attached")
    text: str | None = Field(description="sendMessage text (null for sendPhoto)")
    caption: str | None = Field(description="sendPhoto caption (null for sendMessage, or a photo without caption)")
    parse_mode: str
    has_photo: bool
    visible_text: str = Field(description="the text as Telegram shows it, formatting removed")
    visible_length: int = Field(description="in UTF-16 code units, as Telegram counts")
    limit: int

    @classmethod
    def of(cls, message: CampaignMessage) -> PreviewMessage:
        """Build from storage's rendering."""
        return cls(
            method=message.method,
            text=None if message.has_photo else message.text,
            caption=message.text if message.has_photo else None,
            parse_mode=message.parse_mode,
            has_photo=message.has_photo,
            visible_text=message.visible_text,
            visible_length=message.visible_length,
            limit=message.limit,
        )


class CampaignPreview(OutputModel):
    """Exactly what every recipient gets (the title in bold above the text), and how many would get it now."""

    campaign_id: int
    has_photo: bool
    messages: list[PreviewMessage] = Field(
        description="the requests in order (one, unless a stored text outgrew a caption)"
    )
    recipients: int = Field(description="active subscribers the audience rule selects now")
    ready: bool = Field(description="true when POST .../schedule would accept the campaign as stored")
    problem: str | None

    @classmethod
    def of(
        cls, campaign_id: int, has_photo: bool, messages: list[CampaignMessage], recipients: int, problem: str | None
    ) -> CampaignPreview:
        """Build from storage's rendering."""
        return cls(
            campaign_id=campaign_id,
            has_photo=has_photo,
            messages=[PreviewMessage.of(m) for m in messages],
            recipients=recipients,
            ready=problem is None,
            problem=problem,
        )


class RunProgressRead(OutputModel):
    """One run: deliveries by status, send rate over the last minute, estimated seconds left."""

    run_id: int
    run_key: str
    state: CampaignState
    started_at: datetime
    finished_at: datetime | None
    total: int
    by_status: dict[DeliveryStatus, int]
    sent_last_minute: int
    rate_per_second: float
    eta_seconds: int | None = Field(description="0 when nothing is left; null while nothing was sent lately")

    @classmethod
    def of(cls, run: RunProgress) -> RunProgressRead:
        """Build from storage's result."""
        return cls.model_validate(run)


class CampaignProgressRead(OutputModel):
    """A campaign's runs and the progress of one of them (the latest unless ?run_key= names another)."""

    campaign_id: int
    state: CampaignState
    run_keys: list[str]
    recipients_now: int
    run: RunProgressRead | None

    @classmethod
    def of(cls, progress: CampaignProgress) -> CampaignProgressRead:
        """Build from storage's result."""
        return cls(
            campaign_id=progress.campaign_id,
            state=progress.state,
            run_keys=progress.run_keys,
            recipients_now=progress.recipients_now,
            run=RunProgressRead.of(progress.run) if progress.run else None,
        )


class AreaCountRead(OutputModel):
    """A count for one province or commune."""

    code: int
    name: str
    count: int
    province_code: int | None = None

    @classmethod
    def many(cls, rows: list[AreaCount]) -> list[AreaCountRead]:
        """Build a list from storage rows."""
        return [cls.model_validate(r) for r in rows]


class SubscriberStatsRead(OutputModel):
    """Subscriber counts inside your jurisdiction; subscribers are never listed one by one."""

    total: int
    by_state: dict[SubscriberState, int]
    active: int
    by_topic: dict[Topic, int] = Field(description="active subscribers per topic (one may follow several)")
    whole_country: int = Field(description="active subscribers who chose the whole country")
    whole_province: int = Field(description="active subscribers who chose a whole province")
    by_province: list[AreaCountRead]
    by_commune: list[AreaCountRead]

    @classmethod
    def of(cls, stats: SubscriberStats) -> SubscriberStatsRead:
        """Build from storage's result."""
        return cls(
            total=stats.total,
            by_state=stats.by_state,
            active=stats.active,
            by_topic=stats.by_topic,
            whole_country=stats.whole_country,
            whole_province=stats.whole_province,
            by_province=AreaCountRead.many(stats.by_province),
            by_commune=AreaCountRead.many(stats.by_commune),
        )


class TextCountRead(OutputModel):
    """Pledges signed on one version of a pledge text."""

    text_id: int
    version: int
    signer_kind: SignerKind
    province_code: int | None
    ward_code: int | None
    count: int

    @classmethod
    def of(cls, row: TextCount) -> TextCountRead:
        """Build from a storage row."""
        return cls.model_validate(row)


class PledgeCoverageRead(OutputModel):
    """How far pledges reach: household pledges per commune, all pledges by kind, province and text."""

    year: int
    total: int
    by_kind: dict[SignerKind, int]
    households_by_commune: list[AreaCountRead]
    by_province: list[AreaCountRead]
    by_text: list[TextCountRead]

    @classmethod
    def of(cls, coverage: PledgeCoverage) -> PledgeCoverageRead:
        """Build from storage's result."""
        return cls(
            year=coverage.year,
            total=coverage.total,
            by_kind=coverage.by_kind,
            households_by_commune=AreaCountRead.many(coverage.households_by_commune),
            by_province=AreaCountRead.many(coverage.by_province),
            by_text=[TextCountRead.of(t) for t in coverage.by_text],
        )


class PledgeRead(OutputModel):
    """One pledge; `representative` only for supervisors and admins who asked for names (audited)."""

    id: int
    signer_kind: SignerKind
    province_code: int
    province_name: str
    ward_code: int | None
    ward_name: str | None
    year: int
    text_id: int
    text_version: int
    created_at: datetime
    representative: str | None = None

    @classmethod
    def of(cls, item: PledgeItem, representative: str | None) -> PledgeRead:
        """Build from a storage row (the sealed name never leaves as bytes)."""
        return cls(
            id=item.id,
            signer_kind=item.signer_kind,
            province_code=item.province_code,
            province_name=item.province_name,
            ward_code=item.ward_code,
            ward_name=item.ward_name,
            year=item.year,
            text_id=item.text_id,
            text_version=item.text_version,
            created_at=item.created_at,
            representative=representative,
        )


class PledgeList(OutputModel):
    """A page of pledges."""

    items: list[PledgeRead]
    total: int
    limit: int
    offset: int


class PledgeTextCreate(InputModel):
    """A new pledge text version for the country (nationwide admins), a province or a commune."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"signer_kind": "household", "body": "Hộ gia đình chúng tôi cam kết ...", "province_code": 1}]
        }
    )

    signer_kind: SignerKind
    body: str = Field(min_length=1, max_length=4000)
    province_code: AreaCode | None = Field(default=None, description="null with ward_code null: the national text")
    ward_code: AreaCode | None = None


class PledgeTextRead(OutputModel):
    """One version of a pledge text."""

    id: int
    version: int
    signer_kind: SignerKind
    province_code: int | None
    ward_code: int | None
    body: str
    active: bool
    created_at: datetime

    @classmethod
    def of(cls, text: PledgeText) -> PledgeTextRead:
        """Build from the ORM object."""
        return cls.model_validate(text)


class PledgeTextList(OutputModel):
    """Pledge texts you may read."""

    items: list[PledgeTextRead]
    total: int


class FeedbackRead(OutputModel):
    """One anonymous opinion; nothing links it to the citizen who sent it."""

    id: int
    province_code: int
    province_name: str
    ward_code: int | None
    ward_name: str | None
    body: str
    locale: str
    created_at: datetime
    handled: bool
    handled_at: datetime | None
    handled_by: str | None

    @classmethod
    def of(cls, item: FeedbackItem) -> FeedbackRead:
        """Build from a storage row."""
        f = item.feedback
        return cls(
            id=f.id,
            province_code=f.province_code,
            province_name=item.province_name,
            ward_code=f.ward_code,
            ward_name=item.ward_name,
            body=f.body,
            locale=f.locale,
            created_at=f.created_at,
            handled=f.handled_at is not None,
            handled_at=f.handled_at,
            handled_by=item.handled_by_username,
        )


class FeedbackList(OutputModel):
    """A page of feedback."""

    items: list[FeedbackRead]
    total: int
    limit: int
    offset: int


class FeedbackUpdate(InputModel):
    """Mark an opinion handled, or open it again."""

    handled: bool


class FeedbackStatsRead(OutputModel):
    """Feedback counts inside your jurisdiction."""

    total: int
    handled: int
    open: int
    by_province: list[AreaCountRead]
    by_commune: list[AreaCountRead]

    @classmethod
    def of(cls, stats: FeedbackStats) -> FeedbackStatsRead:
        """Build from storage's result."""
        return cls(
            total=stats.total,
            handled=stats.handled,
            open=stats.open,
            by_province=AreaCountRead.many(stats.by_province),
            by_commune=AreaCountRead.many(stats.by_commune),
        )
