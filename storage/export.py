"""CSV export of tips inside an officer's scope: batched reads, Excel-friendly, injection-safe cells."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Officer, Province, Tip, Ward
from storage.scope import Scope
from storage.tip_filters import TipFilter, filter_clauses

# Vietnam has kept UTC+7 without daylight saving since 1975.
VIETNAM = timezone(timedelta(hours=7))
BOM = "\ufeff"
BATCH_ROWS = 1000
COLUMNS = (
    "ref",
    "created_at",
    "category",
    "group",
    "province",
    "commune",
    "status",
    "priority",
    "urgent",
    "outcome",
    "assignee",
    "first_response_seconds",
)
# Spreadsheets run cells that start with these as formulas (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class ExportPlan:
    """What one export will contain: its conditions and the last tip id it may include."""

    where: list[ColumnElement[bool]]
    rows: int
    max_id: int


def safe_cell(value: object) -> str:
    """A cell as text; a leading formula character gets a quote so spreadsheets show it as text."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def filter_summary(tip_filter: TipFilter) -> dict[str, Any]:
    """The non-empty filter fields, JSON-friendly, for the audit trail."""
    summary: dict[str, Any] = {}
    for item in fields(tip_filter):
        value = getattr(tip_filter, item.name)
        if value is None or (isinstance(value, (tuple, list)) and not value):
            continue
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, (tuple, list)):
            value = [str(v) for v in value]
        summary[item.name] = value
    return summary


async def plan_export(
    session: AsyncSession, *, tip_filter: TipFilter, scope: Scope, now: datetime, ack_within: timedelta
) -> ExportPlan:
    """Count the rows and pin the newest tip id, so tips arriving mid-download are left out."""
    where = filter_clauses(tip_filter, scope, now=now, ack_within=ack_within)
    rows, max_id = (await session.execute(select(func.count(), func.max(Tip.id)).where(and_(*where)))).one()
    return ExportPlan(where=where, rows=int(rows), max_id=int(max_id or 0))


def _row(values: Sequence[Any], include_description: bool) -> list[str]:
    """One CSV row from the selected columns."""
    tip_ref, created, category, group, province, commune, status, priority, urgent, outcome, assignee = values[:11]
    first_response = values[11]
    seconds = int((first_response - created).total_seconds()) if first_response is not None else None
    cells: list[object] = [
        tip_ref,
        created.astimezone(VIETNAM).isoformat(timespec="seconds"),
        category,
        group,
        province,
        commune,
        status,
        priority,
        "true" if urgent else "false",
        outcome,
        assignee,
        seconds,
    ]
    if include_description:
        cells.append(values[12])
    return [safe_cell(c) for c in cells]


def _select(include_description: bool) -> Any:
    """The export columns: never a Telegram identity, never an identified name or phone."""
    columns: list[Any] = [
        Tip.ref,
        Tip.created_at,
        Tip.category,
        Tip.category_group,
        Province.name,
        Ward.name,
        Tip.status,
        Tip.priority,
        Tip.urgent,
        Tip.outcome,
        Officer.username,
        Tip.first_response_at,
    ]
    if include_description:
        columns.append(Tip.description)
    return (
        select(Tip.id, *columns)
        .join(Province, Province.code == Tip.province_code)
        .outerjoin(Ward, Ward.code == Tip.ward_code)
        .outerjoin(Officer, Officer.id == Tip.assignee_id)
    )


async def export_batches(
    session: AsyncSession, *, plan: ExportPlan, include_description: bool, batch_rows: int = BATCH_ROWS
) -> AsyncIterator[list[list[str]]]:
    """CSV rows in id order, a batch at a time (keyset paging: the table is never held in memory)."""
    last_id = 0
    stmt = _select(include_description)
    while True:
        batch = (
            await session.execute(
                stmt.where(and_(*plan.where), Tip.id > last_id, Tip.id <= plan.max_id)
                .order_by(Tip.id)
                .limit(batch_rows)
            )
        ).all()
        if not batch:
            return
        last_id = int(batch[-1][0])
        yield [_row(tuple(r)[1:], include_description) for r in batch]


def csv_text(rows: Sequence[Sequence[str]]) -> str:
    """Rows as CSV text (RFC 4180 quoting, CRLF line ends as Excel expects)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


def header(include_description: bool) -> list[str]:
    """The column names of an export."""
    return [*COLUMNS, "description"] if include_description else list(COLUMNS)
