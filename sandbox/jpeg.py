"""Hand-built solid-grey baseline JPEGs, so generated photos are real decodable images."""

from __future__ import annotations

import struct


def _segment(marker: int, body: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(body) + 2) + body


def solid_jpeg(width: int, height: int, comment: bytes = b"") -> bytes:
    """Return a greyscale JPEG of the given size filled with mid-grey."""
    if not (1 <= width <= 65535 and 1 <= height <= 65535):
        raise ValueError("JPEG dimensions must be within 1..65535")
    jfif = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    quant = b"\x00" + bytes([1] * 64)
    frame = struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00"
    # One-symbol Huffman tables: DC category 0 and AC end-of-block, each coded as the single bit "0".
    dc_table = b"\x00" + bytes([1] + [0] * 15) + b"\x00"
    ac_table = b"\x10" + bytes([1] + [0] * 15) + b"\x00"
    scan = b"\x01\x01\x00\x00\x3f\x00"
    blocks = ((width + 7) // 8) * ((height + 7) // 8)
    # Every block of a flat image at level 128 is "DC diff 0, EOB" = two zero bits.
    bits = blocks * 2
    data = bytearray(bits // 8)
    if bits % 8:
        data.append((1 << (8 - bits % 8)) - 1)  # pad the last byte with one-bits, per the spec
    parts = [
        b"\xff\xd8",
        _segment(0xE0, jfif),
        _segment(0xFE, comment or b"tinbao-sandbox"),
        _segment(0xDB, quant),
        _segment(0xC0, frame),
        _segment(0xC4, dc_table),
        _segment(0xC4, ac_table),
        _segment(0xDA, scan),
        bytes(data),
        b"\xff\xd9",
    ]
    return b"".join(parts)


def jpeg_size(content: bytes) -> tuple[int, int] | None:
    """Read (width, height) from a JPEG's start-of-frame segment, or None if not a JPEG."""
    if not content.startswith(b"\xff\xd8"):
        return None
    pos = 2
    while pos + 4 <= len(content):
        if content[pos] != 0xFF:
            return None
        marker = content[pos + 1]
        length = struct.unpack(">H", content[pos + 2 : pos + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2) and pos + 9 <= len(content):
            height, width = struct.unpack(">HH", content[pos + 5 : pos + 9])
            return width, height
        pos += 2 + length
    return None
