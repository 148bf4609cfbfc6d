"""Audit trail response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from admin_api.schemas.base import OutputModel


class AuditEventRead(OutputModel):
    """Who did what, when, on which tip."""

    id: int
    at: datetime
    officer_id: int | None
    officer_username: str | None
    action: str
    tip_id: int | None
    tip_ref: str | None
    detail: dict[str, Any]


class AuditPage(OutputModel):
    """One page of audit events, newest first."""

    items: list[AuditEventRead]
    total: int
    limit: int
    offset: int
