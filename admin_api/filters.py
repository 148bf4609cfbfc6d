"""Query parameters → TipFilter, shared by the tip list, the CSV export and the statistics."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Query, status

from storage.domain import Category, CategoryGroup, Outcome, Priority, TipStatus
from storage.tip_filters import TipFilter


def tip_filter_params(
    status_: Annotated[list[TipStatus] | None, Query(alias="status")] = None,
    category: Annotated[list[Category] | None, Query()] = None,
    group: Annotated[list[CategoryGroup] | None, Query()] = None,
    province_code: Annotated[list[int] | None, Query(le=2_147_483_647, ge=0)] = None,
    ward_code: Annotated[list[int] | None, Query(le=2_147_483_647, ge=0)] = None,
    priority: Annotated[list[Priority] | None, Query()] = None,
    outcome: Annotated[list[Outcome] | None, Query()] = None,
    assignee_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    unassigned: bool | None = None,
    urgent: bool | None = None,
    overdue: bool | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    q: Annotated[str | None, Query(max_length=200, description="text in the description, or a tip ref")] = None,
) -> TipFilter:
    """Read the filter from the query string."""
    for moment in (created_from, created_to):
        if moment is not None and moment.tzinfo is None:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, "dates need a timezone, e.g. 2026-01-01T00:00Z")
    return TipFilter(
        status=tuple(status_ or ()),
        category=tuple(category or ()),
        group=tuple(group or ()),
        province_code=tuple(province_code or ()),
        ward_code=tuple(ward_code or ()),
        priority=tuple(priority or ()),
        outcome=tuple(outcome or ()),
        assignee_id=assignee_id,
        unassigned=unassigned,
        urgent=urgent,
        overdue=overdue,
        created_from=created_from,
        created_to=created_to,
        text=q or None,
    )


TipFilterDep = Annotated[TipFilter, Depends(tip_filter_params)]
