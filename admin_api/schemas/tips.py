"""Tip list, detail, changes, notes and replies: bodies that never carry a Telegram identifier."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import Field, model_validator
from pydantic.json_schema import SkipJsonSchema

from admin_api.deps import MAX_ID
from admin_api.schemas.base import InputModel, OutputModel
from storage.domain import (
    MAX_FOLLOWUP_CHARS,
    Anonymity,
    AttachmentKind,
    Category,
    CategoryGroup,
    DeliveryState,
    MessageAuthor,
    MessageKind,
    Outcome,
    Priority,
    TipStatus,
    WhenKind,
)
from storage.models import AuditEvent
from storage.tip_queries import AttachmentEntry, RelatedTip, ThreadEntry, TipDetail, TipRow
from storage.triage import Identity

TipId = Annotated[int, Field(ge=1, le=MAX_ID)]


class AssigneeRead(OutputModel):
    """The officer a tip is assigned to."""

    id: int
    username: str


class TipItem(OutputModel):
    """One tip in the list."""

    id: int
    ref: str
    category: Category
    group: CategoryGroup
    province_code: int
    province_name: str | None
    ward_code: int | None
    ward_name: str | None
    status: TipStatus
    priority: Priority
    urgent: bool
    outcome: Outcome | None
    assignee: AssigneeRead | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    first_response_seconds: int | None = Field(description="seconds from the tip to the first officer action")
    unread_messages: int = Field(description="tipster messages no officer has opened yet")
    overdue: bool
    anonymity: Anonymity
    reporter_alias: str | None = Field(description="pseudonym of the tipster; null for fully anonymous tips")

    @classmethod
    def of(cls, row: TipRow) -> TipItem:
        """Build from a storage row."""
        assignee = (
            AssigneeRead(id=row.assignee_id, username=row.assignee_username)
            if row.assignee_id is not None and row.assignee_username is not None
            else None
        )
        return cls(
            id=row.id,
            ref=row.ref,
            category=row.category,
            group=row.group,
            province_code=row.province_code,
            province_name=row.province_name,
            ward_code=row.ward_code,
            ward_name=row.ward_name,
            status=row.status,
            priority=row.priority,
            urgent=row.urgent,
            outcome=row.outcome,
            assignee=assignee,
            created_at=row.created_at,
            updated_at=row.updated_at,
            closed_at=row.closed_at,
            first_response_seconds=row.first_response_seconds,
            unread_messages=row.unread,
            overdue=row.overdue,
            anonymity=row.anonymity,
            reporter_alias=row.reporter_alias,
        )


class TipList(OutputModel):
    """A page of tips; pass `next_cursor` as `cursor` for the next page (null on the last)."""

    items: list[TipItem]
    total: int = Field(description="tips matching the filter, counted up to 10,000 (1,000 with a text search `q`)")
    total_capped: bool = Field(description="true when more than `total` tips match (show it as 10,000+ or 1,000+)")
    next_cursor: str | None


class WhenRead(OutputModel):
    """When the event happened, as precisely as the tipster knew."""

    kind: WhenKind
    date: date | None


class PinRead(OutputModel):
    """A location pin the tipster sent."""

    latitude: float
    longitude: float


class MessageRead(OutputModel):
    """One thread entry: tipster message, officer reply, internal note or system notice."""

    id: int
    author: MessageAuthor
    kind: MessageKind
    body: str
    created_at: datetime
    officer_username: str | None = Field(description="for officer entries; tipsters never see it")
    delivery_state: DeliveryState | None
    attachments: list[int] = Field(description="indexes of the tip's attachments this entry carried")

    @classmethod
    def of(cls, entry: ThreadEntry) -> MessageRead:
        """Build from a storage thread entry."""
        m = entry.message
        return cls(
            id=m.id,
            author=m.author,
            kind=m.kind,
            body=m.body,
            created_at=m.created_at,
            officer_username=entry.officer_username if m.author is MessageAuthor.OFFICER else None,
            delivery_state=m.delivery_state,
            attachments=entry.attachment_indexes,
        )


class AttachmentRead(OutputModel):
    """A file; its bytes come from /api/v1/tips/{id}/attachments/{index}."""

    index: int
    type: AttachmentKind
    size: int | None
    mime_type: str | None
    created_at: datetime

    @classmethod
    def of(cls, entry: AttachmentEntry) -> AttachmentRead:
        """Build from a storage entry."""
        a = entry.attachment
        return cls(index=entry.index, type=a.kind, size=a.size, mime_type=a.mime_type, created_at=a.created_at)


class RelatedRead(OutputModel):
    """A related tip inside the caller's jurisdiction."""

    id: int
    ref: str
    category: Category
    status: TipStatus
    created_at: datetime
    reason: str = Field(description="same_reporter or same_place (same commune and category within 30 days)")

    @classmethod
    def of(cls, related: RelatedTip) -> RelatedRead:
        """Build from a storage entry."""
        return cls(
            id=related.id,
            ref=related.ref,
            category=related.category,
            status=related.status,
            created_at=related.created_at,
            reason=related.reason,
        )


class AuditRead(OutputModel):
    """One event of the tip's audit trail."""

    id: int
    at: datetime
    officer_id: int | None
    action: str
    detail: dict[str, Any]

    @classmethod
    def of(cls, event: AuditEvent) -> AuditRead:
        """Build from the stored event."""
        return cls(id=event.id, at=event.at, officer_id=event.officer_id, action=event.action, detail=event.detail)


class IdentityRead(OutputModel):
    """What an identified tipster chose to share (supervisors and admins only; every view audited)."""

    name: str
    phone: str


class TipDetailRead(TipItem):
    """Everything an officer sees about one tip."""

    description: str
    place_detail: str | None
    when: WhenRead
    pin: PinRead | None
    identified: bool
    identity: IdentityRead | None = Field(description="null unless the tipster is identified and you may see it")
    duplicate_of_id: int | None
    messages: list[MessageRead]
    attachments: list[AttachmentRead]
    related: list[RelatedRead]
    audit: list[AuditRead]

    @classmethod
    def build(cls, detail: TipDetail, identity: Identity | None) -> TipDetailRead:
        """Build from the storage detail and the identity the caller may see."""
        tip = detail.tip
        pin = (
            PinRead(latitude=tip.latitude, longitude=tip.longitude)
            if tip.latitude is not None and tip.longitude is not None
            else None
        )
        return cls(
            **TipItem.of(detail.row).model_dump(),
            description=tip.description,
            place_detail=tip.place_detail,
            when=WhenRead(kind=tip.when_kind, date=tip.occurred_on),
            pin=pin,
            identified=tip.anonymity is Anonymity.IDENTIFIED,
            identity=IdentityRead(name=identity.name, phone=identity.phone) if identity else None,
            duplicate_of_id=tip.duplicate_of_id,
            messages=[MessageRead.of(e) for e in detail.thread],
            attachments=[AttachmentRead.of(a) for a in detail.attachments],
            related=[RelatedRead.of(r) for r in detail.related],
            audit=[AuditRead.of(e) for e in detail.trail],
        )


class TipUpdate(InputModel):
    """Triage changes; omitted fields stay as they are, `assignee_id: null` unassigns.

    `outcome` only together with `status: closed` (and then required, unless `duplicate_of_id` implies
    `duplicate`). Unknown or read-only fields (id, ref, description, …) are rejected with 422.
    """

    status: TipStatus | SkipJsonSchema[None] = None
    priority: Priority | SkipJsonSchema[None] = None
    outcome: Outcome | SkipJsonSchema[None] = None
    assignee_id: TipId | None = None
    duplicate_of_id: TipId | None = None

    @model_validator(mode="after")
    def _no_nulls(self) -> TipUpdate:
        for name in ("status", "priority", "outcome"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} may not be null")
        return self


class MessageCreate(InputModel):
    """An internal note or a reply to the tipster."""

    body: str = Field(min_length=1, max_length=MAX_FOLLOWUP_CHARS)
