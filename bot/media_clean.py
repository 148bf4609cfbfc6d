"""Strip identifying metadata (EXIF with GPS, XMP, IPTC, comments, camera serials) from images.

JPEG and PNG are cleaned losslessly by dropping segments/chunks, so officers get the tipster's exact
pixels. Other still images Pillow can decode are re-encoded as PNG from pixel data only. Everything
else (PDF, DOCX, video, audio) cannot be cleaned here and is reported as "not_cleaned".
"""

from __future__ import annotations

import io
import logging
import struct
import warnings
import zlib
from dataclasses import dataclass
from typing import Literal

from PIL import Image

from storage.domain import AttachmentKind

logger = logging.getLogger(__name__)

MetadataState = Literal["cleaned", "not_cleaned"]
CLEANED: MetadataState = "cleaned"
NOT_CLEANED: MetadataState = "not_cleaned"

JPEG_MIMES = frozenset({"image/jpeg", "image/jpg", "image/pjpeg"})
PNG_MIMES = frozenset({"image/png", "image/apng"})
# Still-image formats Pillow decodes without plugins; re-encoded as PNG (pixels only).
REENCODE_MIMES = frozenset({"image/webp", "image/gif", "image/bmp", "image/x-ms-bmp", "image/tiff"})
# Larger images are refused rather than decoded (decompression bombs).
MAX_PIXELS = 80_000_000

_JPEG_SOI = b"\xff\xd8"
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Markers without a length field: TEM and RST0..RST7 (SOI/EOI are handled explicitly).
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
# APPn segments worth keeping, by their identifier: JFIF header, colour profile, Adobe colour transform.
_KEEP_APP = {0xE0: (b"JFIF\x00",), 0xE2: (b"ICC_PROFILE\x00",), 0xEE: (b"Adobe",)}
# PNG chunks that only describe how to draw the pixels; everything else (tEXt, iTXt, zTXt, eXIf,
# tIME, private chunks) is dropped.
_PNG_KEEP = frozenset(
    {
        b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP",
        b"sBIT", b"bKGD", b"pHYs", b"acTL", b"fcTL", b"fdAT",
    }
)  # fmt: skip


class NotAnImage(ValueError):
    """The bytes are not a well-formed image of the expected format."""


@dataclass(frozen=True, slots=True)
class CleanResult:
    """The bytes to serve, their type, and whether metadata was removed."""

    data: bytes
    mime_type: str
    state: MetadataState

    @property
    def cleaned(self) -> bool:
        """True when metadata was stripped."""
        return self.state == CLEANED


def _norm(mime: str | None) -> str:
    return (mime or "").split(";")[0].strip().lower()


def attachment_metadata_state(kind: AttachmentKind | str, mime: str | None) -> MetadataState:
    """Whether the download endpoint strips this attachment's metadata (decided from kind and mime)."""
    if AttachmentKind(kind) is AttachmentKind.PHOTO:
        return CLEANED
    if AttachmentKind(kind) is AttachmentKind.DOCUMENT and _norm(mime) in JPEG_MIMES | PNG_MIMES | REENCODE_MIMES:
        return CLEANED
    return NOT_CLEANED


def clean_media(data: bytes, *, kind: AttachmentKind | str, mime: str | None) -> CleanResult:
    """Strip metadata when possible; never raises, garbage comes back unchanged as "not_cleaned"."""
    mime_type = _norm(mime) or "application/octet-stream"
    if attachment_metadata_state(kind, mime) == NOT_CLEANED:
        return CleanResult(data, mime_type, NOT_CLEANED)
    try:
        # Decide by content, not by the claimed type: a ".jpg" may really be a PNG.
        if data.startswith(_JPEG_SOI):
            return CleanResult(strip_jpeg(data), "image/jpeg", CLEANED)
        if data.startswith(_PNG_SIGNATURE):
            return CleanResult(strip_png(data), "image/png", CLEANED)
        return CleanResult(reencode_png(data), "image/png", CLEANED)
    except Exception:  # arbitrary bytes from strangers: any decoder failure means "not cleaned"
        logger.info("attachment metadata could not be cleaned")
        # Served as an opaque download: a broken "image" must not be rendered inline.
        return CleanResult(data, "application/octet-stream", NOT_CLEANED)


def _check_decodes(data: bytes) -> None:
    """Make sure Pillow can fully decode the result (and that it is not a decompression bomb)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_PIXELS:
                raise NotAnImage("too many pixels")
            image.load()


def strip_jpeg(data: bytes) -> bytes:
    """Copy a JPEG, dropping APP1 (EXIF/XMP), APP13 (IPTC), COM and other metadata segments, and anything after EOI."""
    if not data.startswith(_JPEG_SOI):
        raise NotAnImage("no SOI")
    out = bytearray(_JPEG_SOI)
    pos = 2
    size = len(data)
    while True:
        # Fill bytes (0xFF padding) may precede any marker.
        while pos < size and data[pos] == 0xFF and pos + 1 < size and data[pos + 1] == 0xFF:
            pos += 1
        if pos + 2 > size or data[pos] != 0xFF:
            raise NotAnImage("marker expected")
        marker = data[pos + 1]
        if marker == 0xD9:  # EOI: trailing bytes (e.g. appended preview images) are dropped too
            out += b"\xff\xd9"
            break
        if marker in _STANDALONE:
            out += data[pos : pos + 2]
            pos += 2
            continue
        if pos + 4 > size:
            raise NotAnImage("truncated segment")
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        end = pos + 2 + length
        if length < 2 or end > size:
            raise NotAnImage("bad segment length")
        payload = data[pos + 4 : end]
        if _keep_segment(marker, payload):
            out += data[pos:end]
        pos = end
        if marker == 0xDA:  # SOS: copy the entropy-coded scan up to the next real marker
            scan_end = _scan_end(data, pos)
            out += data[pos:scan_end]
            pos = scan_end
    cleaned = bytes(out)
    _check_decodes(cleaned)
    return cleaned


def _keep_segment(marker: int, payload: bytes) -> bool:
    """Frame, table and scan segments stay; APPn only when whitelisted; comments never."""
    if marker == 0xFE:
        return False
    if 0xE0 <= marker <= 0xEF:
        return payload.startswith(_KEEP_APP.get(marker, ()))
    return True


def _scan_end(data: bytes, pos: int) -> int:
    """Index of the marker that ends an entropy-coded scan (skips stuffed 0xFF00 and RSTn)."""
    size = len(data)
    while True:
        pos = data.find(b"\xff", pos)
        if pos < 0 or pos + 1 >= size:
            raise NotAnImage("scan runs off the end")
        follower = data[pos + 1]
        if follower == 0x00 or 0xD0 <= follower <= 0xD7:
            pos += 2
        elif follower == 0xFF:
            pos += 1
        else:
            return pos


def strip_png(data: bytes) -> bytes:
    """Copy a PNG keeping only chunks needed to draw it (no text, eXIf or time chunks, nothing after IEND)."""
    if not data.startswith(_PNG_SIGNATURE):
        raise NotAnImage("no PNG signature")
    out = bytearray(_PNG_SIGNATURE)
    pos = len(_PNG_SIGNATURE)
    size = len(data)
    while True:
        if pos + 12 > size:
            raise NotAnImage("truncated chunk")
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        chunk_type = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if end > size:
            raise NotAnImage("bad chunk length")
        (crc,) = struct.unpack(">I", data[end - 4 : end])
        if zlib.crc32(data[pos + 4 : end - 4]) != crc:
            raise NotAnImage("bad chunk checksum")
        if chunk_type in _PNG_KEEP:
            out += data[pos:end]
        pos = end
        if chunk_type == b"IEND":
            break
    cleaned = bytes(out)
    _check_decodes(cleaned)
    return cleaned


def reencode_png(data: bytes) -> bytes:
    """Decode any still image Pillow knows and write its pixels (first frame) as a bare PNG."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_PIXELS:
                raise NotAnImage("too many pixels")
            image.load()
            pixels = image if image.mode in ("1", "L", "LA", "P", "RGB", "RGBA", "I", "I;16") else image.convert("RGBA")
            bare = Image.new(pixels.mode, pixels.size)
            bare.frombytes(pixels.tobytes())
            if pixels.mode == "P":
                palette = pixels.getpalette()
                if palette is not None:
                    bare.putpalette(palette)
    buffer = io.BytesIO()
    bare.save(buffer, format="PNG")  # a new image carries no info/exif from the source
    return buffer.getvalue()
