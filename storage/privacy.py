"""Keyed hashes, encryption and receipt codes: the only place raw identities are turned into tokens."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# Crockford base32 without I, L, O, U: nothing a citizen can confuse when copying by hand.
RECEIPT_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RECEIPT_GROUPS = 4
RECEIPT_GROUP_LEN = 4
RECEIPT_BITS = RECEIPT_GROUPS * RECEIPT_GROUP_LEN * 5  # 80 bits of randomness
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"})
_NONCE_LEN = 12
_VERSION = b"\x01"


def _derive(master: bytes, label: bytes) -> bytes:
    """One 32-byte sub-key per purpose, so a leak of one use does not expose another."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"tinbao-v1", info=label).derive(master)


@dataclass(frozen=True, slots=True)
class PrivacyKeys:
    """Sub-keys for pseudonyms, receipts, state keys and field encryption."""

    reporter_key: bytes
    receipt_key: bytes
    state_key: bytes
    encryption_key: bytes

    @classmethod
    def from_master(cls, master: bytes) -> PrivacyKeys:
        """Derive every sub-key from the one configured secret."""
        if len(master) < 16:
            raise ValueError("master secret too short")
        return cls(
            reporter_key=_derive(master, b"reporter"),
            receipt_key=_derive(master, b"receipt"),
            state_key=_derive(master, b"fsm-state"),
            encryption_key=_derive(master, b"field-encryption"),
        )

    def reporter_hash(self, telegram_user_id: int) -> bytes:
        """The pseudonymous key a reporter is found by: HMAC of the Telegram user id."""
        return hmac.new(self.reporter_key, str(telegram_user_id).encode(), hashlib.sha256).digest()

    def state_hash(self, *parts: object) -> str:
        """A hex key for FSM/throttle storage, so no raw chat or user id is ever a storage key."""
        material = ":".join(str(p) for p in parts).encode()
        return hmac.new(self.state_key, material, hashlib.sha256).hexdigest()

    def receipt_hash(self, code: str) -> bytes:
        """The stored form of a receipt code; the code itself is never stored."""
        return hmac.new(self.receipt_key, normalize_receipt(code).encode(), hashlib.sha256).digest()

    def encrypt(self, plaintext: bytes, *, purpose: str) -> bytes:
        """AES-GCM with a random nonce; `purpose` binds the ciphertext to its column."""
        nonce = os.urandom(_NONCE_LEN)
        sealed = AESGCM(self.encryption_key).encrypt(nonce, plaintext, purpose.encode())
        return _VERSION + nonce + sealed

    def decrypt(self, blob: bytes, *, purpose: str) -> bytes:
        """Open a value sealed by `encrypt` for the same purpose."""
        if blob[:1] != _VERSION:
            raise ValueError("unknown ciphertext version")
        nonce, sealed = blob[1 : 1 + _NONCE_LEN], blob[1 + _NONCE_LEN :]
        return AESGCM(self.encryption_key).decrypt(nonce, sealed, purpose.encode())

    def encrypt_text(self, text: str, *, purpose: str) -> bytes:
        """Encrypt a string field."""
        return self.encrypt(text.encode(), purpose=purpose)

    def decrypt_text(self, blob: bytes, *, purpose: str) -> str:
        """Decrypt a string field."""
        return self.decrypt(blob, purpose=purpose).decode()


def new_receipt_code() -> str:
    """A fresh receipt code such as 7QK2-M9XD-4HNP-R3TW (80 random bits)."""
    chars = [secrets.choice(RECEIPT_ALPHABET) for _ in range(RECEIPT_GROUPS * RECEIPT_GROUP_LEN)]
    groups = ["".join(chars[i : i + RECEIPT_GROUP_LEN]) for i in range(0, len(chars), RECEIPT_GROUP_LEN)]
    return "-".join(groups)


def normalize_receipt(code: str) -> str:
    """Upper-case, drop spaces and dashes, and map look-alike letters, so a hand-typed code matches."""
    return re.sub(r"[^0-9A-Z]", "", code.upper()).translate(_CONFUSABLE)


def looks_like_receipt(text: str) -> bool:
    """True if the text could be a receipt code (right length and alphabet once normalised)."""
    cleaned = normalize_receipt(text)
    length = RECEIPT_GROUPS * RECEIPT_GROUP_LEN
    return len(cleaned) == length and all(c in RECEIPT_ALPHABET for c in cleaned)
