"""One place that maps domain errors to HTTP answers."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

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


def install_error_handlers(app: FastAPI) -> None:
    """Register the domain-error handler on the app."""

    async def handle(_request: Request, exc: Exception) -> JSONResponse:
        code = next((c for cls, c in _STATUS if isinstance(exc, cls)), 400)
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyAttempts) else None
        if isinstance(exc, AuthFailed):
            headers = {"WWW-Authenticate": "Bearer"}
        return JSONResponse({"detail": str(exc)}, status_code=code, headers=headers)

    app.add_exception_handler(DomainError, handle)
