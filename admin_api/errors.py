"""One place that maps domain errors to HTTP answers."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from storage.errors import (
    AuthFailed,
    Conflict,
    DomainError,
    NotFound,
    PermissionDenied,
    TooManyAttempts,
    ValidationFailed,
)

_STATUS: list[tuple[type[DomainError], int]] = [
    (NotFound, 404),
    (ValidationFailed, 422),
    (Conflict, 409),
    (PermissionDenied, 403),
    (AuthFailed, 401),
    (TooManyAttempts, 429),
]


# Every status an /api/v1 route may answer besides its success: bad input, no or dead token, role or
# second factor missing, not found (also: outside the caller's scope), conflict, validation, backoff.
ERROR_STATUSES = (400, 401, 403, 404, 409, 422, 429)


class ErrorRead(BaseModel):
    """An error answer: a message, or FastAPI's list of field errors for invalid input."""

    detail: str | list[dict[str, Any]]


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries documenting error statuses with the `ErrorRead` body."""
    return {code: {"model": ErrorRead, "description": _DESCRIPTIONS.get(code, "Error")} for code in codes}


_DESCRIPTIONS = {
    400: "Bad request",
    401: "Missing, expired or revoked token, or wrong credentials",
    403: "Not allowed for your role (or a second factor is required)",
    404: "Not found, or outside your jurisdiction",
    409: "Conflicts with the current state",
    422: "Invalid input (unknown and read-only fields are rejected too)",
    429: "Too many attempts; see Retry-After",
}


def install_error_handlers(app: FastAPI) -> None:
    """Register the domain-error handler and document the error answers on every route added afterwards."""
    # Routes inherit the app router's `responses`, so every operation's OpenAPI lists the errors any route
    # can raise through the domain-error mapping (schemathesis checks each status against the schema).
    app.router.responses = {**error_responses(*ERROR_STATUSES), **app.router.responses}

    async def handle(_request: Request, exc: Exception) -> JSONResponse:
        code = next((c for cls, c in _STATUS if isinstance(exc, cls)), 400)
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyAttempts) else None
        if isinstance(exc, AuthFailed):
            headers = {"WWW-Authenticate": "Bearer"}
        return JSONResponse({"detail": str(exc)}, status_code=code, headers=headers)

    app.add_exception_handler(DomainError, handle)
