"""RFC 6238 time-based one-time passwords (the optional second factor for officers)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
import time
from urllib.parse import quote

STEP_SECONDS = 30
DIGITS = 6


def new_totp_secret() -> str:
    """A random 160-bit secret in base32, as authenticator apps expect."""
    return base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")


def _code_at(secret: str, counter: int) -> str:
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**DIGITS).zfill(DIGITS)


def totp_code(secret: str, at: float | None = None) -> str:
    """The code valid at a time (now by default)."""
    return _code_at(secret, int((time.time() if at is None else at) // STEP_SECONDS))


def verify_totp(secret: str, code: str, at: float | None = None, window: int = 1) -> bool:
    """Accept the current code or one step either side (clock drift), compared in constant time."""
    counter = int((time.time() if at is None else at) // STEP_SECONDS)
    cleaned = code.strip().replace(" ", "")
    return any(hmac.compare_digest(_code_at(secret, counter + d), cleaned) for d in range(-window, window + 1))


def provisioning_uri(secret: str, username: str, issuer: str = "TinBáo") -> str:
    """otpauth:// URI for a QR code."""
    return f"otpauth://totp/{quote(issuer)}:{quote(username)}?secret={secret}&issuer={quote(issuer)}"
