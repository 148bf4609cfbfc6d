"""Officer accounts: passwords (argon2id), jurisdictions, bearer tokens, login backoff, TOTP."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.domain import OfficerRole
from storage.errors import AuthFailed, Conflict, NotFound, ValidationFailed
from storage.models import AuthToken, Officer, OfficerProvince, OfficerWard, Province, ThrottleHit, Ward, utcnow

_HASHER = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verifying against this keeps unknown usernames as slow as known ones (no user enumeration by timing).
_DUMMY_HASH = _HASHER.hash("tinbao-dummy-password")
MIN_PASSWORD_LENGTH = 10
LOGIN_FREE_FAILURES = 5
LOGIN_WINDOW = timedelta(minutes=30)
LOGIN_MAX_DELAY_SECONDS = 900


def _token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


async def hash_password(password: str) -> str:
    """argon2id hash, computed off the event loop."""
    check_password_strength(password)
    return await asyncio.to_thread(_HASHER.hash, password)


def check_password_strength(password: str) -> None:
    """Refuse passwords that are too short or trivially weak."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    if len(set(password)) < 4:
        raise ValidationFailed("password is too repetitive")


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Constant-cost check (a dummy hash is verified when there is no officer)."""

    def check() -> bool:
        try:
            return _HASHER.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)


@dataclass(frozen=True, slots=True)
class Jurisdiction:
    """Areas an officer covers: the whole country, or provinces and/or communes."""

    nationwide: bool = False
    province_codes: Sequence[int] = ()
    ward_codes: Sequence[int] = ()


async def _check_areas(session: AsyncSession, jurisdiction: Jurisdiction) -> None:
    provinces = set(jurisdiction.province_codes)
    wards = set(jurisdiction.ward_codes)
    if provinces:
        found = set((await session.scalars(select(Province.code).where(Province.code.in_(provinces)))).all())
        if found != provinces:
            raise ValidationFailed(f"unknown province codes: {sorted(provinces - found)}")
    if wards:
        found = set((await session.scalars(select(Ward.code).where(Ward.code.in_(wards)))).all())
        if found != wards:
            raise ValidationFailed(f"unknown ward codes: {sorted(wards - found)}")
    if not jurisdiction.nationwide and not provinces and not wards:
        raise ValidationFailed("an officer needs a jurisdiction: nationwide, provinces or communes")


async def ward_provinces(session: AsyncSession, ward_codes: Iterable[int]) -> dict[int, int]:
    """ward code → province code for the given wards."""
    codes = list(ward_codes)
    if not codes:
        return {}
    rows = await session.execute(select(Ward.code, Ward.province_code).where(Ward.code.in_(codes)))
    return {code: province for code, province in rows}


async def create_officer(
    session: AsyncSession,
    *,
    username: str,
    password: str,
    role: OfficerRole,
    jurisdiction: Jurisdiction,
    can_view_restricted: bool = False,
) -> Officer:
    """A new active officer; usernames are unique, case-insensitively."""
    username = normalize_username(username)
    if await find_officer(session, username=username) is not None:
        raise Conflict("username already exists")
    await _check_areas(session, jurisdiction)
    officer = Officer(
        username=username,
        password_hash=await hash_password(password),
        role=role,
        nationwide=jurisdiction.nationwide,
        can_view_restricted=can_view_restricted,
        provinces=[OfficerProvince(province_code=c) for c in sorted(set(jurisdiction.province_codes))],
        wards=[OfficerWard(ward_code=c) for c in sorted(set(jurisdiction.ward_codes))],
    )
    session.add(officer)
    await session.flush()
    return officer


def normalize_username(username: str) -> str:
    """Lower-case, trimmed; only letters, digits, dot, dash and underscore."""
    cleaned = username.strip().lower()
    if not (3 <= len(cleaned) <= 64) or not all(c.isalnum() or c in "._-" for c in cleaned):
        raise ValidationFailed("username: 3-64 letters, digits, '.', '_' or '-'")
    return cleaned


async def find_officer(session: AsyncSession, *, username: str) -> Officer | None:
    """An officer by username (any case), or None."""
    return await session.scalar(select(Officer).where(Officer.username == username.strip().lower()))


async def get_officer(session: AsyncSession, *, officer_id: int) -> Officer:
    """An officer by id, or NotFound."""
    officer = await session.get(Officer, officer_id)
    if officer is None:
        raise NotFound("officer")
    return officer


async def list_officers(session: AsyncSession) -> Sequence[Officer]:
    """All officers, by username."""
    return (await session.scalars(select(Officer).order_by(Officer.username))).all()


async def update_officer(
    session: AsyncSession,
    officer: Officer,
    *,
    role: OfficerRole | None = None,
    jurisdiction: Jurisdiction | None = None,
    can_view_restricted: bool | None = None,
    active: bool | None = None,
    on_duty: bool | None = None,
) -> Officer:
    """Change role, jurisdiction, permission or activity; deactivation revokes every token at once."""
    if role is not None:
        officer.role = role
    if jurisdiction is not None:
        await _check_areas(session, jurisdiction)
        officer.nationwide = jurisdiction.nationwide
        officer.provinces = [OfficerProvince(province_code=c) for c in sorted(set(jurisdiction.province_codes))]
        officer.wards = [OfficerWard(ward_code=c) for c in sorted(set(jurisdiction.ward_codes))]
    if can_view_restricted is not None:
        officer.can_view_restricted = can_view_restricted
    if on_duty is not None:
        officer.on_duty = on_duty
    if active is not None:
        officer.active = active
        if not active:
            await revoke_all_tokens(session, officer_id=officer.id)
    await session.flush()
    return officer


async def change_password(session: AsyncSession, officer: Officer, *, current: str, new: str) -> None:
    """Check the current password, set the new one and revoke every token."""
    if not await verify_password(officer.password_hash, current):
        raise AuthFailed("wrong password")
    officer.password_hash = await hash_password(new)
    await revoke_all_tokens(session, officer_id=officer.id)
    await session.flush()


async def set_password(session: AsyncSession, officer: Officer, *, new: str) -> None:
    """Admin reset: set a password and revoke every token."""
    officer.password_hash = await hash_password(new)
    await revoke_all_tokens(session, officer_id=officer.id)
    await session.flush()


async def issue_token(session: AsyncSession, *, officer_id: int, lifetime: timedelta) -> tuple[str, datetime]:
    """A new random bearer token; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    expires_at = utcnow() + lifetime
    session.add(AuthToken(token_hash=_token_hash(token), officer_id=officer_id, expires_at=expires_at))
    await session.flush()
    return token, expires_at


async def officer_for_token(session: AsyncSession, *, token: str) -> Officer:
    """The active officer behind a live token, or AuthFailed."""
    now = utcnow()
    stmt = (
        select(Officer)
        .join(AuthToken, AuthToken.officer_id == Officer.id)
        .where(
            AuthToken.token_hash == _token_hash(token),
            AuthToken.revoked_at.is_(None),
            AuthToken.expires_at > now,
            Officer.active.is_(True),
        )
    )
    officer = await session.scalar(stmt)
    if officer is None:
        raise AuthFailed("invalid token")
    return officer


async def revoke_token(session: AsyncSession, *, token: str) -> None:
    """Log out one token."""
    await session.execute(
        update(AuthToken).where(AuthToken.token_hash == _token_hash(token)).values(revoked_at=utcnow())
    )


async def revoke_all_tokens(session: AsyncSession, *, officer_id: int) -> None:
    """Log an officer out everywhere."""
    await session.execute(
        update(AuthToken)
        .where(AuthToken.officer_id == officer_id, AuthToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


async def login_delay(session: AsyncSession, *, keys_hashed: Sequence[str]) -> int:
    """Seconds the next login must wait: doubles with each failure beyond the free ones, per key."""
    now = utcnow()
    worst = 0.0
    for key_hash in keys_hashed:
        count, last = (
            await session.execute(
                select(func.count(), func.max(ThrottleHit.at)).where(
                    ThrottleHit.bucket == "login", ThrottleHit.key_hash == key_hash, ThrottleHit.at > now - LOGIN_WINDOW
                )
            )
        ).one()
        if count < LOGIN_FREE_FAILURES or last is None:
            continue
        delay = min(2.0 ** (count - LOGIN_FREE_FAILURES), LOGIN_MAX_DELAY_SECONDS)
        if last.tzinfo is None:
            last = last.replace(tzinfo=now.tzinfo)
        worst = max(worst, delay - (now - last).total_seconds())
    return max(0, int(worst + 0.999))


async def record_login_failure(session: AsyncSession, *, keys_hashed: Sequence[str]) -> None:
    """Count a failed login against the username and the client."""
    for key_hash in keys_hashed:
        session.add(ThrottleHit(bucket="login", key_hash=key_hash, at=utcnow()))
    await session.flush()
