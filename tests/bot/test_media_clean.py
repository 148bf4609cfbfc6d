"""Metadata stripping: lossless for JPEG and PNG, pixels-only for other images, never a crash on garbage."""

from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, PngImagePlugin

from bot.media_clean import attachment_metadata_state, clean_media, strip_jpeg
from storage.domain import AttachmentKind

SECRETS = (b"SERIAL-777", b"Nikon", b"xmpmeta", b"toa do nha")


def picture() -> Image.Image:
    """A small image with some structure, so a pixel comparison means something."""
    image = Image.new("RGB", (80, 60), (200, 180, 20))
    for x in range(80):
        image.putpixel((x, (x * 3) % 60), (x * 3, 10, 250))
    return image


def exif() -> Image.Exif:
    """EXIF with a GPS IFD, camera make and body serial."""
    data = Image.Exif()
    data[0x010F] = "Nikon"
    data.get_ifd(0x8769)[0xA431] = "SERIAL-777"
    data.get_ifd(0x8825)[2] = (10.0, 46.0, 12.0)
    return data


def jpeg(**options: object) -> bytes:
    """A JPEG with EXIF, XMP and a comment."""
    buffer = io.BytesIO()
    picture().save(
        buffer, "JPEG", exif=exif(), xmp=b"<x:xmpmeta>toa do nha</x:xmpmeta>", comment=b"toa do nha", **options
    )
    return buffer.getvalue()


def pixels(data: bytes) -> bytes:
    """Decoded pixel bytes."""
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGB").tobytes()


def assert_clean(data: bytes) -> None:
    """No secret left and no EXIF on reopening."""
    for secret in SECRETS:
        assert secret not in data
    with Image.open(io.BytesIO(data)) as image:
        assert not image.getexif()
        assert not {"exif", "xmp", "comment"} & set(image.info)


@pytest.mark.parametrize("options", [{"quality": 90}, {"progressive": True, "quality": 80}, {"optimize": True}])
def test_jpeg_is_stripped_losslessly(options: dict[str, object]) -> None:
    """Baseline, progressive and optimised JPEGs keep their exact pixels."""
    original = jpeg(**options)
    result = clean_media(original, kind=AttachmentKind.DOCUMENT, mime="image/jpeg")
    assert result.state == "cleaned" and result.mime_type == "image/jpeg"
    assert_clean(result.data)
    assert pixels(result.data) == pixels(original)


def test_icc_profile_is_kept_and_trailing_data_dropped() -> None:
    """A colour profile is harmless; bytes after the end marker (hidden previews) are not."""
    buffer = io.BytesIO()
    picture().save(buffer, "JPEG", icc_profile=b"\x00" * 128, exif=exif())
    data = buffer.getvalue() + b"\xff\xd8 appended preview with SERIAL-777"
    cleaned = strip_jpeg(data)
    assert cleaned.endswith(b"\xff\xd9") and b"SERIAL-777" not in cleaned
    with Image.open(io.BytesIO(cleaned)) as image:
        assert image.info.get("icc_profile") == b"\x00" * 128


def test_png_text_and_exif_chunks_are_dropped() -> None:
    """tEXt, iTXt, zTXt and eXIf go; pixels stay."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "toa do nha")
    info.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta>SERIAL-777</x:xmpmeta>")
    info.add_text("Author", "Nikon", zip=True)
    buffer = io.BytesIO()
    picture().save(buffer, "PNG", pnginfo=info, exif=exif())
    original = buffer.getvalue()
    result = clean_media(original, kind="document", mime="image/png")
    assert result.state == "cleaned"
    assert_clean(result.data)
    for chunk in (b"tEXt", b"iTXt", b"zTXt", b"eXIf"):
        assert chunk not in result.data
    assert pixels(result.data) == pixels(original)


def test_webp_is_reencoded_as_png_from_pixels() -> None:
    """Other formats: pixels only, as PNG."""
    buffer = io.BytesIO()
    picture().save(buffer, "WEBP", lossless=True, exif=exif())
    result = clean_media(buffer.getvalue(), kind="document", mime="image/webp")
    assert result.state == "cleaned" and result.mime_type == "image/png"
    assert_clean(result.data)
    assert pixels(result.data) == pixels(buffer.getvalue())


def test_content_decides_not_the_claimed_type() -> None:
    """A PNG sent as image/jpeg is still cleaned as a PNG."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "toa do nha")
    buffer = io.BytesIO()
    picture().save(buffer, "PNG", pnginfo=info)
    result = clean_media(buffer.getvalue(), kind="document", mime="image/jpeg")
    assert result.state == "cleaned" and result.mime_type == "image/png" and b"toa do nha" not in result.data


@pytest.mark.parametrize(
    ("kind", "mime", "state"),
    [
        ("photo", "image/jpeg", "cleaned"),
        ("photo", None, "cleaned"),
        ("document", "image/jpeg", "cleaned"),
        ("document", "IMAGE/PNG; charset=binary", "cleaned"),
        ("document", "image/webp", "cleaned"),
        ("document", "application/pdf", "not_cleaned"),
        ("document", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "not_cleaned"),
        ("document", None, "not_cleaned"),
        ("video", "video/mp4", "not_cleaned"),
        ("voice", "audio/ogg", "not_cleaned"),
        ("audio", "audio/mpeg", "not_cleaned"),
        ("video_note", "video/mp4", "not_cleaned"),
    ],
)
def test_metadata_state_by_kind_and_mime(kind: str, mime: str | None, state: str) -> None:
    """What the tip detail can show before anyone downloads."""
    assert attachment_metadata_state(kind, mime) == state


def test_not_cleanable_types_come_back_unchanged() -> None:
    """A PDF is returned as is, flagged."""
    result = clean_media(b"%PDF-1.7 SERIAL-777", kind="document", mime="application/pdf")
    assert (result.data, result.state, result.mime_type) == (b"%PDF-1.7 SERIAL-777", "not_cleaned", "application/pdf")


def test_every_truncation_of_a_real_jpeg_is_handled() -> None:
    """Cut anywhere: cleaned (if still decodable) or flagged, never an exception, never a secret leaked as clean."""
    original = jpeg(quality=70)
    for cut in range(0, len(original), 37):
        result = clean_media(original[:cut], kind="photo", mime="image/jpeg")
        if result.state == "cleaned":
            assert_clean(result.data)
        else:
            assert result.data == original[:cut] and result.mime_type == "application/octet-stream"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    prefix=st.sampled_from([b"", b"\xff\xd8", b"\xff\xd8\xff\xe1", b"\x89PNG\r\n\x1a\n", b"RIFF", b"GIF89a"]),
    body=st.binary(max_size=2048),
    mime=st.sampled_from(["image/jpeg", "image/png", "image/webp", "image/gif", "application/pdf", None]),
)
def test_random_bytes_never_crash(prefix: bytes, body: bytes, mime: str | None) -> None:
    """Garbage is answered with a clear "not_cleaned" and the bytes unchanged."""
    data = prefix + body
    result = clean_media(data, kind="document", mime=mime)
    assert result.state in ("cleaned", "not_cleaned")
    if result.state == "not_cleaned":
        assert result.data == data
    else:
        with Image.open(io.BytesIO(result.data)) as image:
            image.load()
