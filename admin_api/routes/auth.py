"""Log in (OAuth2 password form), log out, change password, TOTP second factor."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.security import OAuth2PasswordRequestForm

from admin_api.deps import ContextDep, CurrentOfficer, SessionDep, TokenDep
from admin_api.schemas.officers import OfficerRead, PasswordChange, TokenRead, TotpConfirm, TotpSetupRead
from storage.audit import record_audit
from storage.errors import AuthFailed
from storage.officers import (
    change_password,
    find_officer,
    issue_token,
    login_delay,
    record_login_failure,
    revoke_token,
    verify_password,
)
from storage.totp import new_totp_secret, provisioning_uri, verify_totp

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
_TOTP_PURPOSE = "officer_totp"
_USERNAME = re.compile(r"[a-z0-9._-]{3,64}")


@router.post("/token", response_model=TokenRead)
async def login(
    request: Request,
    context: ContextDep,
    session: SessionDep,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    otp: Annotated[str | None, Form(max_length=8, pattern=r"^[0-9 ]*$")] = None,
) -> TokenRead:
    """Exchange username + password (+ TOTP code when enabled) for a bearer token."""
    username = form.username.strip().lower()[:64]
    # Only well-formed names reach the database and the audit log (no NUL bytes, no passwords typed
    # into the username box); anything else fails like an unknown user, at the same cost.
    well_formed = _USERNAME.fullmatch(username) is not None
    shown = username if well_formed else "(malformed)"
    client = request.client.host if request.client else "unknown"
    throttle_keys = [
        context.keys.state_hash("login-user", username),
        context.keys.state_hash("login-client", client),
    ]
    wait = await login_delay(session, keys_hashed=throttle_keys)
    if wait > 0:
        await record_audit(session, officer_id=None, action="login_throttled", detail={"username": shown})
        await session.commit()
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS, "too many failed logins, wait", headers={"Retry-After": str(wait)}
        )
    officer = await find_officer(session, username=username) if well_formed else None
    ok = await verify_password(officer.password_hash if officer else None, form.password)
    if ok and officer is not None and officer.totp_enabled:
        secret = context.keys.decrypt_text(officer.totp_secret_enc or b"", purpose=_TOTP_PURPOSE)
        ok = otp is not None and verify_totp(secret, otp)
    if not ok or officer is None or not officer.active:
        await record_login_failure(session, keys_hashed=throttle_keys)
        await record_audit(
            session, officer_id=officer.id if officer else None, action="login_failed", detail={"username": shown}
        )
        await session.commit()
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "wrong username or password", headers={"WWW-Authenticate": "Bearer"}
        )
    # With require_totp_for_admins, an admin without TOTP still gets a token, but it only opens the
    # enrolment endpoints (see admin_api.deps): refusing the login would lock them out for good.
    token, expires_at = await issue_token(
        session, officer_id=officer.id, lifetime=timedelta(minutes=context.settings.access_token_minutes)
    )
    await record_audit(session, officer_id=officer.id, action="login")
    await session.commit()
    return TokenRead(access_token=token, expires_at=expires_at)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(session: SessionDep, officer: CurrentOfficer, token: TokenDep) -> None:
    """Revoke the token used for this call."""
    await revoke_token(session, token=token)
    await record_audit(session, officer_id=officer.id, action="logout")
    await session.commit()


@router.get("/me", response_model=OfficerRead)
async def me(officer: CurrentOfficer) -> OfficerRead:
    """The caller's own account."""
    return OfficerRead.of(officer)


@router.post("/password", status_code=status.HTTP_204_NO_CONTENT)
async def password(body: PasswordChange, context: ContextDep, session: SessionDep, officer: CurrentOfficer) -> None:
    """Change one's password; every token, this one included, stops working."""
    # Wrong current passwords count as failed logins, so a stolen token cannot guess the password.
    throttle_keys = [context.keys.state_hash("login-user", officer.username)]
    wait = await login_delay(session, keys_hashed=throttle_keys)
    if wait > 0:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS, "too many failed attempts, wait", headers={"Retry-After": str(wait)}
        )
    try:
        await change_password(session, officer, current=body.current_password, new=body.new_password)
    except AuthFailed:
        await record_login_failure(session, keys_hashed=throttle_keys)
        await record_audit(session, officer_id=officer.id, action="password_change_failed")
        await session.commit()
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the current password is wrong") from None
    await record_audit(session, officer_id=officer.id, action="password_changed")
    await session.commit()


@router.post("/totp/setup", response_model=TotpSetupRead)
async def totp_setup(context: ContextDep, session: SessionDep, officer: CurrentOfficer) -> TotpSetupRead:
    """Start TOTP enrolment: a new secret, active only after /totp/enable with a valid code."""
    if officer.totp_enabled:
        # Otherwise a stolen token could silently turn the second factor off.
        raise HTTPException(status.HTTP_409_CONFLICT, "TOTP is already enabled")
    secret = new_totp_secret()
    officer.totp_secret_enc = context.keys.encrypt_text(secret, purpose=_TOTP_PURPOSE)
    officer.totp_enabled = False
    await record_audit(session, officer_id=officer.id, action="totp_setup")
    await session.commit()
    return TotpSetupRead(secret=secret, otpauth_uri=provisioning_uri(secret, officer.username))


@router.post("/totp/enable", status_code=status.HTTP_204_NO_CONTENT)
async def totp_enable(body: TotpConfirm, context: ContextDep, session: SessionDep, officer: CurrentOfficer) -> None:
    """Turn TOTP on after checking one code from the app."""
    if officer.totp_secret_enc is None:
        raise HTTPException(status.HTTP_409_CONFLICT, "call /totp/setup first")
    secret = context.keys.decrypt_text(officer.totp_secret_enc, purpose=_TOTP_PURPOSE)
    if not verify_totp(secret, body.code):
        raise HTTPException(422, "wrong code")
    officer.totp_enabled = True
    await record_audit(session, officer_id=officer.id, action="totp_enabled")
    await session.commit()
