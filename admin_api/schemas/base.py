"""Base classes: inputs forbid unknown fields, so mass assignment is a 422."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class InputModel(BaseModel):
    """A request body: unknown or read-only fields are rejected."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class OutputModel(BaseModel):
    """A response body built from ORM objects or dicts."""

    model_config = ConfigDict(from_attributes=True)
