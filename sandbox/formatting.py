"""Parse parse_mode text (HTML, MarkdownV2, Markdown) into plain text + entities, like Telegram."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

from sandbox.errors import ApiError, bad_request

Entity = dict[str, Any]

_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_TAG_RE = re.compile(r"<\s*(/?)\s*([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^<>]*)?)\s*(/?)>")
_ATTR_RE = re.compile(r"""([a-zA-Z-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")
_CHAR_REF_RE = re.compile(r"&(#[0-9]{1,7}|#x[0-9a-fA-F]{1,6}|lt|gt|amp|quot|apos|nbsp);")
_MD2_RESERVED = set("_*[]()~`>#+-=|{}.!")


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _parse_error(detail: str) -> ApiError:
    return bad_request(f"can't parse entities: {detail}")


@dataclass
class _Builder:
    """Accumulates plain text while tracking the UTF-16 position for entity offsets."""

    parts: list[str] = field(default_factory=list)
    pos: int = 0
    entities: list[Entity] = field(default_factory=list)

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.pos += utf16_len(text)

    def close(self, start: int, entity: Entity) -> None:
        # Telegram drops empty entities instead of failing.
        if self.pos > start:
            self.entities.append({**entity, "offset": start, "length": self.pos - start})

    def result(self) -> tuple[str, list[Entity]]:
        ordered = sorted(self.entities, key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.parts), ordered


def _html_entity(name: str, attrs: dict[str, str], byte_offset: int) -> Entity:
    kind = _HTML_TAGS[name]
    if name == "span" and attrs.get("class") != "tg-spoiler":
        raise _parse_error(f'Unsupported start tag "span" at byte offset {byte_offset}')
    if kind == "text_link":
        url = attrs.get("href", "")
        if not url:
            raise _parse_error(f"Empty URL in a tag at byte offset {byte_offset}")
        return {"type": "text_link", "url": url}
    if kind == "custom_emoji":
        return {"type": "custom_emoji", "custom_emoji_id": attrs.get("emoji-id", "")}
    if kind == "blockquote" and "expandable" in attrs:
        return {"type": "expandable_blockquote"}
    if kind == "code" and attrs.get("class", "").startswith("language-"):
        return {"type": "code", "language": attrs["class"].removeprefix("language-")}
    return {"type": kind}


def parse_html(source: str) -> tuple[str, list[Entity]]:
    """Parse Telegram's HTML subset; raise 400 "can't parse entities" like Telegram on bad markup."""
    out = _Builder()
    stack: list[tuple[str, int, Entity]] = []
    i = 0
    while i < len(source):
        char = source[i]
        if char == "<":
            byte_offset = len(source[:i].encode())
            match = _TAG_RE.match(source, i)
            if match is None:
                raise _parse_error(f"Unexpected end of name token at byte offset {byte_offset}")
            closing, name, raw_attrs = match.group(1) == "/", match.group(2).lower(), match.group(3)
            if closing:
                if not stack:
                    raise _parse_error(f"Unexpected end tag at byte offset {byte_offset}")
                open_name, start, entity = stack.pop()
                if open_name != name:
                    raise _parse_error(
                        f'Unmatched end tag at byte offset {byte_offset}, expected "</{open_name}>", found "</{name}>"'
                    )
                out.close(start, entity)
            else:
                if name not in _HTML_TAGS:
                    raise _parse_error(f'Unsupported start tag "{name}" at byte offset {byte_offset}')
                attrs = {
                    m.group(1).lower(): html.unescape(m.group(2) or m.group(3) or m.group(4) or "")
                    for m in _ATTR_RE.finditer(raw_attrs)
                }
                if re.search(r"\bexpandable\b", raw_attrs):
                    attrs.setdefault("expandable", "")
                stack.append((name, out.pos, _html_entity(name, attrs, byte_offset)))
            i = match.end()
        elif char == "&":
            ref = _CHAR_REF_RE.match(source, i)
            if ref is None:
                out.add("&")  # Telegram tolerates a bare ampersand
                i += 1
            else:
                out.add(html.unescape(ref.group(0)))
                i = ref.end()
        else:
            nxt = min((p for p in (source.find("<", i), source.find("&", i)) if p != -1), default=len(source))
            out.add(source[i:nxt])
            i = nxt
    if stack:
        raise _parse_error(f"Can't find end tag corresponding to start tag {stack[-1][0]}")
    return out.result()


_MD2_TOGGLES = {"*": "bold", "_": "italic", "__": "underline", "~": "strikethrough", "||": "spoiler"}


def parse_markdown_v2(source: str) -> tuple[str, list[Entity]]:
    """Parse MarkdownV2, enforcing its escaping rules for reserved characters."""
    return _parse_markdown(source, strict=True)


def parse_markdown(source: str) -> tuple[str, list[Entity]]:
    """Parse legacy Markdown (bold, italic, code, pre, links; no escaping rules)."""
    return _parse_markdown(source, strict=False)


def _parse_markdown(source: str, strict: bool) -> tuple[str, list[Entity]]:
    out = _Builder()
    open_marks: dict[str, int] = {}
    link_starts: list[int] = []
    i = 0
    while i < len(source):
        char = source[i]
        byte_offset = len(source[:i].encode())
        if char == "\\" and strict and i + 1 < len(source):
            out.add(source[i + 1])
            i += 2
            continue
        if char == "`":
            i = _markdown_code(source, i, out, byte_offset)
            continue
        mark = source[i : i + 2] if source[i : i + 2] in ("__", "||") and strict else char
        if mark in _MD2_TOGGLES and (strict or mark in "*_"):
            if mark in open_marks:
                out.close(open_marks.pop(mark), {"type": _MD2_TOGGLES[mark]})
            else:
                open_marks[mark] = out.pos
            i += len(mark)
            continue
        if char == "[":
            link_starts.append(out.pos)
            i += 1
            continue
        if char == "]" and link_starts:
            close = source.find(")", i)
            if not source.startswith("(", i + 1) or close == -1:
                raise _parse_error(f"Can't find end of a url at byte offset {byte_offset}")
            url = source[i + 2 : close].replace("\\)", ")").replace("\\\\", "\\")
            out.close(link_starts.pop(), {"type": "text_link", "url": url})
            i = close + 1
            continue
        if strict and char in _MD2_RESERVED:
            raise _parse_error(f"Character '{char}' is reserved and must be escaped with the preceding '\\'")
        out.add(char)
        i += 1
    if open_marks or link_starts:
        raise _parse_error("Can't find end of the entity starting at byte offset 0")
    return out.result()


def _markdown_code(source: str, i: int, out: _Builder, byte_offset: int) -> int:
    """Consume an inline `code` or ```pre``` span starting at i; return the index after it."""
    if source.startswith("```", i):
        end = source.find("```", i + 3)
        if end == -1:
            raise _parse_error(f"Can't find end of Pre entity at byte offset {byte_offset}")
        body = source[i + 3 : end]
        language = ""
        first_line, sep, rest = body.partition("\n")
        if sep and first_line and " " not in first_line:
            language, body = first_line, rest
        start = out.pos
        out.add(body.replace("\\`", "`").replace("\\\\", "\\"))
        entity: Entity = {"type": "pre"}
        if language:
            entity["language"] = language
        out.close(start, entity)
        return end + 3
    end = source.find("`", i + 1)
    if end == -1:
        raise _parse_error(f"Can't find end of Code entity at byte offset {byte_offset}")
    start = out.pos
    out.add(source[i + 1 : end].replace("\\\\", "\\"))
    out.close(start, {"type": "code"})
    return end + 1


def render(text: str, parse_mode: str | None) -> tuple[str, list[Entity]]:
    """Apply parse_mode to text; unknown modes answer 400 like Telegram."""
    if not parse_mode:
        return text, []
    mode = parse_mode.lower()
    if mode == "html":
        return parse_html(text)
    if mode == "markdownv2":
        return parse_markdown_v2(text)
    if mode == "markdown":
        return parse_markdown(text)
    raise bad_request(f"unsupported parse_mode {parse_mode}")
