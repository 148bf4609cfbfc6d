"""Receipt codes, keyed hashes and field encryption."""

from __future__ import annotations

import re

import pytest
from cryptography.exceptions import InvalidTag
from hypothesis import given
from hypothesis import strategies as st

from storage.privacy import (
    RECEIPT_ALPHABET,
    RECEIPT_BITS,
    PrivacyKeys,
    looks_like_receipt,
    new_receipt_code,
    normalize_receipt,
)

KEYS = PrivacyKeys.from_master(b"unit-test-master-secret-0123456789")
CODE_SHAPE = re.compile(r"^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$")


def test_receipt_code_shape_and_entropy() -> None:
    codes = {new_receipt_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(CODE_SHAPE.match(c) for c in codes)
    assert RECEIPT_BITS >= 80
    assert len(RECEIPT_ALPHABET) == 32
    used = {ch for code in codes for ch in code.replace("-", "")}
    assert used == set(RECEIPT_ALPHABET)


def test_hand_typed_codes_hash_the_same() -> None:
    code = "7QK2-M9XD-4HNP-R3TW"
    for typed in ["7qk2m9xd4hnpr3tw", " 7QK2 M9XD 4HNP R3TW ", "7QK2-M9XD-4HNP-R3TW"]:
        assert KEYS.receipt_hash(typed) == KEYS.receipt_hash(code)
    assert KEYS.receipt_hash("1000-0000-0000-0000") == KEYS.receipt_hash("I000-OOOO-0000-0000")
    assert KEYS.receipt_hash(code) != KEYS.receipt_hash("7QK2-M9XD-4HNP-R3TV")


@given(st.text(max_size=40))
def test_normalize_never_fails_and_is_idempotent(text: str) -> None:
    once = normalize_receipt(text)
    assert normalize_receipt(once) == once
    assert looks_like_receipt(text) == (len(once) == 16 and all(c in RECEIPT_ALPHABET for c in once))


def test_keyed_hashes_depend_on_the_secret() -> None:
    other = PrivacyKeys.from_master(b"another-master-secret-9876543210")
    assert KEYS.reporter_hash(42) != other.reporter_hash(42)
    assert KEYS.reporter_hash(42) == KEYS.reporter_hash(42)
    assert KEYS.reporter_hash(42) != KEYS.reporter_hash(43)
    assert b"42" not in KEYS.reporter_hash(42)


def test_encryption_round_trip_and_purpose_binding() -> None:
    sealed = KEYS.encrypt_text("+84901234567", purpose="identity_phone")
    assert b"0901234567" not in sealed and b"84901234567" not in sealed
    assert KEYS.decrypt_text(sealed, purpose="identity_phone") == "+84901234567"
    assert KEYS.encrypt_text("x", purpose="p") != KEYS.encrypt_text("x", purpose="p")  # random nonce
    with pytest.raises(InvalidTag):
        KEYS.decrypt_text(sealed, purpose="chat")


def test_short_master_secret_refused() -> None:
    with pytest.raises(ValueError, match="too short"):
        PrivacyKeys.from_master(b"short")
