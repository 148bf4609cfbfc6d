"""bot/telegram_html.py: whatever it accepts, the emulator's Telegram HTML parser accepts with the same text."""

from __future__ import annotations

import html

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.telegram_html import MAX_CAPTION, MAX_TEXT, TelegramHtmlError, check_telegram_html, utf16_len
from sandbox.errors import ApiError
from sandbox.formatting import parse_html

FRAGMENTS = [
    "<b>", "</b>", "<strong>", "</strong>", "<i>", "</i>", "<em>", "</em>", "<u>", "</u>", "<ins>", "</ins>",
    "<s>", "</s>", "<strike>", "</strike>", "<del>", "</del>", "<tg-spoiler>", "</tg-spoiler>",
    '<span class="tg-spoiler">', "<span>", '<span class="x">', "</span>",
    '<a href="https://congan.gov.vn/?a=1&amp;b=2">', '<a href="tg://resolve?domain=tinbao">', "<a href='http://x.vn'>",
    '<a href="javascript:alert(1)">', "<a href=https://x.vn>", "<a>", '<a href="">', "</a>",
    "<code>", "</code>", '<code class="language-python">', "<pre>", "</pre>", "<blockquote>",
    "<blockquote expandable>", "</blockquote>", "<tg-emoji emoji-id=\"5368324170671202286\">", "</tg-emoji>",
    "<br>", "<br/>", "<b/>", "</>", "<>", "<!-- x -->", "<!DOCTYPE html>", "<?x?>", "<![CDATA[x]]>", "<script>",
    "&amp;", "&lt;", "&gt;", "&quot;", "&apos;", "&nbsp;", "&#65;", "&#x1F600;", "&#0;", "&#xD800;", "&#X41;",
    "&", "&amp", "<", ">", "\"", "'", "=", "/", " ", "\n", "\t", "Công an", "113", "😀", "a", "B ",
    "< b>", "</ b>", "<b >", "</b >", "<B>", "</B>", "<b\n>", '<a  href="https://a.vn" >', '<a href="https://a.vn" href="https://b.vn">',
]  # fmt: skip
markup = st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=4), max_size=24).map("".join)


def _sandbox_text(source: str) -> str:
    text, _entities = parse_html(source)
    return text


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(source=markup)
def test_accepted_markup_parses_in_the_emulator_with_the_same_text(source: str) -> None:
    """Accepted → the emulator (like Telegram) gives no 400, and the visible text is identical."""
    try:
        checked = check_telegram_html(source)
    except TelegramHtmlError:
        return
    try:
        text = _sandbox_text(source)
    except ApiError as exc:  # pragma: no cover - a failure here is the bug this test hunts
        pytest.fail(f"accepted {source!r} but the emulator answered {exc}")
    assert text == checked.visible_text
    assert utf16_len(text) <= MAX_TEXT


@settings(max_examples=1000, deadline=None)
@given(source=st.text(max_size=60))
def test_arbitrary_text_is_refused_or_round_trips(source: str) -> None:
    """Any string at all: refused with a reason, or parsed by the emulator to the same text."""
    try:
        checked = check_telegram_html(source)
    except TelegramHtmlError as exc:
        assert str(exc)
        return
    assert _sandbox_text(source) == checked.visible_text


@settings(max_examples=500, deadline=None)
@given(text=st.text(max_size=200).filter(lambda t: "\x00" not in t))
def test_escaped_plain_text_is_always_accepted_and_shown_as_typed(text: str) -> None:
    """html.escape(text) is valid Telegram HTML whose visible text is exactly the original."""
    checked = check_telegram_html(html.escape(text, quote=False))
    assert checked.visible_text == text
    assert _sandbox_text(html.escape(text, quote=False)) == text


INLINE = ["b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "tg-spoiler"]
words = st.text(alphabet="abc xyz Đông Hà 😀\n", min_size=1, max_size=8).map(lambda t: html.escape(t, quote=False))


def _wrap(tag: str, inner: str) -> str:
    opening = {"span": '<span class="tg-spoiler">', "a": '<a href="https://congan.gov.vn/">'}.get(tag, f"<{tag}>")
    return f"{opening}{inner}</{tag}>"


inline_tree = st.recursive(
    words,
    lambda children: st.builds(_wrap, st.sampled_from([*INLINE, "span"]), st.lists(children, max_size=3).map("".join)),
    max_leaves=12,
)
link = st.builds(_wrap, st.just("a"), inline_tree)
code = words.map(lambda w: f"<code>{w}</code>")
pre = st.tuples(words, st.booleans()).map(
    lambda p: f'<pre><code class="language-python">{p[0]}</code></pre>' if p[1] else f"<pre>{p[0]}</pre>"
)
block = st.lists(inline_tree | link | code, max_size=3).map(
    lambda parts: "<blockquote>" + "".join(parts) + "</blockquote>"
)
document = st.lists(inline_tree | link | code | pre | block, min_size=1, max_size=6).map("".join)


@settings(max_examples=800, deadline=None)
@given(source=document)
def test_well_formed_telegram_html_is_accepted(source: str) -> None:
    """Properly nested documents of every supported tag are accepted and parse the same in the emulator."""
    checked = check_telegram_html(source)
    assert _sandbox_text(source) == checked.visible_text


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("a < b", "bare '<'"),
        ("5 > 3", "bare '>'"),
        ("Tom & Jerry", "bare '&'"),
        ("<b>đậm", "never closed"),
        ("<b><i>x</b></i>", "expected"),
        ("<div>x</div>", "not supported"),
        ("<span>x</span>", "tg-spoiler"),
        ('<a href="javascript:alert(1)">x</a>', "http"),
        ('<a href="ftp://x.vn">x</a>', "http"),
        ('<a href="https:///x">x</a>', "host"),
        ("<a href=https://x.vn>x</a>", "quote"),
        ('<a href="https://a.vn"><a href="https://b.vn">x</a></a>', "cannot be inside"),
        ("<code><b>x</b></code>", "only contain text"),
        ("<pre><b>x</b></pre>", "<pre>"),
        ("<blockquote><blockquote>x</blockquote></blockquote>", "nested"),
        ('<b class="x">x</b>', "attribute"),
        ("<br/>", "self-closing"),
        ("<!-- note -->", "comments"),
        ("&#0;", "not a valid character"),
        ("&nbsp;", "bare '&'"),
    ],
)
def test_bad_markup_is_refused_with_a_reason(source: str, reason: str) -> None:
    """Each refusal names what to fix."""
    with pytest.raises(TelegramHtmlError, match=None) as caught:
        check_telegram_html(source)
    assert reason in str(caught.value)


def test_limits_count_visible_text_in_utf16_units() -> None:
    """4096 visible characters for a message, 1024 for a caption; markup and entities do not count."""
    text = "<b>" + "&amp;" * MAX_TEXT + "</b>"
    assert check_telegram_html(text).visible_length == MAX_TEXT
    with pytest.raises(TelegramHtmlError, match="4097"):
        check_telegram_html("a" * (MAX_TEXT + 1))
    with pytest.raises(TelegramHtmlError, match=str(MAX_CAPTION)):
        check_telegram_html("a" * (MAX_CAPTION + 1), limit=MAX_CAPTION)
    # An emoji outside the BMP counts twice, as Telegram counts it.
    with pytest.raises(TelegramHtmlError):
        check_telegram_html("😀" * (MAX_CAPTION // 2 + 1), limit=MAX_CAPTION)
