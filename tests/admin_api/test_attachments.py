"""GET /api/v1/tips/{id}/attachments/{n}: scoped, metadata stripped, flagged, size-limited, audited."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import httpx
import pytest
from PIL import Image
from sqlalchemy import select

from admin_api.app import create_app
from bot.context import AppContext
from sandbox.client import SandboxClient, SandboxUser
from sandbox.runner import RunningSandbox
from storage.domain import AttachmentKind, Category
from storage.models import Attachment, AuditEvent
from storage.tips import NewAttachment
from tests.admin_api.conftest import HA_NOI, HCM, make_officer, make_tip
from tests.conftest import RunningBot
from tests.handlers.test_report_media import finish_anonymously
from tests.handlers.test_report_support import (
    QUIET,
    all_tips,
    settings,  # noqa: F401 - relaxed flood limit for walking the form
    to_evidence,
)

URL = "/api/v1/tips/{tip_id}/attachments/{n}"
UPLOADER = SandboxUser(id=100000077, first_name="Người gửi", language_code="vi")
XMP = (
    b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
    b"<rdf:RDF><rdf:Description tiff:Make='Canon'/></rdf:RDF></x:xmpmeta><?xpacket end='w'?>"
)


def jpeg_with_gps() -> tuple[bytes, Image.Image]:
    """A real JPEG carrying EXIF (GPS IFD, make, model, body serial), XMP and a comment."""
    image = Image.new("RGB", (96, 64), (30, 120, 200))
    for x in range(96):
        image.putpixel((x, x % 64), (255, x * 2, 0))
    exif = Image.Exif()
    exif[0x010F] = "Canon"  # Make
    exif[0x0110] = "Canon EOS R5"  # Model
    exif.get_ifd(0x8769)[0xA431] = "SN-0042-SECRET"  # BodySerialNumber
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (21.0, 1.0, 42.0)
    gps[3], gps[4] = "E", (105.0, 51.0, 7.0)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif, xmp=XMP, comment=b"Nha rieng cua toi", quality=92)
    data = buffer.getvalue()
    with Image.open(io.BytesIO(data)) as original:
        assert 0x8825 in original.getexif() and original.getexif()[0x010F] == "Canon"
        original.load()
        return data, original.copy()


def assert_no_metadata(data: bytes, original: Image.Image) -> None:
    """No GPS, camera, serial or XMP left, and the pixels are exactly the tipster's."""
    for secret in (b"SN-0042-SECRET", b"Canon", b"xmpmeta", b"Nha rieng"):
        assert secret not in data
    with Image.open(io.BytesIO(data)) as cleaned:
        exif = cleaned.getexif()
        assert 0x8825 not in exif and 0x010F not in exif and 0x0110 not in exif
        assert 0xA431 not in exif.get_ifd(0x8769)
        assert "xmp" not in cleaned.info and "exif" not in cleaned.info and "comment" not in cleaned.info
        cleaned.load()
        assert cleaned.size == original.size and cleaned.tobytes() == original.tobytes()


@pytest.fixture
async def bot_api(bot: RunningBot) -> AsyncIterator[httpx.AsyncClient]:
    """The officer API on the polling bot's context."""
    transport = httpx.ASGITransport(app=create_app(bot.context))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        yield client


async def test_jpeg_with_gps_sent_as_document_comes_out_without_gps(
    bot: RunningBot, bot_api: httpx.AsyncClient
) -> None:
    """Acceptance 4: a citizen sends the JPEG as a file through /report; the officer's copy is clean."""
    data, original = jpeg_with_gps()
    c = bot.citizen()
    await to_evidence(c)
    await c.client.send_document(c.user, "IMG_20250101_nha_rieng.jpg", data, mime_type="image/jpeg")
    await c.replies(quiet=QUIET)
    await finish_anonymously(c)
    [tip] = await all_tips(bot)
    officer = await make_officer(bot.context, "hanoi.officer", provinces=(HA_NOI,))

    response = await bot_api.get(URL.format(tip_id=tip.id, n=1), headers=officer.headers)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["content-disposition"] == f'attachment; filename="{tip.ref}-1.jpg"'
    assert response.headers["x-tinbao-metadata"] == "cleaned"
    assert "nha_rieng" not in str(response.headers)
    assert_no_metadata(response.content, original)
    async with bot.sessions() as session:
        audit = (await session.scalars(select(AuditEvent).where(AuditEvent.action == "attachment_downloaded"))).all()
    assert [(a.officer_id, a.tip_id, a.detail) for a in audit] == [
        (officer.id, tip.id, {"index": 1, "metadata": "cleaned"})
    ]


async def upload(
    context: AppContext, sandbox: RunningSandbox, name: str, content: bytes, mime: str, file_size: int | None = None
) -> NewAttachment:
    """Put a file into the sandbox as a user's document and return its reference as the bot stores it."""
    async with SandboxClient(sandbox.base_url, context.settings.bot_token) as tg:
        sent = await tg.send_document(UPLOADER, name, content, mime_type=mime, file_size=file_size)
        [view] = [m for m in await tg.messages(UPLOADER.id, include_user=True) if m["message_id"] == sent["message_id"]]
    document = view["raw"]["document"]
    return NewAttachment(AttachmentKind.DOCUMENT, document["file_id"], document["file_unique_id"], None, mime)


async def test_scope_restricted_and_missing_are_all_404(
    api: httpx.AsyncClient, app_context: AppContext, sandbox: RunningSandbox
) -> None:
    """Out of jurisdiction, restricted without permission, a missing tip or index: the same 404."""
    pdf = await upload(app_context, sandbox, "a.pdf", b"%PDF-1.4 test", "application/pdf")
    tip, _ = await make_tip(app_context, attachments=[pdf])
    secret, _ = await make_tip(app_context, category=Category.POLITICAL_SECURITY, attachments=[pdf])
    hanoi = await make_officer(app_context, "hanoi", provinces=(HA_NOI,))
    saigon = await make_officer(app_context, "saigon", provinces=(HCM,))
    cleared = await make_officer(app_context, "cleared", provinces=(HA_NOI,), restricted=True)

    assert (await api.get(URL.format(tip_id=tip.id, n=1), headers=hanoi.headers)).status_code == 200
    answers = [
        await api.get(URL.format(tip_id=tip.id, n=1), headers=saigon.headers),
        await api.get(URL.format(tip_id=secret.id, n=1), headers=hanoi.headers),
        await api.get(URL.format(tip_id=tip.id, n=2), headers=hanoi.headers),
        await api.get(URL.format(tip_id=999_999, n=1), headers=hanoi.headers),
    ]
    assert [a.status_code for a in answers] == [404] * 4
    assert len({a.text for a in answers}) == 1
    assert (await api.get(URL.format(tip_id=secret.id, n=1), headers=cleared.headers)).status_code == 200
    assert (await api.get(URL.format(tip_id=tip.id, n=1))).status_code == 401


async def test_pdf_is_served_as_is_and_flagged_not_cleaned(
    api: httpx.AsyncClient, app_context: AppContext, sandbox: RunningSandbox
) -> None:
    """Documents that cannot be cleaned come unchanged, with the header saying so."""
    content = b"%PDF-1.4\n/Author (Nguyen Van Binh)\n" + bytes(range(256)) * 300
    pdf = await upload(app_context, sandbox, "to_cao_cua_binh.pdf", content, "application/pdf")
    photo_tip, _ = await make_tip(app_context, attachments=[pdf, pdf])
    officer = await make_officer(app_context, "hanoi", provinces=(HA_NOI,))

    response = await api.get(URL.format(tip_id=photo_tip.id, n=2), headers=officer.headers)

    assert response.status_code == 200
    assert response.content == content
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["x-tinbao-metadata"] == "not-cleaned"
    assert response.headers["content-disposition"] == f'attachment; filename="{photo_tip.ref}-2.pdf"'


async def test_png_text_chunks_go_and_a_broken_jpeg_is_flagged(
    api: httpx.AsyncClient, app_context: AppContext, sandbox: RunningSandbox
) -> None:
    """A PNG loses its text chunks; a broken "JPEG" is served opaque and flagged."""
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "ghi chu bi mat")
    buffer = io.BytesIO()
    Image.new("RGB", (20, 10), (1, 2, 3)).save(buffer, "PNG", pnginfo=info)
    png = await upload(app_context, sandbox, "a.png", buffer.getvalue(), "image/png")
    broken = await upload(app_context, sandbox, "b.jpg", b"\xff\xd8\xff\xe1 not really", "image/jpeg")
    tip, _ = await make_tip(app_context, attachments=[png, broken])
    officer = await make_officer(app_context, "hanoi", provinces=(HA_NOI,))

    first = await api.get(URL.format(tip_id=tip.id, n=1), headers=officer.headers)
    second = await api.get(URL.format(tip_id=tip.id, n=2), headers=officer.headers)

    assert first.status_code == 200 and first.headers["x-tinbao-metadata"] == "cleaned"
    assert b"bi mat" not in first.content and b"tEXt" not in first.content
    assert second.status_code == 200 and second.headers["x-tinbao-metadata"] == "not-cleaned"
    assert second.headers["content-type"] == "application/octet-stream"


async def test_files_over_20_mb_answer_413(
    api: httpx.AsyncClient, app_context: AppContext, sandbox: RunningSandbox
) -> None:
    """Known size over the limit, or Telegram saying "file is too big": a clear 413, no bytes."""
    big = 25 * 1024 * 1024
    unknown_size = await upload(app_context, sandbox, "v.mp4", b"\x00" * 64, "video/mp4", file_size=big)
    known_size = NewAttachment(AttachmentKind.VIDEO, "no-such-file", "u-1", big, "video/mp4")
    tip, _ = await make_tip(app_context, attachments=[unknown_size, known_size])
    officer = await make_officer(app_context, "hanoi", provinces=(HA_NOI,))

    for n in (1, 2):
        response = await api.get(URL.format(tip_id=tip.id, n=n), headers=officer.headers)
        assert response.status_code == 413
        body = response.json()
        assert body["code"] == "file_too_big" and "smaller" in body["detail"]
    async with app_context.sessions() as session:
        assert len((await session.scalars(select(Attachment))).all()) == 2
        assert not (await session.scalars(select(AuditEvent).where(AuditEvent.action == "attachment_downloaded"))).all()
