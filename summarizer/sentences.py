"""Sentence splitting in the text's language, and the test of what counts as a whole sentence.

English goes through blingfire, about 300 times faster than pysbd, which breaks after titles
("Dr. | Who") and before speech tags ('"Why?" | she asked.'): those splits are merged back here, and
Daily Mail photo captions glued to the next sentence without punctuation ("...in woodland In many of
the pictures...") are cut apart. Other languages go through pysbd's rules for that language when it has
them (ordinals and dates such as "am 25. Juni", abbreviations such as "z. B."), else blingfire with a
generic repair for ordinals. In every language a split that leaves a quotation open is merged back.
"""

from __future__ import annotations

import re

from functools import lru_cache

import blingfire

# Abbreviations that precede a name or a number, so a period after them does not end a sentence.
_TITLES = {
    "mr", "mrs", "ms", "dr", "prof", "st", "gen", "sen", "rep", "gov", "lt", "col", "sgt", "capt", "cpl",
    "maj", "adm", "cmdr", "rev", "hon", "pres", "supt", "insp", "det", "fr", "mt", "ft", "ave", "vs", "v",
    "no", "nos", "vol", "fig", "pp", "jan", "feb", "aug", "sept", "oct", "nov", "dec", "u.s", "u.k", "e.g", "i.e",
}
# The last word and its period, matched on the reversed sentence: anchored at the start, so linear
# (searched for with "$" instead, a long run of letters is rescanned from each of them).
_LAST_WORD_REVERSED = re.compile(r"\.([A-Za-z.]*[A-Za-z])")
_OPENS_LOWER = re.compile(r"^[\"'“‘(\[]*[a-z](?![A-Z])")  # "she asked", but not "iPhone"
_ENDS_SENTENCE = re.compile(r"[.!?…][\"'”’)\]]*$")
# A caption glued to the next sentence: a lower-case word, then a capitalised function word that starts
# a clause, followed by a lower-case word ("woodland In many", "adverts The photoshoots").
_GLUED_CAPTION = re.compile(
    r"(?<=[a-z0-9%’'])\s+(?=(?:In|The|Some|Many|His|Her|Their|Its|This|These|Those|They|He|She|It|We|"
    r"But|And|As|After|When|While|However|Pictured|Above|Below|Here|There|Police|Officials)\s+[a-z])"
)
MAX_SENTENCE_CHARS = 600  # a run-on "sentence" longer than this is cut at clause or word boundaries
PYSBD_LANGUAGES = frozenset("am ar bg da de el es fa fr hi hy it ja kk mr my nl pl ru sk ur zh".split())
_ORDINAL_END = re.compile(r"(?:^|[\s(])\d{1,2}\.$")  # "am 25." of "am 25. Juni"
_CLOSING = re.compile(r"[.!?…。！？؟।][\"'”’»)\]]*$")
_DOUBTFUL_BREAK = re.compile(r"(?:^|[\s(])(?:\d+|[^\W\d_]{1,5}|(?:[^\W\d_]\.)+[^\W\d_]?)\.$")
_LEADING_CLOSER = re.compile(r"^([»”“\"]+)(?:\s+|$)")
# A quotation closed after its full stop, then a new sentence: « ... reste. » L'équipage ...
_AFTER_QUOTE = re.compile(r"(?:(?<=[.!?…] »)|(?<=[.!?…][»”\"]))\s+(?=[A-ZÀ-ÖØ-Þ])")
_DANDA = re.compile(r"(?<=[।॥])\s*")  # Bengali, Hindi and Marathi end sentences with a danda
_LIST_MARK = re.compile(r"^\s*(?:[-–—*•·▪►|]|\d+[.)]\s)")
_SPACELESS = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\u0e00-\u0e7f]")  # Japanese, Chinese, Thai
MIN_WORDS = 4
# A table row as the page reader writes it ("Monday | 9:00 | Harbour"), or a line wholly in brackets: an
# editor's insert or a link to another story ("[Read: Who will win the primary?]").
_NOT_PROSE = re.compile(r"\s\|\s|^\s*\[[^\]]*\][.!?]?\s*$")
# A photo caption carries its credit ("... in the harbour. Photo: J. Smith", "(Foto: dpa)", "© Reuters"); an
# update stamp opens with its words ("Updated on 7 January.", "Article mis à jour le 7 janvier 2020.").
_CAPTION_OR_STAMP = re.compile(
    r"©|\b(?:Photo|Foto|Fotos|Fot|Bild|Bildquelle|Image|Picture|Crédito|Crédit|Credit)\s*:\s*\S"
    r"|^(?:Article |Artikel |Post )?(?:updated|last updated|mis à jour|aktualisiert|actualizado|atualizado)\b",
    re.IGNORECASE)


def split_sentences(text: str, language: str | None = None) -> list[str]:
    """The sentences of a text, in order. Paragraph breaks (blank lines or single newlines) always split.

    `language` (an ISO 639-1 code) picks the rules; None or "en" is English.
    """
    sentences: list[str] = []
    english = language in (None, "en")
    segmenter = _segmenter(language) if language in PYSBD_LANGUAGES else None
    for paragraph in text.split("\n"):  # not re.split(r"\s*\n\s*"): quadratic on a long run of spaces
        paragraph = " ".join(paragraph.split())
        if not paragraph:
            continue
        pieces = blingfire.text_to_sentences(paragraph).split("\n")
        if segmenter is not None and any(_DOUBTFUL_BREAK.search(piece) for piece in pieces[:-1]):
            # pysbd knows the language's abbreviations and ordinals but costs ~300x blingfire: it decides
            # only where blingfire broke after a number or a short word.
            # It still breaks after a numeric date before the sentence goes on ("vom 7.10. | wurde ..."):
            # a piece that opens in lower case continues the one before.
            pieces = _merge_false_breaks([piece.strip() for piece in segmenter.segment(paragraph)])
        else:
            pieces = _merge_false_breaks(pieces, ordinals=not english)
        pieces = [part for piece in pieces for part in _DANDA.split(piece) if part]
        pieces = [part for piece in pieces for part in _AFTER_QUOTE.split(piece) if part]
        for sentence in _merge_open_quotes(pieces):
            for part in _GLUED_CAPTION.split(sentence) if english else [sentence]:
                sentences.extend(_cut_long(part))
    return [sentence for sentence in sentences if sentence]


def is_whole_sentence(sentence: str, language: str | None = None, *, needs_closing: bool = True) -> bool:
    """A sentence a reader can take as it is: it opens like one, ends like one, has a few words, and is not
    a heading, list item, table row, all-capitals dateline or a fragment cut at a quote or an ordinal.

    `needs_closing=False` accepts a line of eight words or more without closing punctuation (pasted news
    often sets its key lines so)."""
    text = sentence.strip()
    if _SPACELESS.search(text):
        long_enough = len(text) >= 12
    else:
        long_enough = len(re.findall(r"[^\W_]+", text)) >= MIN_WORDS
    closed = bool(_CLOSING.search(text)) or (not needs_closing and len(text.split()) >= 8)
    if not long_enough or not closed or _LIST_MARK.match(text) or _NOT_PROSE.search(text) \
            or _CAPTION_OR_STAMP.search(text):
        return False
    first = next((ch for ch in text if ch.isalnum()), "")
    if first.islower():
        return False
    if language not in (None, "en") and _ORDINAL_END.search(text.rstrip("\"'”’»)]")):
        return False  # "am 25." cut from "Juni"; in English "since February 5." is whole
    cased = [ch for ch in text if ch.upper() != ch.lower()]
    if len(cased) >= 8 and all(ch.isupper() for ch in cased):
        return False
    return balanced(text)


def balanced(text: str) -> bool:
    """Quotes and brackets close as they open ("„...“" in German, "«...»" in French, '"..."')."""
    if text.count('"') % 2 or text.count("«") != text.count("»") or text.count("(") != text.count(")"):
        return False
    if "„" in text:
        return text.count("„") == text.count("“") + text.count("”")
    return text.count("“") == text.count("”")


@lru_cache(maxsize=32)
def _segmenter(language: str):
    import pysbd

    return pysbd.Segmenter(language=language, clean=False)


def _merge_open_quotes(pieces: list[str]) -> list[str]:
    """A quotation split at a full stop inside it ('„Wir gehen.' | 'Dann kommen wir“') is one sentence."""
    merged: list[str] = []
    for piece in pieces:
        if merged and _quote_open(merged[-1]) and (closing := _LEADING_CLOSER.match(piece)):
            merged[-1] = f"{merged[-1]} {closing.group(1)}"  # French « ... reste. » split before its »
            piece = piece[closing.end():]
        if not piece:
            continue
        if merged and _quote_open(merged[-1]) and len(merged[-1]) + len(piece) < MAX_SENTENCE_CHARS:
            merged[-1] = f"{merged[-1]} {piece}"
        else:
            merged.append(piece)
    return merged


def _quote_open(text: str) -> bool:
    if text.count('"') % 2 or text.count("«") > text.count("»"):
        return True
    if "„" in text:
        return text.count("„") > text.count("“") + text.count("”")
    return text.count("“") > text.count("”")


def ends_like_sentence(sentence: str) -> bool:
    """False for caption fragments and headings, which carry no closing punctuation."""
    return bool(_ENDS_SENTENCE.search(sentence))


def _merge_false_breaks(pieces: list[str], *, ordinals: bool = False) -> list[str]:
    merged: list[str] = []
    for piece in (p.strip() for p in pieces):
        if not piece:
            continue
        if merged and (_after_title(merged[-1], piece) or _OPENS_LOWER.match(piece) or not re.search(r"\w", piece)
                       or (ordinals and _ORDINAL_END.search(merged[-1]))):
            merged[-1] = f"{merged[-1]} {piece}"
        else:
            merged.append(piece)
    return merged


def _after_title(previous: str, following: str) -> bool:
    match = _LAST_WORD_REVERSED.match(previous[::-1])
    if not match:
        return False
    word = match.group(1)[::-1].lower()
    if word in ("no", "nos"):  # "No. 10" but not "The answer was no. Then..."
        return following[:1].isdigit()
    return word in _TITLES and not previous.endswith("..")


def _cut_long(sentence: str) -> list[str]:
    parts, rest = [], sentence
    while len(rest) > MAX_SENTENCE_CHARS:
        window = rest[:MAX_SENTENCE_CHARS]
        cut = max(window.rfind("; "), window.rfind(", "), window.rfind(" - "))
        if cut < MAX_SENTENCE_CHARS // 3:
            cut = window.rfind(" ")
        if cut <= 0:
            cut = MAX_SENTENCE_CHARS
        parts.append(rest[: cut + 1].strip())
        rest = rest[cut + 1 :].strip()
    parts.append(rest)
    return parts
