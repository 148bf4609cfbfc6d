"""FastAPI dependencies: the process context, a session, the current officer and their scope."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import AppContext
from storage.domain import OfficerRole
from storage.errors import AuthFailed
from storage.models import Officer
from storage.officers import officer_for_token
from storage.scope import Scope

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token")
# Database ids are 32-bit on PostgreSQL (and 64-bit on SQLite): a larger number in a path is a 422, not a 500.
MAX_ID = 2**31 - 1
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
# With `require_totp_for_admins`, an admin without a second factor may only enrol it (or log out).
_TOTP_ENROLMENT_PATHS = ("/api/v1/auth/me", "/api/v1/auth/logout", "/api/v1/auth/password", "/api/v1/auth/totp/")


def get_context(request: Request) -> AppContext:
    """The process context the app was created with."""
    context: AppContext = request.app.state.context
    return context


ContextDep = Annotated[AppContext, Depends(get_context)]


async def get_session(context: ContextDep) -> AsyncIterator[AsyncSession]:
    """One session per request; routes commit explicitly what must persist."""
    async with context.sessions() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]
TokenDep = Annotated[str, Depends(oauth2_scheme)]


async def get_current_officer(request: Request, context: ContextDep, session: SessionDep, token: TokenDep) -> Officer:
    """The active officer behind the bearer token; 401 otherwise."""
    try:
        officer = await officer_for_token(session, token=token)
    except AuthFailed:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "invalid or expired token", headers={"WWW-Authenticate": "Bearer"}
        ) from None
    if (
        context.settings.require_totp_for_admins
        and officer.role is OfficerRole.ADMIN
        and not officer.totp_enabled
        and not request.url.path.startswith(_TOTP_ENROLMENT_PATHS)
    ):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "admins must enable a TOTP second factor first: /api/v1/auth/totp/setup"
        )
    return officer


CurrentOfficer = Annotated[Officer, Depends(get_current_officer)]


def get_scope(officer: CurrentOfficer) -> Scope:
    """The caller's jurisdiction."""
    return Scope.of(officer)


ScopeDep = Annotated[Scope, Depends(get_scope)]


def require_role(*roles: OfficerRole) -> object:
    """A dependency that lets only the given roles through (403 otherwise)."""

    async def check(officer: CurrentOfficer) -> Officer:
        if officer.role not in roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "not allowed for your role")
        return officer

    return Depends(check)


AdminOfficer = Annotated[Officer, require_role(OfficerRole.ADMIN)]
SupervisorOfficer = Annotated[Officer, require_role(OfficerRole.SUPERVISOR, OfficerRole.ADMIN)]
