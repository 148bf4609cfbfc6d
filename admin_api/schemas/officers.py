"""Officer and authentication bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from admin_api.schemas.base import InputModel, OutputModel
from storage.domain import OfficerRole
from storage.models import Officer

# vietnam-provinces codes are small positive numbers; bounding them keeps huge integers out of SQL.
AreaCode = Annotated[int, Field(ge=1, le=99_999)]
AreaCodes = list[AreaCode]


class OfficerCreate(InputModel):
    """A new officer account."""

    username: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    password: str = Field(min_length=10, max_length=256)
    role: OfficerRole = OfficerRole.OFFICER
    nationwide: bool = False
    province_codes: AreaCodes = Field(default_factory=list, max_length=34)
    ward_codes: AreaCodes = Field(default_factory=list, max_length=3321)
    can_view_restricted: bool = False


class OfficerUpdate(InputModel):
    """Changes to an officer; omitted fields stay as they are."""

    role: OfficerRole | None = None
    nationwide: bool | None = None
    province_codes: AreaCodes | None = Field(default=None, max_length=34)
    ward_codes: AreaCodes | None = Field(default=None, max_length=3321)
    can_view_restricted: bool | None = None
    active: bool | None = None
    on_duty: bool | None = None
    password: str | None = Field(default=None, min_length=10, max_length=256)


class OfficerRead(OutputModel):
    """An officer as admins see it (never the password hash or TOTP secret)."""

    id: int
    username: str
    role: OfficerRole
    nationwide: bool
    province_codes: list[int]
    ward_codes: list[int]
    can_view_restricted: bool
    active: bool
    on_duty: bool
    totp_enabled: bool
    telegram_linked: bool
    created_at: datetime

    @classmethod
    def of(cls, officer: Officer) -> OfficerRead:
        """Build from the ORM object."""
        return cls(
            id=officer.id,
            username=officer.username,
            role=officer.role,
            nationwide=officer.nationwide,
            province_codes=[p.province_code for p in officer.provinces],
            ward_codes=[w.ward_code for w in officer.wards],
            can_view_restricted=officer.can_view_restricted,
            active=officer.active,
            on_duty=officer.on_duty,
            totp_enabled=officer.totp_enabled,
            telegram_linked=officer.telegram_chat_enc is not None,
            created_at=officer.created_at,
        )


class OfficerList(OutputModel):
    """All officers."""

    items: list[OfficerRead]
    total: int


class TokenRead(OutputModel):
    """OAuth2 bearer token answer."""

    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_at: datetime


class PasswordChange(InputModel):
    """Change one's own password (every token is revoked)."""

    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=10, max_length=256)


class TotpSetupRead(OutputModel):
    """A new TOTP secret to put in an authenticator app; confirm with a code."""

    secret: str
    otpauth_uri: str


class TotpConfirm(InputModel):
    """A code from the authenticator app."""

    code: str = Field(min_length=6, max_length=8, pattern=r"^[0-9 ]+$")


class LinkCodeRead(OutputModel):
    """A one-time code to send to the bot as /link CODE, so urgent alerts reach this officer."""

    code: str
    expires_at: datetime
