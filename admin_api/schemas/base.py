"""Base classes and guarded types: inputs forbid unknown fields (mass assignment is a 422)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, model_validator

# Dates outside this range are typing mistakes, and some would overflow when converted to UTC.
MIN_YEAR, MAX_YEAR = 1971, 9998


def reject_nul(value: str) -> str:
    """PostgreSQL text cannot hold NUL characters; refuse them at the edge with a 422."""
    if "\x00" in value:
        raise ValueError("NUL characters are not allowed")
    return value


def bounded_datetime(value: datetime) -> datetime:
    """A timezone-aware datetime between 1971 and 9998, normalised to UTC."""
    if value.tzinfo is None:
        raise ValueError("a timezone is required, e.g. 2026-01-01T00:00:00+07:00")
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"the year must be between {MIN_YEAR} and {MAX_YEAR}")
    return value.astimezone(UTC)


SafeText = Annotated[str, AfterValidator(reject_nul)]
BoundedDatetime = Annotated[datetime, AfterValidator(bounded_datetime)]


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple | set):
        return [s for item in value for s in _strings(item)]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    return []


class InputModel(BaseModel):
    """A request body: unknown or read-only fields are rejected, and no string may hold NUL."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        for text in _strings(data):
            reject_nul(text)
        return data


class OutputModel(BaseModel):
    """A response body built from ORM objects or dicts."""

    model_config = ConfigDict(from_attributes=True)
