"""Outside text made neutral: no invisible character may change how a message reads.

Feed titles, headlines, page text and what people type can carry characters that are not shown but
change what is: U+202E turns "gpj.exe" into "exe.jpg" on screen, a zero-width space splits "missile"
so no alert matches it, control characters break clients. `neutral_text` removes them:

- C0 and C1 control characters, except tab and newline (a carriage return goes too);
- bidirectional controls: U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069;
- invisible characters: zero-width space U+200B, word joiner and invisible operators U+2060-U+2064,
  U+FEFF, U+180E, soft hyphen U+00AD, interlinear annotation marks U+FFF9-U+FFFB;
- zero-width joiner and non-joiner (U+200D, U+200C) next to ASCII, a space or either end of the text.
  Between two other characters they are kept: they join emoji sequences (👩‍💻) and shape Arabic,
  Persian and Indic writing, where they are part of correct spelling.
"""

from __future__ import annotations

import re

_INVISIBLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064"
    "\u2066-\u2069\ufeff\ufff9-\ufffb]"
)
# A joiner not between two non-ASCII, non-space characters.
_STRAY_JOINER = re.compile("(?<![^\x00-\x7f\\s])[\u200c\u200d]|[\u200c\u200d](?![^\x00-\x7f\\s])")


def neutral_text(text: str) -> str:
    """`text` without the invisible characters listed above; everything else exactly as it was."""
    text = _INVISIBLE.sub("", text)
    if "\u200c" in text or "\u200d" in text:
        text = _STRAY_JOINER.sub("", text)
    return text


def neutral_or_none(text: str | None) -> str | None:
    return neutral_text(text) if text else text
