"""Evidence files: albums answered once, the file limit, document warnings, files during the story."""

from __future__ import annotations

from storage.domain import MAX_ATTACHMENTS, AttachmentKind
from tests.conftest import RunningBot
from tests.handlers.test_report_support import (
    QUIET,
    attachments,
    send_and_get_code,
    settings,  # noqa: F401 - relaxed flood limit for these tests
    tap,
    texts,
    to_description,
    to_evidence,
)


async def finish_anonymously(c: object) -> None:
    """From the evidence step to a sent tip."""
    from tests.citizen import Citizen

    assert isinstance(c, Citizen)
    await tap(c, "rp:ev:done")
    await tap(c, "rp:anon:anonymous")
    await send_and_get_code(c)


async def test_album_of_three_photos_is_one_acknowledgement(bot: RunningBot) -> None:
    c = bot.citizen()
    await to_evidence(c)
    await c.client.send_album(c.user, [{"photo": {}}, {"photo": {}}, {"photo": {}}])
    acks = await c.replies(quiet=0.6)
    assert len(acks) == 1 and "album" in acks[0].text.lower()
    await finish_anonymously(c)
    files = await attachments(bot)
    assert [f.kind for f in files] == [AttachmentKind.PHOTO] * 3
    assert len({f.file_unique_id for f in files}) == 3


async def test_eleven_files_keep_ten(bot: RunningBot) -> None:
    c = bot.citizen()
    await to_evidence(c)
    for _ in range(MAX_ATTACHMENTS + 1):
        await c.client.send_photo(c.user)
        await c.replies(quiet=QUIET)
    assert "Đã đủ số lượng" in c.seen[-1].text and "không được thêm" in c.seen[-1].text
    await finish_anonymously(c)
    assert len(await attachments(bot)) == MAX_ATTACHMENTS


async def test_document_warns_once_about_hidden_data(bot: RunningBot) -> None:
    c = bot.citizen()
    await to_evidence(c)
    await c.client.send_document(c.user, "anh.jpg", b"\xff\xd8\xff fake", mime_type="image/jpeg")
    first = await c.replies(quiet=QUIET)
    assert "thông tin ẩn" in texts(first)
    await c.client.send_document(c.user, "anh2.jpg", b"\xff\xd8\xff fake2", mime_type="image/jpeg")
    second = await c.replies(quiet=QUIET)
    assert "thông tin ẩn" not in texts(second) and "2/10" in texts(second)
    note = await c.send("Thêm: hắn đi xe máy đỏ.", quiet=QUIET)
    assert "Đã thêm vào phần mô tả" in note[-1].text
    await finish_anonymously(c)
    files = await attachments(bot)
    assert [f.kind for f in files] == [AttachmentKind.DOCUMENT] * 2
    assert files[0].mime_type == "image/jpeg"


async def test_photo_during_the_story_is_kept_as_evidence(bot: RunningBot) -> None:
    c = bot.citizen()
    await to_description(c)
    await c.client.send_photo(c.user)
    note = await c.replies(quiet=QUIET)
    assert "bằng chứng" in note[-1].text and "bằng lời" in note[-1].text
    await c.send("Người đàn ông áo xanh.", quiet=QUIET)
    await tap(c, "rp:desc:done")
    await finish_anonymously(c)
    assert len(await attachments(bot)) == 1
