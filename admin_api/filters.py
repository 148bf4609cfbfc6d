"""Query parameters → TipFilter, shared by the tip list, the CSV export and the statistics."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query
from pydantic import Field

from admin_api.schemas.base import BoundedDatetime, SafeText
from storage.domain import Category, CategoryGroup, Outcome, Priority, TipStatus
from storage.tip_filters import TipFilter

# Bounds apply to each code, not to the list (a list cannot be compared with a number).
AreaCode = Annotated[int, Field(ge=0, le=2_147_483_647)]


def tip_filter_params(
    status_: Annotated[list[TipStatus] | None, Query(alias="status")] = None,
    category: Annotated[list[Category] | None, Query()] = None,
    group: Annotated[list[CategoryGroup] | None, Query()] = None,
    province_code: Annotated[list[AreaCode] | None, Query()] = None,
    ward_code: Annotated[list[AreaCode] | None, Query()] = None,
    priority: Annotated[list[Priority] | None, Query()] = None,
    outcome: Annotated[list[Outcome] | None, Query()] = None,
    assignee_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    unassigned: bool | None = None,
    urgent: bool | None = None,
    overdue: bool | None = None,
    created_from: BoundedDatetime | None = None,
    created_to: BoundedDatetime | None = None,
    q: Annotated[SafeText | None, Query(max_length=200, description="text in the description, or a tip ref")] = None,
) -> TipFilter:
    """Read the filter from the query string (dates checked by BoundedDatetime)."""
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
