"""Telegram's `parse_mode` as the Bot API applies it: text plus markup -> plain text and entities.

Strict where Telegram is strict, so a renderer that forgets to escape fails here as it would in
production: unsupported or unbalanced HTML tags, a stray `<`, unescaped MarkdownV2 reserved
characters and unclosed MarkdownV2 entities are errors with Telegram's wording. Entity offsets and
lengths are in UTF-16 code units, as in the API. MarkdownV2 is a close approximation (nesting
rules and the `___` ambiguity are simplified); legacy "Markdown" is passed through unchecked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import unescape


class MarkupError(ValueError):
    """The description Telegram gives after "Bad Request: can't parse entities: "."""


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


@dataclass
class _Builder:
    plain: list[str] = field(default_factory=list)
    length: int = 0  # UTF-16 units so far
    entities: list[dict] = field(default_factory=list)

    def add(self, text: str) -> None:
        self.plain.append(text)
        self.length += utf16_len(text)

    def entity(self, start: int, kind: str, **extra: object) -> None:
        if self.length > start:  # Telegram drops empty entities
            self.entities.append({"type": kind, "offset": start, "length": self.length - start, **extra})

    def result(self) -> tuple[str, list[dict]]:
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.plain), self.entities


def parse_markup(text: str, parse_mode: str | None) -> tuple[str, list[dict]]:
    """Return (plain text, entities); raise MarkupError as the Bot API would."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        return _parse_html(text)
    if mode == "markdownv2":
        return _parse_markdown_v2(text)
    if mode in ("", "markdown"):
        return text, []
    raise MarkupError(f'Unsupported parse_mode "{parse_mode}"')


# ----- HTML ----------------------------------------------------------------------------------------

_HTML_KINDS = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline", "ins": "underline",
    "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough", "tg-spoiler": "spoiler",
    "span": "spoiler", "a": "text_link", "code": "code", "pre": "pre", "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)([^>]*)>")
_ATTR = re.compile(r"""([A-Za-z-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
_CHAR_REF = re.compile(r"&(?:lt|gt|amp|quot|#[0-9]+|#[xX][0-9a-fA-F]+);")


def _attributes(raw: str) -> dict[str, str]:
    return {m[1].lower(): next((v for v in m.groups()[1:] if v is not None), "") for m in _ATTR.finditer(raw)}


def _parse_html(text: str) -> tuple[str, list[dict]]:
    out = _Builder()
    stack: list[tuple[str, int, dict[str, str]]] = []  # (tag, start, attributes)
    i = 0
    while i < len(text):
        char = text[i]
        if char == "&":
            ref = _CHAR_REF.match(text, i)
            out.add(unescape(ref[0]) if ref else "&")
            i = ref.end() if ref else i + 1
            continue
        if char != "<":
            j = min((k for k in (text.find("<", i), text.find("&", i)) if k != -1), default=len(text))
            out.add(text[i:j])
            i = j
            continue
        tag = _TAG.match(text, i)
        at = _byte_offset(text, i)
        if tag is None:
            if ">" not in text[i:]:
                raise MarkupError(f"Unclosed start tag at byte offset {at}")
            name = re.match(r"</?([^\s>]*)", text[i:])[1]
            raise MarkupError(f'Unsupported start tag "{name}" at byte offset {at}')
        closing, name, raw_attrs = tag[1], tag[2].lower(), tag[3]
        if closing:
            if not stack:
                raise MarkupError(f"Unexpected end tag at byte offset {at}")
            open_name, start, attrs = stack.pop()
            if open_name != name:
                raise MarkupError(
                    f'Unmatched end tag at byte offset {at}, expected "</{open_name}>", found "</{name}>"'
                )
            _close_html_entity(out, open_name, start, attrs, stack)
        else:
            attrs = _attributes(raw_attrs)
            if name not in _HTML_KINDS or (name == "span" and attrs.get("class") != "tg-spoiler"):
                raise MarkupError(f'Unsupported start tag "{name}" at byte offset {at}')
            if name == "a" and "href" not in attrs:
                raise MarkupError(f'Can\'t find attribute "href" in tag "a" at byte offset {at}')
            stack.append((name, out.length, attrs))
        i = tag.end()
    if stack:
        raise MarkupError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return out.result()


def _close_html_entity(out: _Builder, name: str, start: int, attrs: dict[str, str], stack: list) -> None:
    kind = _HTML_KINDS[name]
    if kind == "text_link":
        out.entity(start, kind, url=attrs["href"])
    elif kind == "custom_emoji":
        out.entity(start, kind, custom_emoji_id=attrs.get("emoji-id", ""))
    elif kind == "blockquote" and "expandable" in attrs:
        out.entity(start, "expandable_blockquote")
    elif kind == "code" and stack and stack[-1][0] == "pre" and attrs.get("class", "").startswith("language-"):
        # <pre><code class="language-x"> is one pre entity with a language, not two entities.
        stack[-1][2]["language"] = attrs["class"].removeprefix("language-")
    elif kind == "pre" and "language" in attrs:
        out.entity(start, kind, language=attrs["language"])
    else:
        out.entity(start, kind)


# ----- MarkdownV2 ----------------------------------------------------------------------------------

_RESERVED = set("_*[]()~`>#+-=|{}.!")
_MD_MARKERS = {"*": "bold", "_": "italic", "__": "underline", "~": "strikethrough", "||": "spoiler"}
_MD_NAMES = {"bold": "Bold", "italic": "Italic", "underline": "Underline", "strikethrough": "Strikethrough",
             "spoiler": "Spoiler", "text_link": "TextUrl", "code": "Code", "pre": "Pre"}


def _parse_markdown_v2(text: str) -> tuple[str, list[dict]]:
    out = _Builder()
    stack: list[tuple[str, int, int]] = []  # (marker, start in plain text, byte offset of the marker)
    i = 0
    while i < len(text):
        char = text[i]
        at = _byte_offset(text, i)
        if char == "\\":
            if i + 1 >= len(text):
                raise MarkupError("Character '\\' is reserved and must be escaped with the preceding '\\'")
            out.add(text[i + 1])
            i += 2
        elif char == "`":
            i = _markdown_code(text, i, out)
        elif char == "]" and any(marker == "[" for marker, _, _ in stack):
            if stack[-1][0] != "[":
                raise MarkupError(f"Can't find end of {_MD_NAMES[_MD_MARKERS[stack[-1][0]]]} entity "
                                  f"at byte offset {stack[-1][2]}")
            _, start, _ = stack.pop()
            url = re.match(r"\(((?:\\.|[^)\\])*)\)", text[i + 1:])
            if url is None:
                raise MarkupError(f"Can't find end of a URL at byte offset {at}")
            out.entity(start, "text_link", url=re.sub(r"\\(.)", r"\1", url[1]))
            i += 1 + url.end()
        elif char == "[":
            stack.append(("[", out.length, at))
            i += 1
        elif char == ">" and (i == 0 or text[i - 1] == "\n"):
            i = _markdown_quote(text, i, out)
        elif (marker := text[i:i + 2]) in ("__", "||") or (marker := char) in ("*", "_", "~"):
            if stack and stack[-1][0] == marker:
                _, start, _ = stack.pop()
                out.entity(start, _MD_MARKERS[marker])
            else:
                stack.append((marker, out.length, at))
            i += len(marker)
        elif char in _RESERVED:
            raise MarkupError(f"Character '{char}' is reserved and must be escaped with the preceding '\\'")
        else:
            out.add(char)
            i += 1
    if stack:
        marker, _, at = stack[-1]
        name = "TextUrl" if marker == "[" else _MD_NAMES[_MD_MARKERS[marker]]
        raise MarkupError(f"Can't find end of {name} entity at byte offset {at}")
    return out.result()


def _markdown_code(text: str, i: int, out: _Builder) -> int:
    fence = "```" if text.startswith("```", i) else "`"
    body = re.match(r"((?:\\.|[^\\])*?)" + re.escape(fence), text[i + len(fence):], re.S)
    if body is None:
        raise MarkupError(f"Can't find end of {'Pre' if fence == '```' else 'Code'} entity "
                          f"at byte offset {_byte_offset(text, i)}")
    content = re.sub(r"\\(.)", r"\1", body[1], flags=re.S)
    start = out.length
    if fence == "`":
        out.add(content)
        out.entity(start, "code")
    else:
        language, newline, code = content.partition("\n")
        if newline and language and " " not in language:
            out.add(code)
            out.entity(start, "pre", language=language)
        else:
            out.add(content)
            out.entity(start, "pre")
    return i + len(fence) + body.end()


def _markdown_quote(text: str, i: int, out: _Builder) -> int:
    """A `>` line: its content is parsed like the rest, and wrapped in a blockquote entity."""
    end = text.find("\n", i)
    end = len(text) if end == -1 else end
    plain, entities = _parse_markdown_v2(text[i + 1:end])
    start = out.length
    for entity in entities:
        out.entities.append({**entity, "offset": entity["offset"] + start})
    out.add(plain)
    out.entity(start, "blockquote")
    return end
