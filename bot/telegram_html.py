"""Check officer-written text against Telegram's HTML parse mode before it is saved and broadcast.

Telegram answers 400 "can't parse entities" for markup it does not know, and sends nothing: for a
campaign that would mean thousands of failed deliveries. So the officer API refuses such text up front,
strictly: only the tags Telegram documents, properly nested and closed, every `<`, `>` and `&` of plain
text escaped, links only to http, https and tg, and the visible text within Telegram's limits.
Custom emoji (`tg-emoji`) are refused: only bots with a purchased Fragment username may send them.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urlsplit

MAX_TEXT = 4096  # sendMessage text, after entity parsing (UTF-16 code units)
MAX_CAPTION = 1024  # sendPhoto caption
MAX_URL = 2048
PARSE_MODE = "HTML"

# Formatting that may wrap anything except code; Telegram allows it inside links and quotes too.
_FORMATTING = frozenset({"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler"})
# Entities that "cannot contain each other" (Telegram's rule), except <pre><code class="language-x">.
_EXCLUSIVE = frozenset({"a", "code", "pre"})
ALLOWED_TAGS = _FORMATTING | _EXCLUSIVE | {"blockquote"}
_URL_SCHEMES = frozenset({"http", "https", "tg"})
# A start tag as Telegram reads it: a name, then name="value" pairs (quoted) or bare names; no < or > inside.
_START_TAG = re.compile(
    r"<[a-zA-Z][a-zA-Z0-9-]*(?:\s+[a-zA-Z-]+(?:\s*=\s*(?:\"[^\"<>]*\"|'[^'<>]*'))?)*\s*>",
)
# Character references Telegram documents: four named ones and numeric ones.
_REFERENCE = re.compile(r"&(?:lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});")
_LANGUAGE = re.compile(r"language-[A-Za-z0-9_+#.-]{1,32}")


class TelegramHtmlError(ValueError):
    """The text is not valid Telegram HTML, or too long; the message says what to fix."""


@dataclass(frozen=True, slots=True)
class CheckedHtml:
    """Accepted Telegram HTML and the text a subscriber will see."""

    source: str
    visible_text: str

    @property
    def visible_length(self) -> int:
        """Length as Telegram counts it (UTF-16 code units)."""
        return utf16_len(self.visible_text)


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's limits and entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _valid_codepoint(reference: str) -> bool:
    body = reference[2:-1]
    value = int(body[1:], 16) if body.startswith("x") else int(body)
    return 0 < value <= 0x10FFFF and not 0xD800 <= value <= 0xDFFF


def _check_references(source: str) -> None:
    """Every `&` must start &lt; &gt; &amp; &quot; or a numeric reference to a real character."""
    for match in re.finditer("&", source):
        reference = _REFERENCE.match(source, match.start())
        if reference is None:
            raise TelegramHtmlError(
                f"a bare '&' at character {match.start() + 1}: write &amp; (only &lt; &gt; &amp; &quot; "
                "and numeric references like &#8212; are understood)"
            )
        if reference.group(0).startswith("&#") and not _valid_codepoint(reference.group(0)):
            raise TelegramHtmlError(f"{reference.group(0)} is not a valid character")


def _check_url(url: str) -> None:
    if not url or len(url) > MAX_URL or any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise TelegramHtmlError("a link needs a web address without spaces (at most 2048 characters)")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _URL_SCHEMES:
        raise TelegramHtmlError("links may only use http://, https:// or tg://")
    if scheme in {"http", "https"} and not parts.netloc:
        raise TelegramHtmlError("a web link needs a host, e.g. https://example.vn/")


class _Checker(HTMLParser):
    """Walks the markup once, keeping the open tags and the visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.parts: list[str] = []
        self.tags = 0

    def _where(self) -> str:
        line, column = self.getpos()
        return f"line {line}, column {column + 1}"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raw = self.get_starttag_text() or ""
        if tag not in ALLOWED_TAGS:
            raise TelegramHtmlError(f"<{tag}> is not supported by Telegram ({self._where()})")
        if not _START_TAG.fullmatch(raw):
            raise TelegramHtmlError(f"malformed tag {raw[:40]!r} ({self._where()}); quote attribute values")
        names = [name for name, _ in attrs]
        if len(names) != len(set(names)):
            raise TelegramHtmlError(f"repeated attribute in <{tag}> ({self._where()})")
        self._check_nesting(tag)
        self._check_attrs(tag, dict(attrs))
        self.stack.append(tag)
        self.tags += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raise TelegramHtmlError(f"self-closing <{tag}/> is not supported ({self._where()})")

    def handle_endtag(self, tag: str) -> None:
        if not self.stack:
            raise TelegramHtmlError(f"</{tag}> closes nothing ({self._where()})")
        if self.stack[-1] != tag:
            raise TelegramHtmlError(f"</{tag}> found where </{self.stack[-1]}> was expected ({self._where()})")
        self.stack.pop()
        self.tags += 1

    def handle_data(self, data: str) -> None:
        for char, name in (("<", "&lt;"), (">", "&gt;")):
            if char in data:
                raise TelegramHtmlError(f"a bare '{char}' in the text ({self._where()}): write {name}")
        self.parts.append(data)

    def handle_entityref(self, name: str) -> None:
        self.parts.append(html.unescape(f"&{name};"))

    def handle_charref(self, name: str) -> None:
        self.parts.append(html.unescape(f"&#{name};"))

    def handle_comment(self, data: str) -> None:
        raise TelegramHtmlError(f"HTML comments are not supported ({self._where()})")

    def handle_decl(self, decl: str) -> None:
        raise TelegramHtmlError(f"declarations are not supported ({self._where()})")

    def handle_pi(self, data: str) -> None:
        raise TelegramHtmlError(f"processing instructions are not supported ({self._where()})")

    def unknown_decl(self, data: str) -> None:
        raise TelegramHtmlError(f"CDATA and declarations are not supported ({self._where()})")

    def _check_nesting(self, tag: str) -> None:
        inside = set(self.stack)
        if "pre" in inside and not (tag == "code" and self.stack[-1] == "pre"):
            raise TelegramHtmlError(f"<pre> may only contain text or one <code> ({self._where()})")
        if "code" in inside:
            raise TelegramHtmlError(f"<code> may only contain text ({self._where()})")
        if tag in _EXCLUSIVE and tag != "code" and inside & _EXCLUSIVE:
            raise TelegramHtmlError(f"<{tag}> cannot be inside a link, code or pre ({self._where()})")
        if tag == "code" and "a" in inside:
            raise TelegramHtmlError(f"<code> cannot be inside a link ({self._where()})")
        if tag == "blockquote" and inside & (_EXCLUSIVE | {"blockquote"}):
            raise TelegramHtmlError(f"<blockquote> cannot be nested or put inside a link or code ({self._where()})")

    def _check_attrs(self, tag: str, attrs: dict[str, str | None]) -> None:
        allowed: dict[str, set[str]] = {
            "a": {"href"},
            "span": {"class"},
            "code": {"class"},
            "blockquote": {"expandable"},
        }
        extra = set(attrs) - allowed.get(tag, set())
        if extra:
            raise TelegramHtmlError(f"<{tag}> cannot have the attribute {sorted(extra)[0]!r} ({self._where()})")
        if tag == "a":
            _check_url(attrs.get("href") or "")
        elif tag == "span" and attrs.get("class") != "tg-spoiler":
            raise TelegramHtmlError(f'only <span class="tg-spoiler"> is supported ({self._where()})')
        elif tag == "code" and "class" in attrs:
            if self.stack[-1:] != ["pre"] or not _LANGUAGE.fullmatch(attrs["class"] or ""):
                raise TelegramHtmlError(f'only <pre><code class="language-..."> may name a language ({self._where()})')
        elif tag == "blockquote" and "expandable" in attrs and attrs["expandable"] is not None:
            raise TelegramHtmlError(f"write <blockquote expandable> without a value ({self._where()})")


def check_telegram_html(source: str, *, limit: int | None = MAX_TEXT) -> CheckedHtml:
    """Validate Telegram HTML; returns the visible text, raises TelegramHtmlError with a reason."""
    if "\x00" in source:
        raise TelegramHtmlError("NUL characters are not allowed")
    _check_references(source)
    checker = _Checker()
    checker.feed(source)
    checker.close()
    if checker.stack:
        raise TelegramHtmlError(f"<{checker.stack[-1]}> is never closed")
    # Every '<' and '>' must belong to a tag the checker accepted: anything the parser skipped silently
    # (e.g. "</>") would reach Telegram as broken markup.
    if not source.count("<") == source.count(">") == checker.tags:
        raise TelegramHtmlError("unbalanced '<' or '>': escape them as &lt; and &gt; in text")
    visible = "".join(checker.parts)
    checked = CheckedHtml(source=source, visible_text=visible)
    if limit is not None and checked.visible_length > limit:
        raise TelegramHtmlError(f"the text is {checked.visible_length} characters long; Telegram allows {limit}")
    return checked
